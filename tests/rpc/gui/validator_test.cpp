// Every refusal and every clamp of GuiValidator, one rule at a time, on hand-written frames.
#include "gui_test_util.h"

#include <catch2/catch.hpp>

#include <string>

using namespace bulkhead;
using namespace bulkhead::rpc::gui;
using namespace gui_test;

namespace {

bool refused(Bytes const& b, Direction d = Direction::FromGuest, Limits const& l = {},
             Session s = Session::Established) {
    auto r = decode(b, d, l, s);
    return !r.has_value() &&
           (r.error().code() == Errc::Protocol || r.error().code() == Errc::Limit);
}

template <typename T>
T as(Bytes const& b, Direction d = Direction::FromGuest, Limits const& l = {}) {
    auto r = decode(b, d, l);
    REQUIRE(r.has_value());
    REQUIRE(std::holds_alternative<T>(r->message));
    return std::get<T>(r->message);
}

} // namespace

TEST_CASE("gui validator: truncated and mismatched frames") {
    CHECK(refused({}));
    CHECK(refused(Bytes(11)));
    auto ok = frame(0x109, 1, {0});
    CHECK_FALSE(refused(ok));
    auto shorter = ok;
    shorter.pop_back();
    CHECK(refused(shorter)); // payload shorter than len
    auto longer = ok;
    longer.push_back(std::byte{0});
    CHECK(refused(longer)); // trailing byte
    // header() alone refuses anything but 12 bytes
    CHECK_FALSE(GuiValidator::header(UntrustedBytes(std::span<std::byte const>(ok).first(11)),
                                     Direction::FromGuest, Session::Established)
                    .has_value());
}

TEST_CASE("gui validator: unknown message types are refused") {
    for (uint32_t t : {0u, 2u, 0x100u, 0x10bu, 0x200u, 0x208u, 0x300u, 0x303u, 0xffffffffu})
        CHECK(refused(frame(t, 1, {}), Direction::FromGuest));
    for (uint32_t t : {0u, 0x100u, 0x208u, 0x303u})
        CHECK(refused(frame(t, 1, {}), Direction::FromDaemon));
}

TEST_CASE("gui validator: each type only in its direction") {
    // A guest cannot send input events, focus, close or clipboard requests to dom0.
    CHECK(refused(frame(0x201, 1, {1, 38, 0})));
    CHECK(refused(frame(0x205, 1, {1})));
    CHECK(refused(frame(0x206, 1, {})));
    CHECK(refused(frame(0x207, 0, {})));
    // dom0 does not send window creation to a guest.
    CHECK(refused(frame(0x101, 1, {0, 0, 1, 1, 0, 0}), Direction::FromDaemon));
    CHECK(refused(frame(0x105, 1, {}), Direction::FromDaemon));
}

TEST_CASE("gui validator: HELLO first, and only first") {
    auto hello = encode(0, Hello{});
    CHECK(refused(hello, Direction::FromGuest, {}, Session::Established));
    CHECK_FALSE(refused(hello, Direction::FromGuest, {}, Session::BeforeHello));
    CHECK(refused(frame(0x104, 1, {}), Direction::FromGuest, {}, Session::BeforeHello));
    auto reserved = frame(0x001, 0, {1, 1});
    CHECK(refused(reserved, Direction::FromGuest, {}, Session::BeforeHello));
    CHECK(refused(frame(0x001, 3, {1, 0}), Direction::FromGuest, {}, Session::BeforeHello));
}

TEST_CASE("gui validator: version negotiation") {
    CHECK(negotiate(Hello{protocol_major, 0}).value() == 0);
    CHECK(negotiate(Hello{protocol_major, 9}).value() == protocol_minor);
    auto other = negotiate(Hello{uint16_t(protocol_major + 1), 0});
    REQUIRE_FALSE(other.has_value());
    CHECK(other.error().code() == Errc::Unsupported);
    CHECK_FALSE(negotiate(Hello{0, 0}).has_value());
}

