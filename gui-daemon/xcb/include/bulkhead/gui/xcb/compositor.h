// XcbCompositor: puts the model's guest windows on dom0's X server. sync() makes the X windows
// match the Desktop (create, map, unmap, move, resize, restack, destroy; title "[domain] …",
// WM_CLASS "domain:class", _QUBES_VMNAME and _QUBES_LABEL_COLOR for the window manager, the
// guest's size hints as WM_NORMAL_HINTS, clamped to dom0's screen; the guest's cursor as the
// window's cursor, a glyph of dom0's own cursor font, never guest pixels), and
// paint() copies damaged pixels from a window's buffer. Override-redirect windows, which no
// window manager decorates, get a border in the domain's label colour drawn by the daemon over
// their edges. Reads only the model (dom0 state) and validated, mapped pixel buffers.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/gui/model/desktop.h>
#include <bulkhead/gui/xcb/connection.h>
#include <bulkhead/gui/xcb/pixel_buffer.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bulkhead::gui::xcb {

// The ICCCM WM_SIZE_HINTS words (18 CARD32) for a window's validated size hints: a minimum,
// increment and base size at most dom0's screen, a maximum at least the minimum.
std::array<uint32_t, 18> wm_size_hints(rpc::gui::SetHints const& hints, uint32_t screen_width,
                                       uint32_t screen_height);

class XcbCompositor {
public:
    static Result<XcbCompositor> connect(std::string const& display = {});

    Result<void> sync(model::Desktop const& desktop);
    // Copies `region` (window coordinates) of the buffer to the window, then redraws the
    // daemon border if the window has one. Region clipped to the window and the buffer.
    // With MIT-SHM 1.2 (fd passing) the X server reads the buffer's memfd itself (attached
    // read-only once per buffer, ShmPutImage); otherwise the pixels go in PutImage requests.
    Result<void> paint(model::Desktop const& desktop, model::WindowHandle h,
                       PixelBuffer const& buffer, model::Rect region);

    std::optional<xcb_window_t> x_window(model::WindowHandle h) const;
    XcbConnection& connection() { return m_conn; }
    // The connection's fd, readable when X events arrived (for the daemon's event loop).
    int fd() const { return xcb_get_file_descriptor(m_conn.get()); }

    // Handles the X events that arrived, without blocking: key press/release in our windows →
    // desktop.key (keysym from the server's keyboard map), button and motion → pointer_* in
    // root coordinates, FocusIn on our window (the window manager's choice) → desktop.focus,
    // Expose → `exposed` (the daemon repaints those windows), a new size from the window
    // manager (ConfigureNotify) → desktop.resize, its WM_DELETE_WINDOW → desktop.request_close
    // (our windows carry WM_PROTOCOLS, so a window manager asks rather than killing dom0's
    // client). Events on other windows are ignored. Returns the model's actions for the guests.
    struct Dispatched {
        model::Desktop::Actions actions;
        std::vector<model::WindowHandle> exposed;
    };
    Result<Dispatched> dispatch_events(model::Desktop& desktop);
    // X errors for unchecked requests seen by dispatch_events (counted, not fatal).
    uint64_t x_errors() const { return m_x_errors; }
    // Whether paint() uses XShm (the server has MIT-SHM 1.2 and no attach failed).
    bool uses_xshm() const { return m_shm; }

private:
    struct Atoms {
        xcb_atom_t utf8_string, net_wm_name, qubes_vmname, qubes_label_color, wm_protocols,
            wm_delete_window;
    };
    struct Shown {
        xcb_window_t id = 0;
        model::Rect rect;
        bool override_redirect = false;
        bool mapped = false;
        std::string title;
        std::string res_class, res_name;
        rpc::gui::SetHints hints; // as last written to WM_NORMAL_HINTS (none at first)
        uint32_t cursor = 0;      // as last set (0 = the parent's, i.e. the root's)
    };

    XcbCompositor(XcbConnection conn, Atoms atoms, xcb_gcontext_t gc)
        : m_conn(std::move(conn))
        , m_atoms(atoms)
        , m_gc(gc) {}
    Result<void> create(model::Desktop const& desktop, model::Window const& w);
    Result<void> update(model::Window const& w, Shown& s);
    Result<void> set_properties(model::Window const& w, Shown& s);
    Result<void> draw_border(model::Desktop const& desktop, model::Window const& w);
    Result<void> load_keymap();
    uint32_t keysym(uint8_t keycode, uint16_t state) const;
    std::optional<model::WindowHandle> handle_of(xcb_window_t id) const;
    // The XShm segment of h's current buffer, attached when the buffer is new to us.
    std::optional<uint32_t> segment(model::WindowHandle h, PixelBuffer const& buffer);
    void detach(model::WindowHandle h);
    // The cursor-font glyph cursor for a validated shape (even, < 154), made once.
    xcb_cursor_t glyph_cursor(uint32_t shape);

    XcbConnection m_conn;
    Atoms m_atoms;
    xcb_gcontext_t m_gc;
    std::unordered_map<model::WindowHandle, Shown> m_shown;
    std::vector<model::WindowHandle> m_stack; // as last restacked
    uint8_t m_min_keycode = 0;
    uint8_t m_keysyms_per_keycode = 0;
    std::vector<uint32_t> m_keysyms; // the server's keyboard map from m_min_keycode
    uint64_t m_x_errors = 0;
    bool m_shm = false;
    struct Segment {
        uint64_t serial = 0;
        uint32_t seg = 0;
    };
    std::unordered_map<model::WindowHandle, Segment> m_segments;
    xcb_font_t m_cursor_font = 0;
    std::unordered_map<uint32_t, xcb_cursor_t> m_cursors; // by glyph
};

} // namespace bulkhead::gui::xcb
