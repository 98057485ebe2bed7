// Desktop: focus, stacking and the window manager's requests, and input routing: keys to the
// focused window only (and the clipboard combinations to dom0), pointer events to the window
// under the pointer — or the one holding a pressed button — in that window's coordinates.
#include <bulkhead/gui/model/desktop.h>

#include <algorithm>

namespace bulkhead::gui::model {

namespace rg = rpc::gui;

namespace {

bool is_clipboard_combination(KeyInput const& k) {
    uint32_t mods = k.state & (shift_mask | control_mask | mod1_mask | mod4_mask);
    if (mods != (shift_mask | control_mask))
        return false;
    return k.keysym == keysym_c || k.keysym == keysym_C || k.keysym == keysym_v ||
           k.keysym == keysym_V;
}

int32_t local(int32_t screen, int32_t origin) {
    return int32_t(std::clamp<int64_t>(int64_t(screen) - origin, INT32_MIN, INT32_MAX));
}

} // namespace

Desktop::Actions Desktop::focus(std::optional<WindowHandle> h) {
    if (h) {
        auto const* w = window(*h);
        if (!w || !w->mapped)
            return {};
    }
    if (h == m_focus)
        return {};
    Actions out;
    if (m_focus) {
        auto const& old = m_windows.at(*m_focus);
        out.push_back(SendToGuest{old.domain, old.guest_id, rg::Focus{rg::FocusKind::Out}});
    }
    m_focus = h;
    if (h) {
        auto const& w = m_windows.at(*h);
        out.push_back(SendToGuest{w.domain, w.guest_id, rg::Focus{rg::FocusKind::In}});
    }
    return out;
}

void Desktop::raise(WindowHandle h) {
    auto it = std::find(m_stack.begin(), m_stack.end(), h);
    if (it == m_stack.end())
        return;
    m_stack.erase(it);
    m_stack.push_back(h);
}

Desktop::Actions Desktop::request_close(WindowHandle h) {
    auto const* w = window(h);
    if (!w)
        return {};
    return {SendToGuest{w->domain, w->guest_id, rg::CloseRequest{}}};
}

Desktop::Actions Desktop::resize(WindowHandle h, Rect rect) {
    auto* w = window_mut(h);
    if (!w || rect.width == 0 || rect.height == 0)
        return {};
    w->rect = rect;
    set_override_redirect(*w, w->requested_override_redirect);
    rg::Configure c{rect,
                    w->override_redirect ? rg::OverrideRedirect::Yes : rg::OverrideRedirect::No};
    return {SendToGuest{w->domain, w->guest_id, c}};
}

Desktop::Actions Desktop::clipboard_key(Window const& w, uint32_t keysym) {
    if (keysym == keysym_c || keysym == keysym_C) {
        m_clipboard.request_copy(w.domain);
        return {SendToGuest{w.domain, 0, rg::ClipboardRequest{}}};
    }
    auto paste = m_clipboard.paste(w.domain);
    if (!paste) {
        if (paste.error().code() == Errc::Denied)
            return {Notify{NotifyKind::ClipboardDenied, m_clipboard.source().value_or(""), w.domain,
                           m_clipboard.size()}};
        return {};
    }
    if (!*paste)
        return {};
    auto& p = **paste;
    return {SendToGuest{w.domain, 0, rg::ClipboardData{std::move(p.bytes)}}, p.notify};
}

Desktop::Actions Desktop::key(KeyInput const& k) {
    // The release of a combination dom0 consumed is consumed too (the guest never saw its press).
    if (k.action == rg::KeyAction::Release) {
        auto it = std::find(m_swallowed_keys.begin(), m_swallowed_keys.end(), k.keycode);
        if (it != m_swallowed_keys.end()) {
            m_swallowed_keys.erase(it);
            return {};
        }
    }
    if (!m_focus)
        return {};
    auto const& w = m_windows.at(*m_focus);
    if (k.action == rg::KeyAction::Press && is_clipboard_combination(k)) {
        // Auto-repeat sends presses without releases: remember each keycode once.
        if (std::find(m_swallowed_keys.begin(), m_swallowed_keys.end(), k.keycode) ==
            m_swallowed_keys.end())
            m_swallowed_keys.push_back(k.keycode);
        return clipboard_key(w, k.keysym);
    }
    return {SendToGuest{w.domain, w.guest_id, rg::Key{k.action, k.keycode, k.state}}};
}

std::optional<WindowHandle> Desktop::window_at(Point p) const {
    for (auto it = m_stack.rbegin(); it != m_stack.rend(); ++it)
        if (m_windows.at(*it).contains(p))
            return *it;
    return std::nullopt;
}

Desktop::Actions Desktop::send_pointer_crossing(std::optional<WindowHandle> to, Point p,
                                                uint32_t state) {
    Actions out;
    if (to == m_pointer_window)
        return out;
    if (m_pointer_window) {
        auto const& old = m_windows.at(*m_pointer_window);
        out.push_back(SendToGuest{old.domain, old.guest_id,
                                  rg::Crossing{rg::CrossingKind::Leave, local(p.x, old.rect.x),
                                               local(p.y, old.rect.y), state}});
    }
    m_pointer_window = to;
    if (to) {
        auto const& w = m_windows.at(*to);
        out.push_back(SendToGuest{w.domain, w.guest_id,
                                  rg::Crossing{rg::CrossingKind::Enter, local(p.x, w.rect.x),
                                               local(p.y, w.rect.y), state}});
    }
    return out;
}

Desktop::Actions Desktop::pointer_motion(Point p, uint32_t state) {
    // While a button is held the window that got the press keeps the pointer (X's implicit grab).
    auto target = m_grab ? m_grab : window_at(p);
    Actions out = send_pointer_crossing(target, p, state);
    if (target) {
        auto const& w = m_windows.at(*target);
        out.push_back(SendToGuest{w.domain, w.guest_id,
                                  rg::Motion{local(p.x, w.rect.x), local(p.y, w.rect.y), state}});
    }
    return out;
}

Desktop::Actions Desktop::pointer_button(Point p, rg::ButtonAction action, uint32_t button,
                                         uint32_t state) {
    if (button == 0 || button > 31)
        return {};
    uint32_t bit = 1u << button;
    std::optional<WindowHandle> target;
    if (action == rg::ButtonAction::Press) {
        target = m_grab ? m_grab : window_at(p);
        if (!target)
            return {};
        m_grab = target;
        m_grab_buttons |= bit;
    } else {
        if (!m_grab || !(m_grab_buttons & bit))
            return {}; // a release whose press no window got
        target = m_grab;
        m_grab_buttons &= ~bit;
        if (!m_grab_buttons)
            m_grab.reset();
    }
    Actions out = send_pointer_crossing(target, p, state);
    auto const& w = m_windows.at(*target);
    out.push_back(
        SendToGuest{w.domain, w.guest_id,
                    rg::Button{action, button, local(p.x, w.rect.x), local(p.y, w.rect.y), state}});
    return out;
}

} // namespace bulkhead::gui::model
