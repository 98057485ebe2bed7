// XcbCompositor: puts the model's guest windows on dom0's X server. sync() makes the X windows
// match the Desktop (create, map, unmap, move, resize, restack, destroy; title "[domain] …",
// WM_CLASS "domain:class", _QUBES_VMNAME and _QUBES_LABEL_COLOR for the window manager), and
// paint() copies damaged pixels from a window's buffer. Override-redirect windows, which no
// window manager decorates, get a border in the domain's label colour drawn by the daemon over
// their edges. Reads only the model (dom0 state) and validated, mapped pixel buffers.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/gui/model/desktop.h>
#include <bulkhead/gui/xcb/connection.h>
#include <bulkhead/gui/xcb/pixel_buffer.h>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bulkhead::gui::xcb {

class XcbCompositor {
public:
    static Result<XcbCompositor> connect(std::string const& display = {});

    Result<void> sync(model::Desktop const& desktop);
    // Copies `region` (window coordinates) of the buffer to the window, then redraws the
    // daemon border if the window has one. Region clipped to the window and the buffer.
    Result<void> paint(model::Desktop const& desktop, model::WindowHandle h,
                       PixelBuffer const& buffer, model::Rect region);

    std::optional<xcb_window_t> x_window(model::WindowHandle h) const;
    XcbConnection& connection() { return m_conn; }

private:
    struct Atoms {
        xcb_atom_t utf8_string, net_wm_name, qubes_vmname, qubes_label_color;
    };
    struct Shown {
        xcb_window_t id = 0;
        model::Rect rect;
        bool override_redirect = false;
        bool mapped = false;
        std::string title;
        std::string res_class, res_name;
    };

    XcbCompositor(XcbConnection conn, Atoms atoms, xcb_gcontext_t gc)
        : m_conn(std::move(conn))
        , m_atoms(atoms)
        , m_gc(gc) {}
    Result<void> create(model::Desktop const& desktop, model::Window const& w);
    Result<void> update(model::Window const& w, Shown& s);
    Result<void> set_properties(model::Window const& w, Shown& s);
    Result<void> draw_border(model::Desktop const& desktop, model::Window const& w);

    XcbConnection m_conn;
    Atoms m_atoms;
    xcb_gcontext_t m_gc;
    std::unordered_map<model::WindowHandle, Shown> m_shown;
    std::vector<model::WindowHandle> m_stack; // as last restacked
};

} // namespace bulkhead::gui::xcb