TEST_CASE("gui validator: window ids are bounded") {
    CHECK(refused(frame(0x104, 0, {})));          // a window message needs a window
    CHECK(refused(frame(0x104, 0x20000000, {}))); // past 29 bits
    CHECK_FALSE(refused(frame(0x104, 0x1fffffff, {})));
    Limits small;
    small.max_window_id = 100;
    CHECK(refused(frame(0x104, 101, {}), Direction::FromGuest, small));
    CHECK(refused(frame_raw(0x302, 1, {})));                      // clipboard names no window
    CHECK(refused(frame(0x101, 1, {0, 0, 1, 1, 0x20000000, 0}))); // parent out of range
    CHECK(refused(frame(0x103, 1, {0x20000000, 0})));             // transient_for out of range
}

TEST_CASE("gui validator: fixed sizes are exact") {
    struct {
        uint32_t type;
        size_t size;
    } fixed[] = {{0x101, 24}, {0x102, 0},  {0x103, 8}, {0x104, 0},  {0x105, 256}, {0x106, 128},
                 {0x107, 36}, {0x108, 16}, {0x109, 4}, {0x10a, 32}, {0x301, 20}};
    for (auto f : fixed) {
        CAPTURE(f.type);
        CHECK(refused(frame_raw(f.type, 1, Bytes(f.size + 1))));
        if (f.size)
            CHECK(refused(frame_raw(f.type, 1, Bytes(f.size - 1))));
        Bytes huge;
        u32(huge, f.type);
        u32(huge, 1);
        u32(huge, 0xffffffff);
        CHECK_FALSE(GuiValidator::header(UntrustedBytes(std::span<std::byte const>(huge)),
                                         Direction::FromGuest, Session::Established)
                        .has_value());
    }
}

TEST_CASE("gui validator: clipboard data is capped") {
    CHECK_FALSE(refused(frame_raw(0x302, 0, Bytes(256000))));
    auto over = decode(frame_raw(0x302, 0, Bytes(256001)));
    REQUIRE_FALSE(over.has_value());
    CHECK(over.error().code() == Errc::Limit);
    Limits l;
    l.max_clipboard = 10;
    CHECK(refused(frame_raw(0x302, 0, Bytes(11)), Direction::FromGuest, l));
    CHECK_FALSE(refused(frame_raw(0x302, 0, Bytes(10)), Direction::FromGuest, l));
}

TEST_CASE("gui validator: window geometry is capped and clamped") {
    auto c = as<Create>(frame(0x101, 1, {0x80000000u, 100000, 0xffffffffu, 7000, 0, 0}));
    CHECK(c.rect == Rect{-32767, 32767, 16384, 6144});
    CHECK(refused(frame(0x101, 1, {0, 0, 0, 10, 0, 0}))); // zero width
    CHECK(refused(frame(0x101, 1, {0, 0, 10, 0, 0, 0}))); // zero height
    CHECK(refused(frame(0x101, 1, {0, 0, 1, 1, 0, 2})));  // unknown flag bit
    CHECK(refused(frame(0x101, 1, {0, 0, 1, 1, 0, 0x80000000u})));
    auto conf = as<Configure>(frame(0x301, 1, {uint32_t(-40000), 5, 20000, 6145, 1}));
    CHECK(conf.rect == Rect{-32767, 5, 16384, 6144});
    CHECK(conf.override_redirect == OverrideRedirect::Yes);
    CHECK(refused(frame(0x301, 1, {0, 0, 0, 0, 0})));
    CHECK(refused(frame(0x103, 1, {0, 4})));
    Limits l;
    l.max_width = 1920;
    l.max_height = 1080;
    l.max_coord = 5000;
    auto small = as<Create>(frame(0x101, 1, {9999, uint32_t(-9999), 4000, 4000, 0, 0}),
                            Direction::FromGuest, l);
    CHECK(small.rect == Rect{5000, -5000, 1920, 1080});
}

TEST_CASE("gui validator: size hints") {
    CHECK(refused(frame(0x107, 1, {0x10, 0, 0, 0, 0, 0, 0, 0, 0})));
    auto h = as<SetHints>(frame(0x107, 1, {hint_all, 900, 700, 800, 0xffffffffu, 1, 1, 2, 2}));
    CHECK(h.max == Size{800, 6144});
    CHECK(h.min == Size{800, 700}); // min never above max
    auto unset = as<SetHints>(frame(0x107, 1, {hint_min_size, 5, 6, 7, 8, 9, 10, 11, 12}));
    CHECK(unset.min == Size{5, 6});
    CHECK(unset.max == Size{});
    CHECK(unset.inc == Size{});
    CHECK(unset.base == Size{});
}

