// A hostile guest end to end: its raw bytes go through GuiValidator and then the Desktop, as
// in the daemon. Huge sizes are clamped, junk titles sanitized and de-spoofed, 10,000 windows
// cut it off, a damage flood is throttled — while another domain's window keeps updating.
#include "model_test_util.h"

#include <bulkhead/rpc/gui/encode.h>

#include <cstring>

using namespace model_test;

namespace {

std::vector<std::byte> raw(uint32_t type, uint32_t window, std::vector<uint32_t> words) {
    std::vector<std::byte> out;
    auto put = [&](uint32_t v) {
        for (int i = 0; i < 4; ++i)
            out.push_back(std::byte(v >> (8 * i)));
    };
    put(type);
    put(window);
    put(uint32_t(words.size() * 4));
    for (auto w : words)
        put(w);
    return out;
}

// What the daemon does with one frame from a domain: validate, then apply.
struct Session {
    Fixture& f;
    std::string domain;
    size_t refused = 0;
    bool feed(std::vector<std::byte> const& frame) {
        auto m = rg::GuiValidator::frame(rg::UntrustedBytes(std::span<std::byte const>(frame)),
                                         rg::Direction::FromGuest, rg::Session::Established);
        if (!m) {
            ++refused;
            return false;
        }
        if (!f.desktop.apply(domain, *m, f.t0)) {
            ++refused;
            return false;
        }
        return true;
    }
};

} // namespace

TEST_CASE("hostile: huge geometry is clamped, junk titles sanitized and de-spoofed") {
    Fixture f;
    Session s{f, "untrusted"};
    REQUIRE(s.feed(raw(0x101, 1, {0x80000000u, 0x7fffffffu, 0xffffffffu, 0xffffffffu, 0, 1})));
    REQUIRE(s.feed(raw(0x103, 1, {0, 1})));
    auto const* w = f.desktop.find("untrusted", 1);
    REQUIRE(w);
    CHECK(w->rect == Rect{-32767, 32767, 16384, 6144});
    CHECK(w->frame() == FrameKind::DaemonBorder); // entirely off screen: covers nothing
    std::vector<uint32_t> title(64, 0);
    char const junk[] = "\xe2\x80\xae[dom0]\x1b[2J \xff Settings";
    std::memcpy(title.data(), junk, sizeof junk - 1);
    REQUIRE(s.feed(raw(0x105, 1, title)));
    CHECK(w->title == "[untrusted] 2J \xef\xbf\xbd Settings"); // "[" of "[2J" dropped too
    // Refused outright: zero size, unknown flag bits, a window id past 29 bits.
    CHECK_FALSE(s.feed(raw(0x101, 2, {0, 0, 0, 5, 0, 0})));
    CHECK_FALSE(s.feed(raw(0x101, 2, {0, 0, 5, 5, 0, 4})));
    CHECK_FALSE(s.feed(raw(0x101, 0x20000000u, {0, 0, 5, 5, 0, 0})));
    CHECK(s.refused == 3);
    CHECK_FALSE(f.desktop.is_cut_off("untrusted"));
}

TEST_CASE("hostile: 10,000 windows cut the domain off; another domain keeps updating") {
    Fixture f; // default cap: 1000 windows per domain
    Session good{f, "work"};
    REQUIRE(good.feed(raw(0x101, 1, {0, 0, 200, 100, 0, 0})));
    REQUIRE(good.feed(raw(0x103, 1, {0, 0})));
    auto work = f.desktop.find("work", 1)->handle;
    Session bad{f, "untrusted"};
    size_t accepted = 0;
    for (uint32_t id = 1; id <= 10000; ++id) {
        if (bad.feed(raw(0x101, id, {0, 0, 1, 1, 0, 0})))
            ++accepted;
        if (id % 1000 == 0) {
            // work's window is still served between the hostile messages.
            REQUIRE(good.feed(raw(0x108, 1, {0, 0, 10, 10})));
            auto r = f.desktop.take_repaints(f.t0);
            REQUIRE(r.size() == 1);
            CHECK(r[0].window == work);
        }
    }
    CHECK(accepted == 1000);
    CHECK(bad.refused == 9000);
    CHECK(f.desktop.is_cut_off("untrusted"));
    CHECK(f.desktop.window_count("untrusted") == 0);
    CHECK(f.desktop.stack() == std::vector<WindowHandle>{work});
}

TEST_CASE("hostile: unknown types, wrong directions and oversized clipboards are refused") {
    Fixture f;
    Session s{f, "untrusted"};
    CHECK_FALSE(s.feed(raw(0x10b, 1, {})));
    CHECK_FALSE(s.feed(raw(0x666, 1, {1, 2, 3})));
    CHECK_FALSE(s.feed(raw(0x201, 1, {1, 38, 0}))); // a key event "from" the guest
    CHECK_FALSE(s.feed(raw(0x207, 0, {})));         // asking dom0 for its clipboard
    std::vector<std::byte> clip = raw(0x302, 0, {});
    clip[8] = std::byte(0x01); // len 256001: over the protocol's cap, refused by the header check
    clip[9] = std::byte(0xe8);
    clip[10] = std::byte(0x03);
    clip.resize(12 + 256001);
    CHECK_FALSE(s.feed(clip));
    CHECK(s.refused == 5);
    CHECK(f.desktop.clipboard().state() == SecureClipboard::State::Empty);
}
