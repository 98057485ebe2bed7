// WindowTracker: the guest side of the GUI. Connected to the domain's own X server, it follows
// the top-level windows (Composite redirection, Damage, core structure and property events)
// and turns them into GUI protocol messages for dom0 (Create, Map, Unmap, Configure, SetTitle,
// SetClass, SetHints from WM_NORMAL_HINTS, SetCursor from XFixes cursor notifies (the cursor
// font glyph its name stands for, sent for the window under the pointer), ShmRegion + memfd,
// Damage); it applies dom0's
// input (Key, Button, Motion through XTEST), focus, resize and close requests. Input comes only
// from dom0, through GuiValidator.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/gui_agent/outbox.h>
#include <bulkhead/gui_agent/shared_buffer.h>
#include <bulkhead/rpc/gui/messages.h>

#include <xcb/damage.h>
#include <xcb/xcb.h>

#include <map>
#include <optional>
#include <string>

namespace bulkhead::gui_agent {

class WindowTracker {
public:
    // display empty: $DISPLAY. Fails when Composite, Damage or XTEST is missing (without
    // XFixes 2+, cursors are not followed).
    static Result<WindowTracker> connect(std::string const& display = {});
    WindowTracker(WindowTracker&& other) noexcept;
    WindowTracker& operator=(WindowTracker&&) = delete;
    ~WindowTracker();

    int fd() const { return xcb_get_file_descriptor(m_conn); }
    // Announces the windows that exist already.
    Result<void> start(Outbox& out);
    // Handles every X event that arrived (no blocking), then captures damaged pixels.
    Result<void> dispatch(Outbox& out);
    // One message from dom0 (already validated).
    Result<void> apply(rpc::gui::ValidatedMessage const& m);
    size_t window_count() const { return m_windows.size(); }
    // Whether damaged rows go straight into the shared buffers (MIT-SHM 1.2) or via GetImage.
    bool uses_xshm() const { return m_shm; }
    // How window buffers reach dom0: memfds beside the messages (sandbox) or grant references
    // (Xen). Set before start().
    void set_sharing(Sharing sharing) { m_sharing = sharing; }

private:
    struct Tracked {
        xcb_window_t id = 0;
        rpc::gui::Rect rect;
        bool override_redirect = false;
        bool mapped = false;
        xcb_damage_damage_t damage = 0;
        std::optional<SharedBuffer> buffer;
        uint32_t shm_segment = 0; // the buffer attached to the X server (XShm), or 0
        std::optional<rpc::gui::Rect> dirty;
        uint32_t cursor = 0; // the SetCursor shape dom0 last got (0 = default)
    };
    struct Atoms {
        xcb_atom_t net_wm_name, utf8_string, wm_protocols, wm_delete_window;
    };

    WindowTracker(xcb_connection_t* c, xcb_screen_t* screen, uint8_t damage_event, Atoms atoms,
                  bool shm, uint8_t cursor_event)
        : m_conn(c)
        , m_screen(screen)
        , m_damage_event(damage_event)
        , m_cursor_event(cursor_event)
        , m_atoms(atoms)
        , m_shm(shm) {}

    Result<void> add(Outbox& out, xcb_window_t id, rpc::gui::Rect rect, bool override_redirect,
                     bool mapped);
    Result<void> map(Outbox& out, Tracked& w);
    Result<void> configure(Outbox& out, Tracked& w, rpc::gui::Rect rect, bool override_redirect);
    Result<void> ensure_buffer(Outbox& out, Tracked& w);
    Result<void> send_title(Outbox& out, xcb_window_t id);
    Result<void> send_class(Outbox& out, xcb_window_t id);
    Result<void> send_hints(Outbox& out, xcb_window_t id);
    void mark_dirty(Tracked& w, rpc::gui::Rect r);
    // XFixes: the displayed cursor changed to the one named `name` (cursor.cpp).
    Result<void> cursor_changed(Outbox& out, xcb_atom_t name);
    Result<void> capture(Outbox& out);
    // XShm: the X server writes damaged rows straight into the shared buffer.
    void attach(Tracked& w);
    void detach(Tracked& w);
    bool capture_shm(Tracked& w, rpc::gui::Rect r);
    Result<void> close(Tracked const& w);
    Tracked* find(rpc::gui::WindowId id);

    xcb_connection_t* m_conn = nullptr;
    xcb_screen_t* m_screen = nullptr;
    uint8_t m_damage_event = 0;
    uint8_t m_cursor_event = 0; // XFixes CursorNotify, 0 when the server has no XFixes 2+
    Atoms m_atoms;
    std::map<xcb_window_t, Tracked> m_windows;
    bool m_shm = false; // MIT-SHM 1.2 (fd passing) on the domain's X server
    Sharing m_sharing = Sharing::Memfd;
};

} // namespace bulkhead::gui_agent