TEST_CASE("gui validator: damage is clipped to the size caps") {
    auto d = as<Damage>(frame(0x108, 1, {uint32_t(-5), 6000, 0xffffffffu, 500}));
    CHECK(d.rect == Rect{0, 6000, 16384, 144});
    auto far = as<Damage>(frame(0x108, 1, {20000, 7000, 10, 10}));
    CHECK(far.rect == Rect{16384, 6144, 0, 0});
}

TEST_CASE("gui validator: cursor shapes") {
    CHECK(as<SetCursor>(frame(0x109, 1, {0})).shape == 0);
    CHECK(as<SetCursor>(frame(0x109, 1, {152})).shape == 152);
    CHECK(refused(frame(0x109, 1, {3})));
    CHECK(refused(frame(0x109, 1, {154})));
    CHECK(refused(frame(0x109, 1, {0xffffffffu})));
}

TEST_CASE("gui validator: shared memory regions") {
    auto shm = [](uint32_t kind, uint32_t handle, uint32_t w, uint32_t h, uint32_t stride,
                  uint32_t format, uint64_t size) {
        return frame(0x10a, 1,
                     {kind, handle, w, h, stride, format, uint32_t(size), uint32_t(size >> 32)});
    };
    CHECK_FALSE(refused(shm(1, 0, 10, 10, 40, 1, 400)));
    CHECK_FALSE(refused(shm(1, 0, 10, 10, 40, 1, 4096))); // rounded up to a page
    CHECK(refused(shm(1, 0, 10, 10, 40, 1, 4097)));       // past the page
    CHECK(refused(shm(1, 0, 10, 10, 40, 1, 399)));        // too small for the pixels
    CHECK(refused(shm(0, 0, 10, 10, 40, 1, 400)));        // unknown kind
    CHECK(refused(shm(3, 0, 10, 10, 40, 1, 400)));
    CHECK(refused(shm(1, 1, 10, 10, 40, 1, 400)));             // memfd handle must be 0
    CHECK_FALSE(refused(shm(2, 1, 10, 10, 40, 1, 4096)));      // grant: 1 page, 1 reference
    CHECK(refused(shm(2, 0, 10, 10, 40, 1, 4096)));            // grant without references
    CHECK(refused(shm(2, 2, 10, 10, 40, 1, 4096)));            // more references than pages
    CHECK(refused(shm(2, 1, 10, 10, 40, 1, 400)));             // grants are whole pages
    CHECK_FALSE(refused(shm(2, 2, 1024, 2, 4096, 1, 8192)));   // 2 pages, 2 references
    CHECK(refused(shm(1, 0, 10, 10, 40, 2, 400)));             // unknown format
    CHECK(refused(shm(1, 0, 0, 10, 40, 1, 400)));              // zero width
    CHECK(refused(shm(1, 0, 10, 0, 40, 1, 0)));                // zero height
    CHECK(refused(shm(1, 0, 16385, 1, 65540, 1, 65540)));      // over the width cap
    CHECK(refused(shm(1, 0, 1, 6145, 4, 1, 6145 * 4)));        // over the height cap
    CHECK(refused(shm(1, 0, 10, 10, 42, 1, 420)));             // stride not a multiple of 4
    CHECK(refused(shm(1, 0, 10, 10, 36, 1, 360)));             // stride below width * 4
    CHECK(refused(shm(1, 0, 10, 1, 16384 * 4 + 4, 1, 65540))); // stride past the cap
    uint64_t big = uint64_t(16384) * 4 * 6144;
    CHECK_FALSE(refused(shm(1, 0, 16384, 6144, 16384 * 4, 1, big)));
    CHECK(refused(shm(1, 0, 16384, 6144, 16384 * 4, 1, big + (uint64_t(1) << 32))));
    CHECK_FALSE(refused(shm(2, uint32_t(big / 4096), 16384, 6144, 16384 * 4, 1, big)));
}

