// Exact byte layouts of every GUI message: each frame is written here by hand, byte by byte,
// and must equal encode() of the typed message and decode back to it through the validator.
#include "gui_test_util.h"

#include <catch2/catch.hpp>

using namespace bulkhead;
using namespace bulkhead::rpc::gui;
using namespace gui_test;

namespace {

void same(Bytes const& wire, WindowId window, Message const& m, Direction d,
          Session s = Session::Established) {
    CHECK(encode(window, m) == wire);
    auto got = decode(wire, d, {}, s);
    REQUIRE(got.has_value());
    CHECK(got->window == window);
    CHECK(got->message == m);
}

} // namespace

TEST_CASE("gui layout: header is type, window, len, little-endian") {
    auto b = encode(0x0a0b0c0d, Unmap{});
    CHECK(b == Bytes{std::byte(0x04), std::byte(0x01), std::byte(0), std::byte(0), //
                     std::byte(0x0d), std::byte(0x0c), std::byte(0x0b), std::byte(0x0a),
                     std::byte(0), std::byte(0), std::byte(0), std::byte(0)});
    CHECK(header_size == 12);
}

TEST_CASE("gui layout: hello") {
    Bytes w;
    u32(w, 0x001);
    u32(w, 0);
    u32(w, 8);
    u16(w, 1);
    u16(w, 7);
    u32(w, 0);
    same(w, 0, Hello{1, 7}, Direction::FromGuest, Session::BeforeHello);
    same(w, 0, Hello{1, 7}, Direction::FromDaemon, Session::BeforeHello);
}

TEST_CASE("gui layout: window lifecycle messages") {
    same(frame(0x101, 5, {uint32_t(-20), 30, 640, 480, 0, 0}), 5,
         Create{{-20, 30, 640, 480}, 0, OverrideRedirect::No}, Direction::FromGuest);
    same(frame(0x101, 6, {1, 2, 3, 4, 5, 1}), 6, Create{{1, 2, 3, 4}, 5, OverrideRedirect::Yes},
         Direction::FromGuest);
    same(frame(0x102, 5, {}), 5, Destroy{}, Direction::FromGuest);
    same(frame(0x103, 5, {9, 1}), 5, Map{9, OverrideRedirect::Yes}, Direction::FromGuest);
    same(frame(0x104, 5, {}), 5, Unmap{}, Direction::FromGuest);
    same(frame(0x301, 5, {10, 20, 300, 200, 0}), 5, Configure{{10, 20, 300, 200}},
         Direction::FromGuest);
    same(frame(0x301, 5, {10, 20, 300, 200, 1}), 5,
         Configure{{10, 20, 300, 200}, OverrideRedirect::Yes}, Direction::FromDaemon);
}

TEST_CASE("gui layout: title and class fields") {
    Bytes p;
    text(p, "Terminal — ünïcode", 256);
    same(frame_raw(0x105, 7, p), 7, SetTitle{"Terminal — ünïcode"}, Direction::FromGuest);
    Bytes c;
    text(c, "XTerm", 64);
    text(c, "xterm", 64);
    same(frame_raw(0x106, 7, c), 7, SetClass{"XTerm", "xterm"}, Direction::FromGuest);
}

TEST_CASE("gui layout: hints, damage, cursor, shm region") {
    same(frame(0x107, 3, {hint_min_size | hint_max_size, 100, 50, 800, 600, 0, 0, 0, 0}), 3,
         SetHints{hint_min_size | hint_max_size, {100, 50}, {800, 600}, {}, {}},
         Direction::FromGuest);
    same(frame(0x107, 3, {hint_resize_inc | hint_base_size, 0, 0, 0, 0, 6, 13, 4, 2}), 3,
         SetHints{hint_resize_inc | hint_base_size, {}, {}, {6, 13}, {4, 2}}, Direction::FromGuest);
    same(frame(0x108, 3, {0, 16, 100, 20}), 3, Damage{{0, 16, 100, 20}}, Direction::FromGuest);
    same(frame(0x109, 3, {68}), 3, SetCursor{68}, Direction::FromGuest);
    same(frame(0x10a, 3, {1, 0, 640, 480, 2560, 1, 2560 * 480, 0}), 3,
         ShmRegion{ShmKind::Memfd, 0, 640, 480, 2560, format_xrgb8888, 2560 * 480},
         Direction::FromGuest);
    same(frame(0x10a, 3, {2, 1, 1, 1, 4, 1, 4096, 0}), 3,
         ShmRegion{ShmKind::Grant, 1, 1, 1, 4, format_xrgb8888, 4096}, Direction::FromGuest);
    same(frame(0x10b, 3, {77, 78}), 3, GrantRefs{{77, 78}}, Direction::FromGuest);
}

TEST_CASE("gui layout: input events dom0 sends") {
    same(frame(0x201, 4, {1, 38, 0x5}), 4, Key{KeyAction::Press, 38, 0x5}, Direction::FromDaemon);
    same(frame(0x202, 4, {2, 3, uint32_t(-1), 40, 0x100}), 4,
         Button{ButtonAction::Release, 3, -1, 40, 0x100}, Direction::FromDaemon);
    same(frame(0x203, 4, {12, 34, 0}), 4, Motion{12, 34, 0}, Direction::FromDaemon);
    same(frame(0x204, 4, {2, 5, 6, 1}), 4, Crossing{CrossingKind::Leave, 5, 6, 1},
         Direction::FromDaemon);
    same(frame(0x205, 4, {1}), 4, Focus{FocusKind::In}, Direction::FromDaemon);
    same(frame(0x206, 4, {}), 4, CloseRequest{}, Direction::FromDaemon);
    same(frame(0x207, 0, {}), 0, ClipboardRequest{}, Direction::FromDaemon);
}

TEST_CASE("gui layout: clipboard data, both directions") {
    Bytes data{std::byte('h'), std::byte('i'), std::byte(0), std::byte(0xff)};
    same(frame_raw(0x302, 0, data), 0, ClipboardData{data}, Direction::FromGuest);
    same(frame_raw(0x302, 0, data), 0, ClipboardData{data}, Direction::FromDaemon);
    same(frame_raw(0x302, 0, {}), 0, ClipboardData{}, Direction::FromGuest);
}

TEST_CASE("gui layout: encode_to appends frames back to back") {
    Bytes out;
    encode_to(out, 1, Unmap{});
    encode_to(out, 2, SetCursor{0});
    REQUIRE(out.size() == header_size * 2 + 4);
    CHECK(decode(Bytes(out.begin(), out.begin() + 12))->window == 1);
    CHECK(decode(Bytes(out.begin() + 12, out.end()))->window == 2);
}

TEST_CASE("gui layout: message_type matches each alternative") {
    CHECK(message_type(Hello{}) == MsgType::Hello);
    CHECK(message_type(ClipboardData{}) == MsgType::ClipboardData);
    CHECK(message_type(Configure{}) == MsgType::Configure);
    CHECK(message_type(ShmRegion{}) == MsgType::ShmRegion);
    CHECK(message_type(ClipboardRequest{}) == MsgType::ClipboardRequest);
    CHECK(msg_type_name(MsgType::SetTitle) == "SET_TITLE");
}
