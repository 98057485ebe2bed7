// XcbCompositor::dispatch_events on Xvfb: X input in dom0's windows reaches the model — keys
// to the focused window (keysyms from the server's map, so Ctrl+Shift+C is the clipboard),
// buttons in window coordinates, FocusIn moving the model's focus, Expose asking for a repaint.
// Events are sent to our windows with SendEvent (no XTest needed).
#include "xvfb.h"

#include <bulkhead/gui/xcb/compositor.h>

#include <cstdlib>
#include <cstring>

using namespace bulkhead;
using namespace bulkhead::gui;
using namespace bulkhead::gui::xcb;
namespace rg = bulkhead::rpc::gui;

namespace {

struct Scene {
    Scene() {
        model::Config c;
        c.screen_width = 640;
        c.screen_height = 480;
        desktop.emplace(c, [](policy::Request const&) { return policy::Decision{policy::Deny{}}; });
        REQUIRE(desktop->add_domain("work", {"blue", 0x3465a4}));
        REQUIRE(desktop->add_domain("personal", {"yellow", 0xedd400}));
        auto comp = XcbCompositor::connect(x.display());
        REQUIRE(comp);
        compositor.emplace(std::move(*comp));
    }
    model::WindowHandle open(std::string const& d, rg::WindowId id, model::Rect r) {
        REQUIRE(desktop->apply(d, {id, rg::Create{r, 0, rg::OverrideRedirect::Yes}}));
        REQUIRE(desktop->apply(d, {id, rg::Map{0, rg::OverrideRedirect::Yes}}));
        return desktop->find(d, id)->handle;
    }
    xcb_connection_t* conn() { return compositor->connection().get(); }
    // The keycode whose first keysym is `sym` in the server's map.
    uint8_t keycode_of(uint32_t sym) {
        auto const* setup = xcb_get_setup(conn());
        auto* r = xcb_get_keyboard_mapping_reply(
            conn(),
            xcb_get_keyboard_mapping(conn(), setup->min_keycode,
                                     uint8_t(setup->max_keycode - setup->min_keycode + 1)),
            nullptr);
        REQUIRE(r);
        auto const* syms = xcb_get_keyboard_mapping_keysyms(r);
        int n = xcb_get_keyboard_mapping_keysyms_length(r);
        uint8_t found = 0;
        for (int i = 0; i < n; i += r->keysyms_per_keycode)
            if (syms[i] == sym) {
                found = uint8_t(setup->min_keycode + i / r->keysyms_per_keycode);
                break;
            }
        std::free(r);
        REQUIRE(found != 0);
        return found;
    }
    void send_key(xcb_window_t w, uint8_t response, uint8_t keycode, uint16_t state) {
        xcb_key_press_event_t ev{};
        ev.response_type = response;
        ev.detail = keycode;
        ev.root = compositor->connection().root();
        ev.event = w;
        ev.state = state;
        ev.same_screen = 1;
        xcb_send_event(conn(), 0, w, XCB_EVENT_MASK_NO_EVENT, reinterpret_cast<char const*>(&ev));
    }
    void send_button(xcb_window_t w, uint8_t response, uint8_t button, int16_t rx, int16_t ry) {
        xcb_button_press_event_t ev{};
        ev.response_type = response;
        ev.detail = button;
        ev.root = compositor->connection().root();
        ev.event = w;
        ev.root_x = rx;
        ev.root_y = ry;
        ev.same_screen = 1;
        xcb_send_event(conn(), 0, w, XCB_EVENT_MASK_NO_EVENT, reinterpret_cast<char const*>(&ev));
    }
    XcbCompositor::Dispatched dispatch() {
        REQUIRE(compositor->connection().sync());
        auto d = compositor->dispatch_events(*desktop);
        REQUIRE(d);
        return std::move(*d);
    }

