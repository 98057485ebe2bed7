// Desktop input: focus set by dom0 only, keys to the focused window only, pointer events to
// the window under the pointer in its own coordinates, and the clipboard key combinations.
#include "model_test_util.h"

using namespace model_test;

namespace {

KeyInput press(uint32_t keycode, uint32_t keysym, uint32_t state = 0) {
    return {rg::KeyAction::Press, keycode, keysym, state};
}
KeyInput release(uint32_t keycode, uint32_t keysym, uint32_t state = 0) {
    return {rg::KeyAction::Release, keycode, keysym, state};
}
constexpr uint32_t kc_c = 54, kc_v = 55, kc_a = 38;
constexpr uint32_t ctrl_shift = control_mask | shift_mask;

std::vector<std::byte> bytes(std::string const& s) {
    std::vector<std::byte> out;
    for (char c : s)
        out.push_back(std::byte(c));
    return out;
}

} // namespace

TEST_CASE("input: focus is dom0's decision and is announced to both domains") {
    Fixture f;
    auto work = f.open("work", 1, {0, 0, 100, 100});
    auto personal = f.open("personal", 1, {200, 0, 100, 100});
    CHECK_FALSE(f.desktop.focused());
    CHECK(f.desktop.key(press(kc_a, 'a')).empty()); // no focus: the key goes nowhere
    auto a = f.desktop.focus(work);
    REQUIRE(a.size() == 1);
    REQUIRE(sent<rg::Focus>(a[0], "work"));
    CHECK(sent<rg::Focus>(a[0], "work")->kind == rg::FocusKind::In);
    auto b = f.desktop.focus(personal);
    REQUIRE(b.size() == 2);
    CHECK(sent<rg::Focus>(b[0], "work")->kind == rg::FocusKind::Out);
    CHECK(sent<rg::Focus>(b[1], "personal")->kind == rg::FocusKind::In);
    CHECK(f.desktop.focused_domain() == "personal");
    CHECK(f.desktop.focus(personal).empty()); // no change, no messages
    // An unmapped window cannot be focused.
    REQUIRE(f.send("work", 2, rg::Create{{0, 0, 5, 5}, 0, rg::OverrideRedirect::No}));
    CHECK(f.desktop.focus(f.desktop.find("work", 2)->handle).empty());
    CHECK(f.desktop.focused() == personal);
}

TEST_CASE("input: keys go only to the focused domain's focused window") {
    Fixture f;
    auto work = f.open("work", 1, {0, 0, 100, 100});
    f.open("work", 2, {0, 0, 100, 100});
    f.open("personal", 1, {0, 0, 100, 100});
    f.desktop.focus(work);
    auto a = f.desktop.key(press(kc_a, 'a', shift_mask));
    REQUIRE(a.size() == 1);
    auto const& s = std::get<SendToGuest>(a[0]);
    CHECK(s.domain == "work");
    CHECK(s.window == 1);
    CHECK(std::get<rg::Key>(s.message) == rg::Key{rg::KeyAction::Press, kc_a, shift_mask});
}

TEST_CASE("input: a guest cannot take focus or grab the keyboard") {
    Fixture f;
    auto work = f.open("work", 1, {0, 0, 800, 600});
    f.desktop.focus(work);
    // untrusted maps a window on top of everything, override-redirect, and keeps re-mapping it.
    f.open("untrusted", 1, {0, 0, 800, 600}, rg::OverrideRedirect::Yes);
    REQUIRE(f.send("untrusted", 1, rg::Map{0, rg::OverrideRedirect::Yes}));
    CHECK(f.desktop.focused() == work);
    auto a = f.desktop.key(press(kc_a, 'a'));
    REQUIRE(a.size() == 1);
    CHECK(std::get<SendToGuest>(a[0]).domain == "work");
}

TEST_CASE("input: unmapping or destroying the focused window drops focus") {
    Fixture f;
    auto work = f.open("work", 1, {0, 0, 10, 10});
    f.desktop.focus(work);
    REQUIRE(f.send("work", 1, rg::Unmap{}));
    CHECK_FALSE(f.desktop.focused());
    CHECK(f.desktop.key(press(kc_a, 'a')).empty());
    REQUIRE(f.send("work", 1, rg::Map{}));
    f.desktop.focus(work);
    REQUIRE(f.send("work", 1, rg::Destroy{}));
    CHECK_FALSE(f.desktop.focused());
}

