// XcbConnection: one connection to dom0's X server (libxcb), with checked requests returning
// Result and atoms by name. Used by XcbCompositor and its tests. Talks only to dom0's X server;
// no guest bytes pass through here unvalidated.
#pragma once

#include <bulkhead/base/result.h>

#include <xcb/xcb.h>

#include <string>
#include <string_view>

namespace bulkhead::gui::xcb {

class XcbConnection {
public:
    // display empty: $DISPLAY. Fails unless the default screen is 24-bit TrueColor with
    // 0xRRGGBB pixel masks (label colours are written as pixel values).
    static Result<XcbConnection> open(std::string const& display = {});
    XcbConnection(XcbConnection&& other) noexcept;
    XcbConnection& operator=(XcbConnection&&) = delete;
    XcbConnection(XcbConnection const&) = delete;
    ~XcbConnection();

    xcb_connection_t* get() const { return m_conn; }
    xcb_screen_t const& screen() const { return *m_screen; }
    xcb_window_t root() const { return m_screen->root; }

    Result<xcb_atom_t> atom(std::string_view name);
    // Waits for a void request's reply or error: "what: X error N".
    Result<void> check(xcb_void_cookie_t cookie, std::string_view what);
    // Round trip: every request sent so far has been processed.
    Result<void> sync();

private:
    XcbConnection(xcb_connection_t* conn, xcb_screen_t* screen)
        : m_conn(conn)
        , m_screen(screen) {}
    xcb_connection_t* m_conn = nullptr;
    xcb_screen_t* m_screen = nullptr;
};

} // namespace bulkhead::gui::xcb