    Xvfb x;
    std::optional<model::Desktop> desktop;
    std::optional<XcbCompositor> compositor;
};

template <typename T>
T const* sent_to(model::Action const& a, std::string const& domain) {
    auto const* s = std::get_if<model::SendToGuest>(&a);
    return s && s->domain == domain ? std::get_if<T>(&s->message) : nullptr;
}

} // namespace

TEST_CASE("xcb events: expose asks for a repaint; focus from X moves the model's focus") {
    Scene s;
    auto work = s.open("work", 1, {0, 0, 100, 100});
    auto personal = s.open("personal", 1, {200, 0, 100, 100});
    REQUIRE(s.compositor->sync(*s.desktop));
    auto first = s.dispatch();
    CHECK(std::find(first.exposed.begin(), first.exposed.end(), work) != first.exposed.end());
    CHECK(std::find(first.exposed.begin(), first.exposed.end(), personal) != first.exposed.end());
    xcb_set_input_focus(s.conn(), XCB_INPUT_FOCUS_POINTER_ROOT, *s.compositor->x_window(personal),
                        XCB_CURRENT_TIME);
    auto d = s.dispatch();
    CHECK(s.desktop->focused() == personal);
    REQUIRE_FALSE(d.actions.empty());
    CHECK(sent_to<rg::Focus>(d.actions.back(), "personal"));
}

TEST_CASE("xcb events: keys reach the focused window; Ctrl+Shift+C is dom0's") {
    Scene s;
    auto work = s.open("work", 1, {0, 0, 100, 100});
    REQUIRE(s.compositor->sync(*s.desktop));
    (void)s.dispatch();
    s.desktop->focus(work);
    auto xw = *s.compositor->x_window(work);
    uint8_t a = s.keycode_of('a'), c = s.keycode_of('c');
    s.send_key(xw, XCB_KEY_PRESS, a, XCB_MOD_MASK_SHIFT);
    auto d = s.dispatch();
    REQUIRE(d.actions.size() == 1);
    auto const* key = sent_to<rg::Key>(d.actions[0], "work");
    REQUIRE(key);
    CHECK(*key == rg::Key{rg::KeyAction::Press, a, XCB_MOD_MASK_SHIFT});
    s.send_key(xw, XCB_KEY_PRESS, c, XCB_MOD_MASK_SHIFT | XCB_MOD_MASK_CONTROL);
    s.send_key(xw, XCB_KEY_RELEASE, c, XCB_MOD_MASK_SHIFT | XCB_MOD_MASK_CONTROL);
    auto clip = s.dispatch();
    REQUIRE(clip.actions.size() == 1); // the request only; the key never reaches the guest
    CHECK(sent_to<rg::ClipboardRequest>(clip.actions[0], "work"));
    // A key sent to a window that is not ours is ignored.
    s.send_key(s.compositor->connection().root(), XCB_KEY_PRESS, a, 0);
    CHECK(s.dispatch().actions.empty());
}

TEST_CASE("xcb events: buttons arrive in the window's coordinates") {
    Scene s;
    auto personal = s.open("personal", 1, {200, 50, 100, 100});
    REQUIRE(s.compositor->sync(*s.desktop));
    (void)s.dispatch();
    auto xw = *s.compositor->x_window(personal);
    s.send_button(xw, XCB_BUTTON_PRESS, 1, 230, 70);
    s.send_button(xw, XCB_BUTTON_RELEASE, 1, 231, 71);
    auto d = s.dispatch();
    REQUIRE(d.actions.size() == 3); // Enter, Press, Release
    CHECK(sent_to<rg::Crossing>(d.actions[0], "personal"));
    CHECK(*sent_to<rg::Button>(d.actions[1], "personal") ==
          rg::Button{rg::ButtonAction::Press, 1, 30, 20, 0});
    CHECK(*sent_to<rg::Button>(d.actions[2], "personal") ==
          rg::Button{rg::ButtonAction::Release, 1, 31, 21, 0});
    CHECK(s.compositor->x_errors() == 0);
}
