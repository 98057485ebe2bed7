// Desktop: windows per domain, stacking, frames, titles, the override-redirect and window
// count rules, and refusals of messages that do not fit the domain's state.
#include "model_test_util.h"

using namespace model_test;

TEST_CASE("windows: domains are registered by dom0 with valid names") {
    Fixture f;
    CHECK_FALSE(f.desktop.add_domain("work", {"blue", 1}));
    CHECK_FALSE(f.desktop.add_domain("bad name", {"red", 0}));
    CHECK_FALSE(f.desktop.add_domain("", {"red", 0}));
    REQUIRE(f.desktop.label("vault"));
    CHECK(f.desktop.label("vault")->name == "black");
    auto r = f.desktop.apply("nobody", msg(1, rg::Unmap{}), f.t0);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::NotFound);
}

TEST_CASE("windows: create, map, stack, unmap, destroy") {
    Fixture f;
    REQUIRE(f.send("work", 5, rg::Create{{10, 20, 300, 200}, 0, rg::OverrideRedirect::No}));
    auto const* w = f.desktop.find("work", 5);
    REQUIRE(w);
    CHECK_FALSE(w->mapped);
    CHECK(f.desktop.stack().empty());
    CHECK(w->title == "[work]");
    CHECK(w->domain == "work");
    REQUIRE(f.send("work", 5, rg::Map{}));
    CHECK(f.desktop.stack() == std::vector<WindowHandle>{w->handle});
    auto h2 = f.open("personal", 5, {0, 0, 50, 50}); // same guest id, another domain
    CHECK(h2 != w->handle);
    CHECK(f.desktop.stack() == std::vector<WindowHandle>{w->handle, h2});
    f.desktop.raise(w->handle);
    CHECK(f.desktop.stack() == std::vector<WindowHandle>{h2, w->handle});
    REQUIRE(f.send("work", 5, rg::Unmap{}));
    CHECK(f.desktop.stack() == std::vector<WindowHandle>{h2});
    REQUIRE(f.send("work", 5, rg::Destroy{}));
    CHECK(f.desktop.find("work", 5) == nullptr);
    CHECK(f.desktop.window_count("work") == 0);
    CHECK(f.desktop.find("personal", 5) != nullptr);
}

TEST_CASE("windows: a domain names only its own windows") {
    Fixture f;
    auto h = f.open("work", 7, {0, 0, 10, 10});
    auto r = f.send("untrusted", 7, rg::Destroy{});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::Protocol);
    CHECK(f.desktop.window(h) != nullptr);
    CHECK_FALSE(f.send("untrusted", 7, rg::SetTitle{"gotcha"}));
    CHECK(f.desktop.window(h)->title == "[work]");
    // A parent must be one of the domain's own windows.
    CHECK_FALSE(f.send("untrusted", 8, rg::Create{{0, 0, 1, 1}, 7, rg::OverrideRedirect::No}));
    // transient_for naming a window it does not have is ignored.
    REQUIRE(f.send("untrusted", 9, rg::Create{{0, 0, 1, 1}, 0, rg::OverrideRedirect::No}));
    REQUIRE(f.send("untrusted", 9, rg::Map{7, rg::OverrideRedirect::No}));
    CHECK(f.desktop.find("untrusted", 9)->transient_for == 0);
}

TEST_CASE("windows: protocol misuse is refused, the session goes on") {
    Fixture f;
    CHECK(f.send("work", 1, rg::Unmap{}).error().code() == Errc::Protocol); // unknown window
    REQUIRE(f.send("work", 1, rg::Create{{0, 0, 1, 1}, 0, rg::OverrideRedirect::No}));
    CHECK(f.send("work", 1, rg::Create{{0, 0, 1, 1}, 0, rg::OverrideRedirect::No}).error().code() ==
          Errc::Protocol); // twice
    // Input events are dom0's to send; a guest's are refused.
    CHECK_FALSE(f.send("work", 1, rg::Key{rg::KeyAction::Press, 38, 0}));
    CHECK_FALSE(f.send("work", 1, rg::Focus{rg::FocusKind::In}));
    CHECK_FALSE(f.send("work", 1, rg::CloseRequest{}));
    CHECK_FALSE(f.desktop.is_cut_off("work"));
    CHECK(f.send("work", 1, rg::Map{}));
}

TEST_CASE("windows: every window has a frame in its domain's label colour") {
    Fixture f;
    auto managed = f.open("work", 1, {100, 100, 400, 300});
    auto popup = f.open("vault", 2, {50, 50, 200, 100}, rg::OverrideRedirect::Yes);
    CHECK(f.desktop.window(managed)->frame() == FrameKind::WindowManager);
    CHECK(f.desktop.window(popup)->frame() == FrameKind::DaemonBorder);
    CHECK(f.desktop.label(f.desktop.window(managed)->domain)->rgb == 0x3465a4);
    CHECK(f.desktop.label(f.desktop.window(popup)->domain)->rgb == 0x000000);
    CHECK(f.desktop.config().frame_border == 2);
}

