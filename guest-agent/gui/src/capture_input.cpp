// WindowTracker: damaged pixels into the shared buffers, and dom0's input applied with XTEST.
#include <bulkhead/gui_agent/window_tracker.h>

#include <xcb/shm.h>
#include <xcb/xtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unistd.h>
#include <vector>

namespace bulkhead::gui_agent {

namespace rg = rpc::gui;

void WindowTracker::attach(Tracked& w) {
    if (!m_shm || !w.buffer)
        return;
    int fd = ::dup(w.buffer->fd()); // xcb closes the descriptor it sends
    if (fd < 0)
        return;
    uint32_t seg = xcb_generate_id(m_conn);
    std::unique_ptr<xcb_generic_error_t, decltype(&std::free)> err(
        xcb_request_check(m_conn, xcb_shm_attach_fd_checked(m_conn, seg, fd, 0)), &std::free);
    if (err) {
        m_shm = false; // GetImage from now on
        return;
    }
    w.shm_segment = seg;
}

void WindowTracker::detach(Tracked& w) {
    if (w.shm_segment)
        xcb_shm_detach(m_conn, w.shm_segment);
    w.shm_segment = 0;
}

// Whole rows [r.y, r.y + r.height) land in the buffer at their place (stride = width * 4).
bool WindowTracker::capture_shm(Tracked& w, rg::Rect r) {
    auto const& b = *w.buffer;
    std::unique_ptr<xcb_shm_get_image_reply_t, decltype(&std::free)> img(
        xcb_shm_get_image_reply(m_conn,
                                xcb_shm_get_image(m_conn, w.id, 0, int16_t(r.y),
                                                  uint16_t(b.width()), uint16_t(r.height), ~0u,
                                                  XCB_IMAGE_FORMAT_Z_PIXMAP, w.shm_segment,
                                                  uint32_t(r.y) * b.region().stride),
                                nullptr),
        &std::free);
    return img && img->size == uint64_t(b.width()) * 4 * r.height;
}

Result<void> WindowTracker::capture(Outbox& out) {
    struct Pending {
        xcb_window_t id;
        rg::Rect rect;
        xcb_get_image_cookie_t cookie;
    };
    std::vector<Pending> pending;
    // Every request first, then the replies: one round trip for all damaged windows.
    for (auto& [id, w] : m_windows) {
        if (!w.dirty || !w.mapped || !w.buffer)
            continue;
        auto d = *w.dirty;
        w.dirty.reset();
        int64_t x0 = std::max(d.x, 0), y0 = std::max(d.y, 0);
        int64_t x1 = std::min<int64_t>(int64_t(d.x) + d.width, w.buffer->width());
        int64_t y1 = std::min<int64_t>(int64_t(d.y) + d.height, w.buffer->height());
        if (x1 <= x0 || y1 <= y0)
            continue;
        rg::Rect r{int32_t(x0), int32_t(y0), uint32_t(x1 - x0), uint32_t(y1 - y0)};
        if (w.shm_segment && capture_shm(w, r)) {
            w.buffer->publish(r);
            TRY(out.push(id, rg::Damage{r}));
            continue;
        }
        pending.push_back(
            {id, r,
             xcb_get_image(m_conn, XCB_IMAGE_FORMAT_Z_PIXMAP, id, int16_t(r.x), int16_t(r.y),
                           uint16_t(r.width), uint16_t(r.height), ~0u)});
    }
    for (auto const& p : pending) {
        std::unique_ptr<xcb_get_image_reply_t, decltype(&std::free)> img(
            xcb_get_image_reply(m_conn, p.cookie, nullptr), &std::free);
        auto* w = find(p.id);
        if (!img || !w || !w->buffer)
            continue; // the window went away or changed meanwhile: its events follow
        size_t row_bytes = size_t(p.rect.width) * 4;
        if (size_t(xcb_get_image_data_length(img.get())) < row_bytes * p.rect.height)
            continue; // not a 32 bits-per-pixel window
        auto const* src = reinterpret_cast<std::byte const*>(xcb_get_image_data(img.get()));
        if (p.rect.x + p.rect.width > w->buffer->width() ||
            p.rect.y + p.rect.height > w->buffer->height())
            continue; // resized meanwhile; the resize marked the whole window dirty
        for (uint32_t y = 0; y < p.rect.height; ++y)
            std::memcpy(w->buffer->row(uint32_t(p.rect.y) + y) + size_t(p.rect.x) * 4,
                        src + y * row_bytes, row_bytes);
        w->buffer->publish(p.rect);
        TRY(out.push(p.id, rg::Damage{p.rect}));
    }
    return {};
}

Result<void> WindowTracker::close(Tracked const& w) {
    auto protocols = xcb_get_property_reply(
        m_conn, xcb_get_property(m_conn, 0, w.id, m_atoms.wm_protocols, XCB_ATOM_ATOM, 0, 32),
        nullptr);
    bool polite = false;
    if (protocols) {
        auto const* atoms = static_cast<xcb_atom_t const*>(xcb_get_property_value(protocols));
        int n = xcb_get_property_value_length(protocols) / 4;
        polite = protocols->format == 32 &&
                 std::find(atoms, atoms + n, m_atoms.wm_delete_window) != atoms + n;
        std::free(protocols);
    }
    if (!polite) {
        xcb_kill_client(m_conn, w.id);
        return {};
    }
    xcb_client_message_event_t ev{};
    ev.response_type = XCB_CLIENT_MESSAGE;
    ev.format = 32;
    ev.window = w.id;
    ev.type = m_atoms.wm_protocols;
    ev.data.data32[0] = m_atoms.wm_delete_window;
    ev.data.data32[1] = XCB_CURRENT_TIME;
    xcb_send_event(m_conn, 0, w.id, XCB_EVENT_MASK_NO_EVENT, reinterpret_cast<char const*>(&ev));
    return {};
}

Result<void> WindowTracker::apply(rg::ValidatedMessage const& m) {
    auto* w = find(m.window);
    if (rg::is_window_message(rg::message_type(m.message)) && !w)
        return {}; // a window that is gone here already; dom0 will hear of it
    auto root = m_screen->root;
    // Pointer positions come in window coordinates: the pointer goes there on the guest's
    // screen first, so the event lands where dom0's user pointed.
    auto move_to = [&](int32_t x, int32_t y) {
        auto rx = int16_t(std::clamp<int64_t>(int64_t(w->rect.x) + x, INT16_MIN, INT16_MAX));
        auto ry = int16_t(std::clamp<int64_t>(int64_t(w->rect.y) + y, INT16_MIN, INT16_MAX));
        xcb_test_fake_input(m_conn, XCB_MOTION_NOTIFY, 0, XCB_CURRENT_TIME, root, rx, ry, 0);
    };
    std::visit(
        [&](auto const& msg) {
            using T = std::decay_t<decltype(msg)>;
            if constexpr (std::is_same_v<T, rg::Key>) {
                if (msg.keycode < 8 || msg.keycode > 255)
                    return;
                xcb_test_fake_input(
                    m_conn, msg.action == rg::KeyAction::Press ? XCB_KEY_PRESS : XCB_KEY_RELEASE,
                    uint8_t(msg.keycode), XCB_CURRENT_TIME, XCB_NONE, 0, 0, 0);
            } else if constexpr (std::is_same_v<T, rg::Button>) {
                move_to(msg.x, msg.y);
                xcb_test_fake_input(m_conn,
                                    msg.action == rg::ButtonAction::Press ? XCB_BUTTON_PRESS
                                                                          : XCB_BUTTON_RELEASE,
                                    uint8_t(msg.button), XCB_CURRENT_TIME, XCB_NONE, 0, 0, 0);
            } else if constexpr (std::is_same_v<T, rg::Motion>) {
                move_to(msg.x, msg.y);
            } else if constexpr (std::is_same_v<T, rg::Focus>) {
                if (msg.kind == rg::FocusKind::In) {
                    uint32_t above = XCB_STACK_MODE_ABOVE;
                    xcb_configure_window(m_conn, w->id, XCB_CONFIG_WINDOW_STACK_MODE, &above);
                    xcb_set_input_focus(m_conn, XCB_INPUT_FOCUS_POINTER_ROOT, w->id,
                                        XCB_CURRENT_TIME);
                }
            } else if constexpr (std::is_same_v<T, rg::Configure>) {
                // dom0 resized or moved the window: the guest window follows.
                uint32_t v[] = {uint32_t(int16_t(std::clamp(msg.rect.x, -32768, 32767))),
                                uint32_t(int16_t(std::clamp(msg.rect.y, -32768, 32767))),
                                std::clamp<uint32_t>(msg.rect.width, 1, 65535),
                                std::clamp<uint32_t>(msg.rect.height, 1, 65535)};
                xcb_configure_window(m_conn, w->id,
                                     XCB_CONFIG_WINDOW_X | XCB_CONFIG_WINDOW_Y |
                                         XCB_CONFIG_WINDOW_WIDTH | XCB_CONFIG_WINDOW_HEIGHT,
                                     v);
            } else if constexpr (std::is_same_v<T, rg::CloseRequest>) {
                (void)close(*w);
            }
            // Hello (the session's), Crossing and the clipboard messages: nothing here yet.
        },
        m.message);
    xcb_flush(m_conn);
    return {};
}

} // namespace bulkhead::gui_agent
