// XcbCompositor: X events from dom0's server into the model (input, focus, exposure).
#include <bulkhead/gui/xcb/compositor.h>

#include <cstdlib>
#include <memory>

namespace bulkhead::gui::xcb {

namespace rg = rpc::gui;

Result<void> XcbCompositor::load_keymap() {
    auto* c = m_conn.get();
    auto const* setup = xcb_get_setup(c);
    m_min_keycode = setup->min_keycode;
    auto count = uint8_t(setup->max_keycode - setup->min_keycode + 1);
    auto* r = xcb_get_keyboard_mapping_reply(
        c, xcb_get_keyboard_mapping(c, setup->min_keycode, count), nullptr);
    if (!r)
        return unexpected(Errc::System, "xcb_get_keyboard_mapping failed");
    m_keysyms_per_keycode = r->keysyms_per_keycode;
    auto const* syms = xcb_get_keyboard_mapping_keysyms(r);
    m_keysyms.assign(syms, syms + xcb_get_keyboard_mapping_keysyms_length(r));
    std::free(r);
    return {};
}

uint32_t XcbCompositor::keysym(uint8_t keycode, uint16_t state) const {
    if (keycode < m_min_keycode || m_keysyms_per_keycode == 0)
        return 0;
    size_t base = size_t(keycode - m_min_keycode) * m_keysyms_per_keycode;
    if (base >= m_keysyms.size())
        return 0;
    // Column 1 is the shifted symbol when the map has one.
    if ((state & XCB_MOD_MASK_SHIFT) && m_keysyms_per_keycode > 1 && m_keysyms[base + 1])
        return m_keysyms[base + 1];
    return m_keysyms[base];
}

std::optional<model::WindowHandle> XcbCompositor::handle_of(xcb_window_t id) const {
    for (auto const& [h, s] : m_shown)
        if (s.id == id)
            return h;
    return std::nullopt;
}

Result<XcbCompositor::Dispatched> XcbCompositor::dispatch_events(model::Desktop& desktop) {
    Dispatched out;
    auto append = [&](model::Desktop::Actions a) {
        for (auto& x : a)
            out.actions.push_back(std::move(x));
    };
    while (true) {
        std::unique_ptr<xcb_generic_event_t, decltype(&std::free)> ev(
            xcb_poll_for_event(m_conn.get()), &std::free);
        if (!ev)
            break;
        switch (ev->response_type & 0x7f) {
        case XCB_KEY_PRESS:
        case XCB_KEY_RELEASE: {
            auto* k = reinterpret_cast<xcb_key_press_event_t*>(ev.get());
            if (!handle_of(k->event))
                break;
            model::KeyInput in{(ev->response_type & 0x7f) == XCB_KEY_PRESS ? rg::KeyAction::Press
                                                                           : rg::KeyAction::Release,
                               k->detail, keysym(k->detail, k->state), k->state};
            append(desktop.key(in));
            break;
        }
        case XCB_BUTTON_PRESS:
        case XCB_BUTTON_RELEASE: {
            auto* b = reinterpret_cast<xcb_button_press_event_t*>(ev.get());
            if (!handle_of(b->event))
                break;
            auto action = (ev->response_type & 0x7f) == XCB_BUTTON_PRESS
                              ? rg::ButtonAction::Press
                              : rg::ButtonAction::Release;
            append(desktop.pointer_button({b->root_x, b->root_y}, action, b->detail, b->state));
            break;
        }
        case XCB_MOTION_NOTIFY: {
            auto* m = reinterpret_cast<xcb_motion_notify_event_t*>(ev.get());
            if (handle_of(m->event))
                append(desktop.pointer_motion({m->root_x, m->root_y}, m->state));
            break;
        }
        case XCB_FOCUS_IN: {
            auto* f = reinterpret_cast<xcb_focus_in_event_t*>(ev.get());
            if (f->detail == XCB_NOTIFY_DETAIL_POINTER)
                break;
            if (auto h = handle_of(f->event))
                append(desktop.focus(*h));
            break;
        }
        case XCB_EXPOSE: {
            auto* e = reinterpret_cast<xcb_expose_event_t*>(ev.get());
            if (auto h = handle_of(e->window); h && e->count == 0)
                out.exposed.push_back(*h);
            break;
        }
        case XCB_CONFIGURE_NOTIFY: {
            // The window manager (or the user through it) resized our window: the guest's
            // window follows. Our own configures match the model and change nothing.
            auto* e = reinterpret_cast<xcb_configure_notify_event_t*>(ev.get());
            auto h = handle_of(e->window);
            auto const* w = h ? desktop.window(*h) : nullptr;
            if (!w || (w->rect.width == e->width && w->rect.height == e->height))
                break;
            // Only a synthetic event (ICCCM 4.1.5) has root coordinates under a reparenting
            // window manager; otherwise the position stays the model's.
            bool root_coords = ev->response_type & 0x80;
            model::Rect r{root_coords ? e->x : w->rect.x, root_coords ? e->y : w->rect.y, e->width,
                          e->height};
            m_shown.at(*h).rect = r;
            append(desktop.resize(*h, r));
            break;
        }
        case XCB_CLIENT_MESSAGE: {
            auto* e = reinterpret_cast<xcb_client_message_event_t*>(ev.get());
            auto h = handle_of(e->window);
            if (h && e->format == 32 && e->type == m_atoms.wm_protocols &&
                e->data.data32[0] == m_atoms.wm_delete_window)
                append(desktop.request_close(*h));
            break;
        }
        case 0: // an error for an unchecked request (e.g. a window the WM destroyed first)
            ++m_x_errors;
            break;
        default:
            break;
        }
    }
    if (xcb_connection_has_error(m_conn.get()))
        return unexpected(Errc::Closed, "xcb: the X server connection is gone");
    return out;
}

} // namespace bulkhead::gui::xcb
