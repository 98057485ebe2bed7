// dom0's X display as the GUI tests look at it: top-level windows by property, their
// properties, screenshot pixels, keys typed through XTEST. Plus `eventually`, the bounded wait
// every case polls with. Shared by the integration cases (tests/integration/gui_*_test.cpp)
// and the e2e probe on real Xen (tests/e2e/screen_probe.cpp), so it needs no Catch: what
// cannot be asked of the X server throws std::runtime_error (a failed case under Catch).
#pragma once

#include <xcb/xcb.h>
#include <xcb/xtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bulkhead::testing {

inline void need(bool ok, char const* what) {
    if (!ok)
        throw std::runtime_error(std::string("dom0 screen: ") + what);
}

// Polls `done` every 20 ms until it holds or `limit` passed; then asks once more.
inline bool eventually(std::function<bool()> const& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
}

struct Dom0Screen {
    explicit Dom0Screen(std::string const& display) {
        c = xcb_connect(display.c_str(), nullptr);
        if (xcb_connection_has_error(c)) {
            xcb_disconnect(c);
            throw std::runtime_error("dom0 screen: cannot connect to X display " + display);
        }
        root = xcb_setup_roots_iterator(xcb_get_setup(c)).data->root;
    }
    ~Dom0Screen() { xcb_disconnect(c); }
    Dom0Screen(Dom0Screen const&) = delete;
    Dom0Screen& operator=(Dom0Screen const&) = delete;

    xcb_atom_t atom(char const* name) {
        auto* r = xcb_intern_atom_reply(c, xcb_intern_atom(c, 0, uint16_t(std::strlen(name)), name),
                                        nullptr);
        need(r, "InternAtom failed");
        auto a = r->atom;
        std::free(r);
        return a;
    }
    std::string property(xcb_window_t w, xcb_atom_t prop) {
        auto* r = xcb_get_property_reply(
            c, xcb_get_property(c, 0, w, prop, XCB_GET_PROPERTY_TYPE_ANY, 0, 256), nullptr);
        if (!r)
            return {};
        std::string v(static_cast<char const*>(xcb_get_property_value(r)),
                      size_t(xcb_get_property_value_length(r)));
        std::free(r);
        return v;
    }
    std::string property(xcb_window_t w, char const* name) { return property(w, atom(name)); }
    uint32_t label_color(xcb_window_t w) {
        auto v = property(w, "_QUBES_LABEL_COLOR");
        uint32_t rgb = 0;
        if (v.size() == 4)
            std::memcpy(&rgb, v.data(), 4);
        return rgb;
    }
    // Its title as a window manager shows it: _NET_WM_NAME, else WM_NAME.
    std::string title(xcb_window_t w) {
        auto t = property(w, "_NET_WM_NAME");
        return t.empty() ? property(w, XCB_ATOM_WM_NAME) : t;
    }
    struct Geometry {
        int x, y, width, height;
    };
    // Where w is on its parent (the root, for a top-level window) and its size.
    std::optional<Geometry> geometry(xcb_window_t w) {
        auto* g = xcb_get_geometry_reply(c, xcb_get_geometry(c, w), nullptr);
        if (!g)
            return std::nullopt;
        Geometry r{g->x, g->y, g->width, g->height};
        std::free(g);
        return r;
    }
    // A keycode that types `keysym` in dom0's keyboard map (unshifted), 0 if none does.
    uint8_t keycode(uint32_t keysym) {
        auto const* setup = xcb_get_setup(c);
        auto first = setup->min_keycode;
        auto count = uint8_t(setup->max_keycode - first + 1);
        auto* r =
            xcb_get_keyboard_mapping_reply(c, xcb_get_keyboard_mapping(c, first, count), nullptr);
        need(r, "GetKeyboardMapping failed");
        auto const* syms = xcb_get_keyboard_mapping_keysyms(r);
        int per = r->keysyms_per_keycode;
        uint8_t found = 0;
        for (int k = 0; k < count && !found && per > 0; ++k)
            if (syms[k * per] == keysym)
                found = uint8_t(first + k);
        std::free(r);
        return found;
    }
    // A top-level window of dom0 whose property `name` is `value`: mapped ones only unless
    // `mapped_only` is false, and at x, y if `at` is set.
    std::optional<xcb_window_t> find(char const* name, std::string const& value,
                                     std::optional<std::pair<int, int>> at = std::nullopt,
                                     bool mapped_only = true) {
        auto* tree = xcb_query_tree_reply(c, xcb_query_tree(c, root), nullptr);
        need(tree, "QueryTree of the root failed");
        auto const prop = atom(name);
        std::optional<xcb_window_t> found;
        auto const* kids = xcb_query_tree_children(tree);
        for (int i = 0; i < xcb_query_tree_children_length(tree) && !found; ++i) {
            if (mapped_only) {
                auto* a = xcb_get_window_attributes_reply(c, xcb_get_window_attributes(c, kids[i]),
                                                          nullptr);
                bool mapped = a && a->map_state == XCB_MAP_STATE_VIEWABLE;
                std::free(a);
                if (!mapped)
                    continue;
            }
            if (property(kids[i], prop) != value)
                continue;
            if (at) {
                auto* g = xcb_get_geometry_reply(c, xcb_get_geometry(c, kids[i]), nullptr);
                bool here = g && g->x == at->first && g->y == at->second;
                std::free(g);
                if (!here)
                    continue;
            }
            found = kids[i];
        }
        std::free(tree);
        return found;
    }
    // Any top-level window (mapped or not) titled `title`.
    std::optional<xcb_window_t> find_title(std::string const& title) {
        return find("_NET_WM_NAME", title, std::nullopt, false);
    }
    // A screenshot's pixel: dom0's root window read back.
    uint32_t pixel(int x, int y) {
        auto* r = xcb_get_image_reply(
            c, xcb_get_image(c, XCB_IMAGE_FORMAT_Z_PIXMAP, root, int16_t(x), int16_t(y), 1, 1, ~0u),
            nullptr);
        need(r, "GetImage of the root failed");
        uint32_t v;
        std::memcpy(&v, xcb_get_image_data(r), 4);
        std::free(r);
        return v & 0xffffff;
    }
    // Keys typed with w focused (as a window manager does on a click): all pressed in order,
    // released in reverse (so modifiers come first: {37, 50, key} is Ctrl+Shift+key).
    void type(xcb_window_t w, std::vector<uint8_t> const& keys) {
        xcb_set_input_focus(c, XCB_INPUT_FOCUS_POINTER_ROOT, w, XCB_CURRENT_TIME);
        for (auto k : keys)
            xcb_test_fake_input(c, XCB_KEY_PRESS, k, XCB_CURRENT_TIME, XCB_NONE, 0, 0, 0);
        for (auto it = keys.rbegin(); it != keys.rend(); ++it)
            xcb_test_fake_input(c, XCB_KEY_RELEASE, *it, XCB_CURRENT_TIME, XCB_NONE, 0, 0, 0);
        xcb_flush(c);
    }

    xcb_connection_t* c;
    xcb_window_t root;
};

} // namespace bulkhead::testing