TEST_CASE("gui validator: grant references (Xen)") {
    auto refs = [](size_t n) {
        Bytes b;
        for (size_t i = 0; i < n; ++i)
            u32(b, uint32_t(1000 + i));
        return frame_raw(0x10b, 5, b);
    };
    auto one = as<GrantRefs>(refs(1));
    CHECK(one.refs == std::vector<uint32_t>{1000});
    auto full = as<GrantRefs>(refs(max_grant_refs_per_message));
    REQUIRE(full.refs.size() == max_grant_refs_per_message);
    CHECK(full.refs.back() == 1000 + max_grant_refs_per_message - 1);
    CHECK(refused(refs(0)));                              // none
    CHECK(refused(refs(max_grant_refs_per_message + 1))); // over a message's cap
    CHECK(refused(frame_raw(0x10b, 5, Bytes(6))));        // not whole references
    CHECK(refused(frame_raw(0x10b, 0, Bytes(4))));        // names no window
    CHECK(refused(refs(1), Direction::FromDaemon));       // dom0 never sends them
    // Round trip through the encoder.
    auto enc = encode(5, GrantRefs{{7, 8, 9}});
    CHECK(as<GrantRefs>(enc).refs == std::vector<uint32_t>{7, 8, 9});
}

TEST_CASE("gui validator: input events a guest reads") {
    auto d = Direction::FromDaemon;
    CHECK(refused(frame(0x201, 1, {0, 38, 0}), d));
    CHECK(refused(frame(0x201, 1, {3, 38, 0}), d));
    CHECK(refused(frame(0x201, 1, {1, 7, 0}), d));
    CHECK(refused(frame(0x201, 1, {1, 256, 0}), d));
    CHECK(refused(frame(0x201, 1, {1, 38, 0x2000}), d));
    CHECK(refused(frame(0x202, 1, {1, 0, 0, 0, 0}), d));
    CHECK(refused(frame(0x202, 1, {1, 32, 0, 0, 0}), d));
    CHECK(refused(frame(0x202, 1, {9, 1, 0, 0, 0}), d));
    auto b = as<Button>(frame(0x202, 1, {1, 1, 0x7fffffffu, 0x80000000u, 0}), d);
    CHECK(b.x == 32767);
    CHECK(b.y == -32767);
    CHECK(refused(frame(0x203, 1, {0, 0, 0xffffffffu}), d));
    CHECK(refused(frame(0x204, 1, {0, 0, 0, 0}), d));
    CHECK(refused(frame(0x205, 1, {3}), d));
    CHECK(refused(frame(0x206, 0, {}), d)); // close names a window
}

TEST_CASE("gui validator: titles are sanitized and capped") {
    Bytes p;
    text(p, std::string("a\x1b[31mb\x07\xc3", 9) + "\x7f" + "\xe2\x80\xae" + "c", 256);
    CHECK(as<SetTitle>(frame_raw(0x105, 1, p)).title == "a[31mb\xef\xbf\xbd"
                                                        "c");
    // No NUL at all: the 256 bytes are cut to the 255-byte cap.
    Bytes full(256, std::byte('x'));
    CHECK(as<SetTitle>(frame_raw(0x105, 1, full)).title == std::string(255, 'x'));
    // Bytes after the NUL are padding.
    Bytes pad(256, std::byte{0});
    pad[0] = std::byte('o');
    pad[1] = std::byte('k');
    pad[5] = std::byte('!');
    CHECK(as<SetTitle>(frame_raw(0x105, 1, pad)).title == "ok");
    Limits l;
    l.max_title_bytes = 4;
    Bytes u;
    text(u, "ab\xc3\xa9\xc3\xa9", 256);
    CHECK(as<SetTitle>(frame_raw(0x105, 1, u), Direction::FromGuest, l).title == "ab\xc3\xa9");
    Bytes cls;
    text(cls, "X\nTerm", 64);
    text(cls, std::string(63, 'n'), 64);
    auto c = as<SetClass>(frame_raw(0x106, 1, cls));
    CHECK(c.res_class == "XTerm");
    CHECK(c.res_name == std::string(63, 'n'));
}