TEST_CASE("input: pointer coordinates are translated to the window under the pointer") {
    Fixture f;
    auto work = f.open("work", 1, {100, 200, 400, 300});
    auto popup = f.open("vault", 9, {150, 250, 50, 50}, rg::OverrideRedirect::Yes);
    CHECK(f.desktop.window_at({110, 230}) == work);
    CHECK(f.desktop.window_at({160, 260}) == popup); // on top
    CHECK_FALSE(f.desktop.window_at({99, 230}));
    CHECK_FALSE(f.desktop.window_at({500, 230})); // right edge is outside
    auto a = f.desktop.pointer_motion({110, 230}, 0);
    REQUIRE(a.size() == 2);
    CHECK(*sent<rg::Crossing>(a[0], "work") == rg::Crossing{rg::CrossingKind::Enter, 10, 30, 0});
    CHECK(*sent<rg::Motion>(a[1], "work") == rg::Motion{10, 30, 0});
    auto b = f.desktop.pointer_motion({111, 231}, 0);
    REQUIRE(b.size() == 1); // same window: motion only
    CHECK(*sent<rg::Motion>(b[0], "work") == rg::Motion{11, 31, 0});
    auto c = f.desktop.pointer_motion({160, 260}, 0);
    REQUIRE(c.size() == 3);
    CHECK(*sent<rg::Crossing>(c[0], "work") == rg::Crossing{rg::CrossingKind::Leave, 60, 60, 0});
    CHECK(*sent<rg::Crossing>(c[1], "vault") == rg::Crossing{rg::CrossingKind::Enter, 10, 10, 0});
    CHECK(*sent<rg::Motion>(c[2], "vault") == rg::Motion{10, 10, 0});
    auto d = f.desktop.pointer_motion({5, 5}, 0); // the bare desktop
    REQUIRE(d.size() == 1);
    CHECK(sent<rg::Crossing>(d[0], "vault")->kind == rg::CrossingKind::Leave);
}

TEST_CASE("input: a pressed button keeps the pointer in its window until released") {
    Fixture f;
    auto work = f.open("work", 1, {0, 0, 100, 100});
    f.open("personal", 1, {200, 0, 100, 100});
    auto p = f.desktop.pointer_button({50, 50}, rg::ButtonAction::Press, 1, 0);
    REQUIRE(p.size() == 2);
    CHECK(*sent<rg::Button>(p[1], "work") == rg::Button{rg::ButtonAction::Press, 1, 50, 50, 0});
    // Dragged over personal's window: still work's, in work's coordinates.
    auto m = f.desktop.pointer_motion({250, 10}, 0x100);
    REQUIRE(m.size() == 1);
    CHECK(*sent<rg::Motion>(m[0], "work") == rg::Motion{250, 10, 0x100});
    auto r = f.desktop.pointer_button({250, 10}, rg::ButtonAction::Release, 1, 0x100);
    REQUIRE(r.size() == 1);
    CHECK(*sent<rg::Button>(r[0], "work") ==
          rg::Button{rg::ButtonAction::Release, 1, 250, 10, 0x100});
    auto after = f.desktop.pointer_motion({251, 10}, 0);
    REQUIRE(after.size() == 3);
    CHECK(sent<rg::Crossing>(after[1], "personal"));
    CHECK(*sent<rg::Motion>(after[2], "personal") == rg::Motion{51, 10, 0});
    // A release whose press went nowhere is dropped.
    CHECK(f.desktop.pointer_button({250, 10}, rg::ButtonAction::Release, 3, 0).empty());
    CHECK(f.desktop.pointer_button({1000, 1000}, rg::ButtonAction::Press, 1, 0).empty());
    CHECK(f.desktop.window(work));
}

TEST_CASE("input: close and resize requests from dom0") {
    Fixture f;
    auto h = f.open("work", 4, {0, 0, 100, 100});
    auto c = f.desktop.request_close(h);
    REQUIRE(c.size() == 1);
    CHECK(sent<rg::CloseRequest>(c[0], "work"));
    CHECK(std::get<SendToGuest>(c[0]).window == 4);
    auto r = f.desktop.resize(h, {10, 10, 300, 200});
    REQUIRE(r.size() == 1);
    CHECK(sent<rg::Configure>(r[0], "work")->rect == Rect{10, 10, 300, 200});
    CHECK(f.desktop.window(h)->rect == Rect{10, 10, 300, 200});
}