TEST_CASE("windows: override-redirect over 90% of the screen gets the WM frame") {
    Fixture f; // 1920x1080
    // Exactly 90%: 1920 x 972.
    auto ok = f.open("untrusted", 1, {0, 0, 1920, 972}, rg::OverrideRedirect::Yes);
    CHECK(f.desktop.window(ok)->override_redirect);
    // One more row: over 90%.
    auto big = f.open("untrusted", 2, {0, 0, 1920, 973}, rg::OverrideRedirect::Yes);
    auto const* w = f.desktop.window(big);
    CHECK(w->requested_override_redirect);
    CHECK_FALSE(w->override_redirect);
    CHECK(w->frame() == FrameKind::WindowManager);
    // A fullscreen-sized popup mostly off screen covers little: allowed.
    auto off = f.open("untrusted", 3, {1800, 1000, 16384, 6144}, rg::OverrideRedirect::Yes);
    CHECK(f.desktop.window(off)->override_redirect);
    // Moving it onto the screen takes override-redirect away; moving it back returns it.
    REQUIRE(f.send("untrusted", 3,
                   rg::Configure{{-100, -100, 16384, 6144}, rg::OverrideRedirect::Yes}));
    CHECK_FALSE(f.desktop.window(off)->override_redirect);
    REQUIRE(f.send("untrusted", 3,
                   rg::Configure{{1800, 1000, 16384, 6144}, rg::OverrideRedirect::Yes}));
    CHECK(f.desktop.window(off)->override_redirect);
    // Map with the flag re-evaluates too.
    REQUIRE(f.send("untrusted", 4, rg::Create{{0, 0, 1919, 1080}, 0, rg::OverrideRedirect::No}));
    REQUIRE(f.send("untrusted", 4, rg::Map{0, rg::OverrideRedirect::Yes}));
    CHECK_FALSE(f.desktop.find("untrusted", 4)->override_redirect);
}

TEST_CASE("windows: the coverage share is configurable") {
    Config c;
    c.max_override_redirect_percent = 50;
    Fixture f(c);
    auto half = f.open("work", 1, {0, 0, 960, 1080}, rg::OverrideRedirect::Yes);
    CHECK(f.desktop.window(half)->override_redirect);
    auto more = f.open("work", 2, {0, 0, 961, 1080}, rg::OverrideRedirect::Yes);
    CHECK_FALSE(f.desktop.window(more)->override_redirect);
}

TEST_CASE("windows: titles carry the domain and cannot fake it") {
    Fixture f;
    auto h = f.open("untrusted", 1, {0, 0, 10, 10});
    REQUIRE(f.send("untrusted", 1, rg::SetTitle{"[vault] KeePassXC"}));
    CHECK(f.desktop.window(h)->title == "[untrusted] KeePassXC");
    CHECK(f.desktop.window(h)->guest_title == "[vault] KeePassXC");
    REQUIRE(f.send("untrusted", 1, rg::SetTitle{"[dom0] Qubes"}));
    CHECK(f.desktop.window(h)->title == "[untrusted] Qubes");
    REQUIRE(f.send("untrusted", 1, rg::SetTitle{"Mail — (3) unread"}));
    CHECK(f.desktop.window(h)->title == "[untrusted] Mail — (3) unread");
}

TEST_CASE("windows: class, hints, cursor and buffer are recorded") {
    Fixture f;
    auto h = f.open("work", 1, {0, 0, 640, 480});
    REQUIRE(f.send("work", 1, rg::SetClass{"XTerm", "xterm"}));
    rg::SetHints hints{rg::hint_min_size, {10, 10}, {}, {}, {}};
    REQUIRE(f.send("work", 1, hints));
    REQUIRE(f.send("work", 1, rg::SetCursor{68}));
    rg::ShmRegion shm{rg::ShmKind::Memfd, 0, 640, 480, 2560, rg::format_xrgb8888, 2560 * 480};
    REQUIRE(f.send("work", 1, shm));
    auto const* w = f.desktop.window(h);
    CHECK(w->res_class == "XTerm");
    CHECK(w->res_name == "xterm");
    CHECK(w->hints == hints);
    CHECK(w->cursor == 68);
    REQUIRE(w->buffer);
    CHECK(*w->buffer == shm);
}

TEST_CASE("windows: one window over the cap cuts the domain off, others keep going") {
    Config c;
    c.max_windows_per_domain = 10;
    Fixture f(c);
    auto other = f.open("work", 1, {0, 0, 10, 10});
    for (rg::WindowId id = 1; id <= 10; ++id)
        f.open("untrusted", id, {0, 0, 10, 10});
    CHECK(f.desktop.window_count("untrusted") == 10);
    auto r = f.send("untrusted", 11, rg::Create{{0, 0, 1, 1}, 0, rg::OverrideRedirect::No});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::Limit);
    CHECK(f.desktop.is_cut_off("untrusted"));
    CHECK(f.desktop.window_count("untrusted") == 0);
    CHECK(f.desktop.stack() == std::vector<WindowHandle>{other});
    auto later = f.send("untrusted", 1, rg::SetTitle{"still here?"});
    REQUIRE_FALSE(later);
    CHECK(later.error().code() == Errc::Denied);
    CHECK(f.send("work", 1, rg::SetTitle{"fine"}));
    CHECK_FALSE(f.desktop.is_cut_off("work"));
    // dom0 ends the session; a new one starts clean.
    f.desktop.remove_domain("untrusted");
    REQUIRE(f.desktop.add_domain("untrusted", {"red", 0xcc0000}));
    CHECK(f.send("untrusted", 1, rg::Create{{0, 0, 1, 1}, 0, rg::OverrideRedirect::No}));
}

TEST_CASE("windows: removing a domain drops its windows and its focus") {
    Fixture f;
    auto h = f.open("personal", 1, {0, 0, 10, 10});
    auto keep = f.open("work", 1, {0, 0, 10, 10});
    f.desktop.focus(h);
    f.desktop.remove_domain("personal");
    CHECK_FALSE(f.desktop.has_domain("personal"));
    CHECK(f.desktop.window(h) == nullptr);
    CHECK_FALSE(f.desktop.focused());
    CHECK(f.desktop.stack() == std::vector<WindowHandle>{keep});
}
