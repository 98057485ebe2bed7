#include <bulkhead/gui/xcb/connection.h>

#include <cstdlib>
#include <utility>

namespace bulkhead::gui::xcb {

namespace {

bool is_rgb24(xcb_screen_t const* s) {
    if (s->root_depth != 24)
        return false;
    for (auto d = xcb_screen_allowed_depths_iterator(s); d.rem; xcb_depth_next(&d)) {
        for (auto v = xcb_depth_visuals_iterator(d.data); v.rem; xcb_visualtype_next(&v)) {
            if (v.data->visual_id == s->root_visual)
                return v.data->_class == XCB_VISUAL_CLASS_TRUE_COLOR &&
                       v.data->red_mask == 0xff0000 && v.data->green_mask == 0x00ff00 &&
                       v.data->blue_mask == 0x0000ff;
        }
    }
    return false;
}

} // namespace

Result<XcbConnection> XcbConnection::open(std::string const& display) {
    int screen_no = 0;
    xcb_connection_t* c = xcb_connect(display.empty() ? nullptr : display.c_str(), &screen_no);
    if (int err = xcb_connection_has_error(c)) {
        xcb_disconnect(c);
        return unexpected(Errc::Unsupported, "xcb_connect(" + display +
                                                 "): cannot open display (error " +
                                                 std::to_string(err) + ")");
    }
    auto it = xcb_setup_roots_iterator(xcb_get_setup(c));
    for (int i = 0; i < screen_no && it.rem; ++i)
        xcb_screen_next(&it);
    if (!it.rem || !is_rgb24(it.data)) {
        xcb_disconnect(c);
        return unexpected(Errc::Unsupported, "xcb: the screen is not 24-bit TrueColor RGB");
    }
    return XcbConnection(c, it.data);
}

XcbConnection::XcbConnection(XcbConnection&& other) noexcept
    : m_conn(std::exchange(other.m_conn, nullptr))
    , m_screen(std::exchange(other.m_screen, nullptr)) {}

XcbConnection::~XcbConnection() {
    if (m_conn)
        xcb_disconnect(m_conn);
}

Result<xcb_atom_t> XcbConnection::atom(std::string_view name) {
    auto cookie = xcb_intern_atom(m_conn, 0, uint16_t(name.size()), name.data());
    xcb_generic_error_t* err = nullptr;
    auto* reply = xcb_intern_atom_reply(m_conn, cookie, &err);
    if (!reply) {
        int code = err ? err->error_code : 0;
        std::free(err);
        return unexpected(Errc::System, "xcb_intern_atom(" + std::string(name) + "): X error " +
                                            std::to_string(code));
    }
    xcb_atom_t a = reply->atom;
    std::free(reply);
    return a;
}

Result<void> XcbConnection::check(xcb_void_cookie_t cookie, std::string_view what) {
    if (auto* err = xcb_request_check(m_conn, cookie)) {
        int code = err->error_code;
        std::free(err);
        return unexpected(Errc::System, std::string(what) + ": X error " + std::to_string(code));
    }
    return {};
}

Result<void> XcbConnection::sync() {
    auto* reply = xcb_get_input_focus_reply(m_conn, xcb_get_input_focus(m_conn), nullptr);
    if (!reply)
        return unexpected(Errc::Closed, "xcb: the X server connection is gone");
    std::free(reply);
    return {};
}

} // namespace bulkhead::gui::xcb