TEST_CASE("input: Ctrl+Shift+C / Ctrl+Shift+V move the clipboard under policy") {
    Fixture f;
    auto work = f.open("work", 1, {0, 0, 100, 100});
    auto personal = f.open("personal", 1, {0, 0, 100, 100});
    auto vault = f.open("vault", 1, {0, 0, 100, 100});
    f.desktop.focus(work);
    auto copy = f.desktop.key(press(kc_c, 'C', ctrl_shift));
    REQUIRE(copy.size() == 1);
    CHECK(sent<rg::ClipboardRequest>(copy[0], "work"));
    CHECK(f.desktop.key(release(kc_c, 'C', ctrl_shift)).empty()); // the guest never sees it
    auto got = f.send("work", 0, rg::ClipboardData{bytes("quarterly numbers")});
    REQUIRE(got);
    REQUIRE(got->size() == 1);
    CHECK(std::get<Notify>((*got)[0]).kind == NotifyKind::ClipboardCopied);
    CHECK(f.desktop.clipboard().source() == "work");

    // vault: denied by policy, nothing sent, the clipboard stays.
    f.desktop.focus(vault);
    auto denied = f.desktop.key(press(kc_v, 'V', ctrl_shift));
    REQUIRE(denied.size() == 1);
    CHECK(std::get<Notify>(denied[0]).kind == NotifyKind::ClipboardDenied);
    CHECK(std::get<Notify>(denied[0]).target == "vault");
    f.desktop.key(release(kc_v, 'V', ctrl_shift));

    // personal: allowed; the data goes there and the global clipboard is cleared.
    f.desktop.focus(personal);
    auto paste = f.desktop.key(press(kc_v, 'v', ctrl_shift | 0x2 /* caps lock */));
    REQUIRE(paste.size() == 2);
    CHECK(sent<rg::ClipboardData>(paste[0], "personal")->bytes == bytes("quarterly numbers"));
    CHECK(std::get<Notify>(paste[1]).kind == NotifyKind::ClipboardPasted);
    CHECK(f.desktop.clipboard().state() == SecureClipboard::State::Empty);
    CHECK(f.desktop.key(press(kc_v, 'V', ctrl_shift)).empty()); // nothing left
}

TEST_CASE("input: auto-repeated combinations swallow one release, later keys reach the guest") {
    Fixture f;
    auto work = f.open("work", 1, {0, 0, 100, 100});
    f.desktop.focus(work);
    for (int i = 0; i < 5; ++i)
        f.desktop.key(press(kc_c, 'C', ctrl_shift));
    CHECK(f.desktop.key(release(kc_c, 'C', ctrl_shift)).empty());
    // The next plain press and release of that key are the guest's.
    CHECK(f.desktop.key(press(kc_c, 'c')).size() == 1);
    CHECK(f.desktop.key(release(kc_c, 'c')).size() == 1);
}

TEST_CASE("input: plain Ctrl+C / Ctrl+V stay inside the domain") {
    Fixture f;
    auto work = f.open("work", 1, {0, 0, 100, 100});
    auto personal = f.open("personal", 1, {0, 0, 100, 100});
    f.desktop.focus(work);
    auto c = f.desktop.key(press(kc_c, 'c', control_mask));
    REQUIRE(c.size() == 1);
    CHECK(sent<rg::Key>(c[0], "work"));
    f.desktop.focus(personal);
    auto v = f.desktop.key(press(kc_v, 'v', control_mask));
    REQUIRE(v.size() == 1);
    CHECK(sent<rg::Key>(v[0], "personal"));
    // With Alt or Super as well it is not the combination either.
    auto alt = f.desktop.key(press(kc_c, 'C', ctrl_shift | mod1_mask));
    REQUIRE(alt.size() == 1);
    CHECK(sent<rg::Key>(alt[0], "personal"));
    CHECK(f.desktop.clipboard().state() == SecureClipboard::State::Empty);
    // A guest's unrequested clipboard data is refused.
    CHECK_FALSE(f.send("work", 0, rg::ClipboardData{bytes("pushed")}));
}

TEST_CASE("input: a clipboard over the configured cap is reported and not kept") {
    Config c;
    c.clipboard_max_bytes = 8;
    Fixture f(c);
    auto work = f.open("work", 1, {0, 0, 100, 100});
    f.desktop.focus(work);
    f.desktop.key(press(kc_c, 'c', ctrl_shift));
    auto r = f.send("work", 0, rg::ClipboardData{bytes("123456789")});
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK(std::get<Notify>((*r)[0]).kind == NotifyKind::ClipboardTooLarge);
    CHECK(f.desktop.clipboard().state() == SecureClipboard::State::Empty);
}
