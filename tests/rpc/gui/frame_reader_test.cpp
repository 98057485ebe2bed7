// GuiFrameReader: sessions arriving in pieces (from memory and over a loopback Channel with
// short reads), HELLO rules and version negotiation, caps checked at the header, a failed
// reader staying failed, EOF between and within frames.
#include "gui_test_util.h"

#include <bulkhead/rpc/gui/frame_reader.h>
#include <bulkhead/rpc/loopback_channel.h>

#include <catch2/catch.hpp>

using namespace bulkhead;
using namespace bulkhead::rpc;
using namespace bulkhead::rpc::gui;
using namespace gui_test;

namespace {

Bytes session_bytes() {
    Bytes out;
    encode_to(out, 0, Hello{protocol_major, 3});
    encode_to(out, 9, Create{{1, 2, 30, 40}, 0, OverrideRedirect::No});
    encode_to(out, 9, SetTitle{"hello"});
    encode_to(out, 0, ClipboardData{Bytes(1000, std::byte{'x'})});
    encode_to(out, 9, Map{});
    return out;
}

std::vector<ValidatedMessage> read_all(GuiFrameReader& r, Bytes const& bytes, size_t chunk) {
    std::vector<ValidatedMessage> out;
    std::span<std::byte const> all(bytes);
    while (!all.empty()) {
        auto piece = all.first(std::min(chunk, all.size()));
        all = all.subspan(piece.size());
        for (;;) {
            auto m = r.next(piece);
            REQUIRE(m);
            if (!*m)
                break;
            out.push_back(std::move(**m));
        }
        CHECK(piece.empty());
    }
    return out;
}

} // namespace

TEST_CASE("gui reader: a session in pieces of any size") {
    for (size_t chunk : {size_t(1), size_t(5), size_t(12), size_t(13), size_t(4096)}) {
        CAPTURE(chunk);
        GuiFrameReader r(Direction::FromGuest);
        CHECK(r.session() == Session::BeforeHello);
        auto msgs = read_all(r, session_bytes(), chunk);
        REQUIRE(msgs.size() == 5);
        CHECK(r.session() == Session::Established);
        CHECK(r.minor() == protocol_minor); // the peer's 3 negotiated down to ours
        CHECK(std::holds_alternative<Hello>(msgs[0].message));
        CHECK(std::get<Create>(msgs[1].message).rect == Rect{1, 2, 30, 40});
        CHECK(std::get<SetTitle>(msgs[2].message).title == "hello");
        CHECK(std::get<ClipboardData>(msgs[3].message).bytes.size() == 1000);
        CHECK(msgs[4].window == 9);
        CHECK(r.buffered() == 0);
    }
}

TEST_CASE("gui reader: HELLO first, same major, and a failed reader stays failed") {
    GuiFrameReader before(Direction::FromGuest);
    auto unmap = encode(1, Unmap{});
    std::span<std::byte const> in(unmap);
    auto r = before.next(in);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::Protocol);
    auto hello = encode(0, Hello{});
    std::span<std::byte const> in2(hello);
    CHECK_FALSE(before.next(in2)); // still failed

    GuiFrameReader other(Direction::FromGuest);
    auto v2 = encode(0, Hello{uint16_t(protocol_major + 1), 0});
    std::span<std::byte const> in3(v2);
    auto m = other.next(in3);
    REQUIRE_FALSE(m);
    CHECK(m.error().code() == Errc::Unsupported);
}

TEST_CASE("gui reader: caps are checked at the header, before the payload") {
    Limits l;
    l.max_clipboard = 100;
    GuiFrameReader r(Direction::FromGuest, l);
    // The largest other payload: a full GRANT_REFS (1024 references).
    CHECK(r.capacity() == header_size + max_grant_refs_per_message * 4);
    auto bytes = encode(0, Hello{});
    Bytes hdr = frame_raw(0x302, 0, Bytes(101));
    hdr.resize(header_size); // only the header: refused without waiting for 101 bytes
    bytes.insert(bytes.end(), hdr.begin(), hdr.end());
    std::span<std::byte const> in(bytes);
    auto hello = r.next(in);
    REQUIRE(hello);
    REQUIRE(*hello);
    auto over = r.next(in);
    REQUIRE_FALSE(over);
    CHECK(over.error().code() == Errc::Limit);
    CHECK(GuiFrameReader(Direction::FromGuest).capacity() == header_size + 256000);
}

TEST_CASE("gui reader: over a loopback channel with short reads, then EOF") {
    auto pair = LoopbackChannel::create_pair(0, 5, 6000);
    REQUIRE(pair);
    auto& [dom0_end, guest_end] = *pair;
    LoopbackFaults f;
    f.max_read = 3;
    dom0_end->set_faults(f);
    auto bytes = session_bytes();
    REQUIRE(guest_end->write(bytes).value() == bytes.size());
    guest_end->close();
    GuiFrameReader r(Direction::FromGuest);
    std::vector<ValidatedMessage> got;
    for (;;) {
        auto m = r.next(*dom0_end);
        if (!m) {
            CHECK(m.error().code() == Errc::Closed); // clean EOF between frames
            break;
        }
        if (*m)
            got.push_back(std::move(**m));
    }
    CHECK(got.size() == 5);
}

TEST_CASE("gui reader: EOF inside a frame is a protocol error") {
    auto pair = LoopbackChannel::create_pair(0, 5, 6001);
    REQUIRE(pair);
    auto& [dom0_end, guest_end] = *pair;
    auto bytes = session_bytes();
    bytes.resize(bytes.size() - 3); // the last MAP loses its tail... (MAP is 20 bytes)
    REQUIRE(guest_end->write(bytes).value() == bytes.size());
    guest_end->close();
    GuiFrameReader r(Direction::FromGuest);
    size_t messages = 0;
    for (;;) {
        auto m = r.next(*dom0_end);
        if (!m) {
            CHECK(m.error().code() == Errc::Protocol);
            break;
        }
        if (*m)
            ++messages;
    }
    CHECK(messages == 4);
}
