// Helpers for the GUI end-to-end tests: child processes stopped at the end, waiting for a
// condition, and the test's own connection to an X server (dom0's screen read back, XTEST
// input, a window manager's focus decision).
#pragma once

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>

#include <catch2/catch.hpp>

#include <xcb/xcb.h>
#include <xcb/xtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace guid_test {

using namespace bulkhead;
using namespace std::chrono_literals;

inline std::string program(char const* name) {
    auto dir = sys::getenv("BULKHEAD_BUILD_DIR");
    REQUIRE(dir); // set by ctest
    return *dir + "/bin/" + name;
}

// A child process, stopped with SIGTERM at the end of the test.
struct Child {
    pid_t pid = -1;
    std::optional<sys::ExitStatus> status;
    // extra_fds: {child fd, parent fd} beside stdio.
    Child(std::vector<std::string> argv, std::string const& log,
          std::optional<std::vector<std::string>> env = std::nullopt,
          std::vector<std::pair<int, int>> extra_fds = {}) {
        auto out = sys::open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        auto null = sys::open("/dev/null", O_RDONLY | O_CLOEXEC);
        REQUIRE(out);
        REQUIRE(null);
        sys::SpawnOptions o;
        o.argv = std::move(argv);
        o.env = std::move(env);
        o.fds = {{0, null->get()}, {1, out->get()}, {2, out->get()}};
        o.fds.insert(o.fds.end(), extra_fds.begin(), extra_fds.end());
        auto p = sys::spawn(o);
        REQUIRE(p);
        pid = *p;
    }
    // The exit status once the process ended within `timeout`.
    std::optional<sys::ExitStatus> wait_exit(std::chrono::milliseconds timeout) {
        auto deadline = sys::now() + timeout;
        while (!status && sys::now() < deadline) {
            auto s = sys::waitpid(pid, WNOHANG);
            REQUIRE(s);
            if (s->code != -1)
                status = *s;
            else
                std::this_thread::sleep_for(20ms);
        }
        return status;
    }
    ~Child() {
        if (!status) {
            (void)sys::kill(pid, SIGTERM);
            (void)sys::waitpid(pid);
        }
    }
};

inline bool eventually(std::function<bool()> const& done, std::chrono::milliseconds timeout = 10s) {
    auto deadline = sys::now() + timeout;
    while (sys::now() < deadline) {
        if (done())
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

template <typename T>
using Reply = std::unique_ptr<T, decltype(&std::free)>;
template <typename T>
Reply<T> reply(T* r) {
    return Reply<T>(r, &std::free);
}

// The test's own connection to an X server: dom0's (screenshots, and the window manager's
// focus decisions) or the domain's (its probe application).
struct XClient {
    explicit XClient(std::string const& display) {
        c = xcb_connect(display.c_str(), nullptr);
        REQUIRE(!xcb_connection_has_error(c));
        screen = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
    }
    ~XClient() { xcb_disconnect(c); }
    xcb_atom_t atom(char const* name) {
        auto r = reply(xcb_intern_atom_reply(
            c, xcb_intern_atom(c, 0, uint16_t(std::strlen(name)), name), nullptr));
        REQUIRE(r);
        return r->atom;
    }
    std::string property(xcb_window_t w, xcb_atom_t prop) {
        auto r = reply(xcb_get_property_reply(
            c, xcb_get_property(c, 0, w, prop, XCB_GET_PROPERTY_TYPE_ANY, 0, 1024), nullptr));
        if (!r)
            return {};
        auto const* p = static_cast<char const*>(xcb_get_property_value(r.get()));
        return std::string(p, size_t(xcb_get_property_value_length(r.get())));
    }
    // A top-level window whose _NET_WM_NAME is `title`.
    std::optional<xcb_window_t> find(std::string const& title) {
        auto tree = reply(xcb_query_tree_reply(c, xcb_query_tree(c, screen->root), nullptr));
        REQUIRE(tree);
        auto const* kids = xcb_query_tree_children(tree.get());
        auto net_wm_name = atom("_NET_WM_NAME");
        for (int i = 0; i < xcb_query_tree_children_length(tree.get()); ++i)
            if (property(kids[i], net_wm_name) == title)
                return kids[i];
        return std::nullopt;
    }
    uint32_t pixel(int16_t x, int16_t y) {
        auto r = reply(xcb_get_image_reply(
            c, xcb_get_image(c, XCB_IMAGE_FORMAT_Z_PIXMAP, screen->root, x, y, 1, 1, ~0u),
            nullptr));
        REQUIRE(r);
        uint32_t v;
        std::memcpy(&v, xcb_get_image_data(r.get()), 4);
        return v & 0xffffff;
    }
    void fake(uint8_t type, uint8_t detail, int16_t x = 0, int16_t y = 0) {
        xcb_test_fake_input(c, type, detail, XCB_CURRENT_TIME,
                            type == XCB_MOTION_NOTIFY ? screen->root : XCB_NONE, x, y, 0);
        xcb_flush(c);
    }
    // What a window manager does on a click: give the window the focus.
    void focus(xcb_window_t w) {
        xcb_set_input_focus(c, XCB_INPUT_FOCUS_POINTER_ROOT, w, XCB_CURRENT_TIME);
        xcb_flush(c);
    }
    xcb_connection_t* c;
    xcb_screen_t* screen;
};

} // namespace guid_test
