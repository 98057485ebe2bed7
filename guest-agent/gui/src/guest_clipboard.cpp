#include "xcb_reply.h"

#include <bulkhead/base/log.h>
#include <bulkhead/gui_agent/guest_clipboard.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

namespace bulkhead::gui_agent {

namespace rg = rpc::gui;

namespace {

Logger const log{"gui-agent"};

} // namespace

Result<GuestClipboard> GuestClipboard::connect(std::string const& display, size_t max_bytes,
                                               std::chrono::milliseconds timeout) {
    int screen_no = 0;
    xcb_connection_t* c = xcb_connect(display.empty() ? nullptr : display.c_str(), &screen_no);
    if (xcb_connection_has_error(c)) {
        xcb_disconnect(c);
        return unexpected(Errc::Unsupported,
                          "gui-agent: clipboard: cannot connect to X display '" + display + "'");
    }
    auto it = xcb_setup_roots_iterator(xcb_get_setup(c));
    for (int i = 0; i < screen_no && it.rem; ++i)
        xcb_screen_next(&it);
    if (!it.rem) {
        xcb_disconnect(c);
        return unexpected(Errc::Unsupported, "gui-agent: clipboard: no such screen");
    }
    Atoms a{intern(c, "CLIPBOARD"), intern(c, "UTF8_STRING"), intern(c, "TARGETS"),
            intern(c, "TEXT"),      intern(c, "INCR"),        intern(c, "_BULKHEAD_CLIPBOARD")};
    // An InputOnly window: never shown (WindowTracker follows InputOutput windows only), but it
    // can own selections and receive the properties owners write.
    xcb_window_t w = xcb_generate_id(c);
    uint32_t events = XCB_EVENT_MASK_PROPERTY_CHANGE;
    auto err = reply(xcb_request_check(
        c, xcb_create_window_checked(c, 0, w, it.data->root, -1, -1, 1, 1, 0,
                                     XCB_WINDOW_CLASS_INPUT_ONLY, XCB_COPY_FROM_PARENT,
                                     XCB_CW_EVENT_MASK, &events)));
    if (err || !a.clipboard || !a.utf8_string || !a.property) {
        xcb_disconnect(c);
        return unexpected(Errc::System, "gui-agent: clipboard: cannot create its window");
    }
    xcb_flush(c);
    return GuestClipboard(c, w, a, max_bytes, timeout);
}

GuestClipboard::GuestClipboard(GuestClipboard&& o) noexcept
    : m_conn(std::exchange(o.m_conn, nullptr))
    , m_window(o.m_window)
    , m_atoms(o.m_atoms)
    , m_max(o.m_max)
    , m_timeout(o.m_timeout)
    , m_phase(o.m_phase)
    , m_target(o.m_target)
    , m_deadline(o.m_deadline)
    , m_incoming(std::move(o.m_incoming))
    , m_truncated(o.m_truncated)
    , m_pasted(std::move(o.m_pasted))
    , m_own_clipboard(o.m_own_clipboard)
    , m_own_primary(o.m_own_primary) {}

GuestClipboard::~GuestClipboard() {
    if (m_conn)
        xcb_disconnect(m_conn);
}

void GuestClipboard::convert(xcb_atom_t target) {
    m_target = target;
    xcb_delete_property(m_conn, m_window, m_atoms.property);
    xcb_convert_selection(m_conn, m_window, m_atoms.clipboard, target, m_atoms.property,
                          XCB_CURRENT_TIME);
    xcb_flush(m_conn);
}

Result<void> GuestClipboard::request(Outbox& out, Clock::time_point now) {
    m_phase = Phase::Idle;
    m_incoming.clear();
    m_truncated = false;
    auto owner = reply(xcb_get_selection_owner_reply(
        m_conn, xcb_get_selection_owner(m_conn, m_atoms.clipboard), nullptr));
    if (!owner || owner->owner == XCB_NONE) {
        LOG_INFO(log, "clipboard requested: nobody owns CLIPBOARD");
        return answer(out);
    }
    if (owner->owner == m_window) { // what dom0 pasted here last
        m_incoming = m_pasted;
        return answer(out);
    }
    m_phase = Phase::Converting;
    m_deadline = now + m_timeout;
    convert(m_atoms.utf8_string);
    return {};
}

void GuestClipboard::set(std::vector<std::byte> bytes) {
    m_pasted = std::move(bytes);
    xcb_set_selection_owner(m_conn, m_window, m_atoms.clipboard, XCB_CURRENT_TIME);
    xcb_set_selection_owner(m_conn, m_window, XCB_ATOM_PRIMARY, XCB_CURRENT_TIME);
    xcb_flush(m_conn);
    m_own_clipboard = m_own_primary = true;
    LOG_INFO(log, "clipboard pasted from dom0", {"bytes", m_pasted.size()});
}

bool GuestClipboard::take_property(xcb_atom_t* type, size_t* chunk) {
    // Read at most what still fits under the cap (+1 byte to notice more), then delete.
    size_t room = m_max - std::min(m_max, m_incoming.size());
    uint32_t units = uint32_t(room / 4 + 1);
    auto r = reply(xcb_get_property_reply(m_conn,
                                          xcb_get_property(m_conn, 1, m_window, m_atoms.property,
                                                           XCB_GET_PROPERTY_TYPE_ANY, 0, units),
                                          nullptr));
    if (!r)
        return false;
    if (r->bytes_after > 0) // more than the cap: the rest stays unread
        xcb_delete_property(m_conn, m_window, m_atoms.property);
    *type = r->type;
    auto n = size_t(xcb_get_property_value_length(r.get()));
    *chunk = n;
    auto const* p = static_cast<std::byte const*>(xcb_get_property_value(r.get()));
    if (*type == m_atoms.incr)
        return true;
    size_t keep = std::min(n, room);
    m_incoming.insert(m_incoming.end(), p, p + keep);
    if (keep < n || r->bytes_after > 0)
        m_truncated = true;
    return true;
}

Result<void> GuestClipboard::on_notify(Outbox& out, xcb_selection_notify_event_t const& e) {
    if (m_phase != Phase::Converting || e.requestor != m_window || e.selection != m_atoms.clipboard)
        return {};
    if (e.property == XCB_NONE) {
        if (m_target == m_atoms.utf8_string) {
            convert(XCB_ATOM_STRING); // an owner that only speaks STRING
            return {};
        }
        LOG_INFO(log, "clipboard requested: the owner refused to convert it");
        return answer(out);
    }
    xcb_atom_t type = XCB_NONE;
    size_t chunk = 0;
    if (!take_property(&type, &chunk)) {
        LOG_WARN(log, "clipboard requested: reading the selection failed");
        m_incoming.clear();
        return answer(out);
    }
    if (type == m_atoms.incr) {
        // The owner sends it in pieces; deleting the property (done) asks for the first.
        m_phase = Phase::Incr;
        xcb_flush(m_conn);
        return {};
    }
    return answer(out);
}

Result<void> GuestClipboard::on_property(Outbox& out) {
    xcb_atom_t type = XCB_NONE;
    size_t chunk = 0;
    if (!take_property(&type, &chunk)) {
        m_incoming.clear();
        return answer(out);
    }
    xcb_flush(m_conn);
    // A zero-length piece ends the transfer; past the cap we stop following it.
    if (chunk == 0 || m_truncated)
        return answer(out);
    return {};
}

Result<void> GuestClipboard::answer(Outbox& out) {
    m_phase = Phase::Idle;
    if (m_truncated)
        LOG_WARN(log,
                 "clipboard over the protocol's cap: the first bytes go to dom0, which "
                 "refuses them as too large",
                 {"cap", m_max});
    else
        LOG_INFO(log, "clipboard sent to dom0", {"bytes", m_incoming.size()});
    auto bytes = std::move(m_incoming);
    m_incoming.clear();
    m_truncated = false;
    return out.push(0, rg::ClipboardData{std::move(bytes)});
}

void GuestClipboard::on_request(xcb_selection_request_event_t const& e) {
    // A client of the domain wants what dom0 pasted. Its window and property are its own
    // business: errors (a window gone) come back as events and are ignored.
    xcb_atom_t property = e.property == XCB_NONE ? e.target : e.property; // ICCCM: old clients
    bool ours = (e.selection == m_atoms.clipboard && m_own_clipboard) ||
                (e.selection == XCB_ATOM_PRIMARY && m_own_primary);
    auto const* data = reinterpret_cast<uint8_t const*>(m_pasted.data());
    if (!ours || e.owner != m_window) {
        property = XCB_NONE;
    } else if (e.target == m_atoms.targets) {
        xcb_atom_t list[] = {m_atoms.targets, m_atoms.utf8_string, XCB_ATOM_STRING, m_atoms.text};
        xcb_change_property(m_conn, XCB_PROP_MODE_REPLACE, e.requestor, property, XCB_ATOM_ATOM, 32,
                            4, list);
    } else if (e.target == m_atoms.utf8_string || e.target == m_atoms.text) {
        xcb_change_property(m_conn, XCB_PROP_MODE_REPLACE, e.requestor, property,
                            m_atoms.utf8_string, 8, uint32_t(m_pasted.size()), data);
    } else if (e.target == XCB_ATOM_STRING) {
        // The bytes as they are (ASCII text is the same in both); no conversion is guessed.
        xcb_change_property(m_conn, XCB_PROP_MODE_REPLACE, e.requestor, property, XCB_ATOM_STRING,
                            8, uint32_t(m_pasted.size()), data);
    } else {
        property = XCB_NONE; // MULTIPLE and anything else: refused
    }
    xcb_selection_notify_event_t n{};
    n.response_type = XCB_SELECTION_NOTIFY;
    n.time = e.time;
    n.requestor = e.requestor;
    n.selection = e.selection;
    n.target = e.target;
    n.property = property;
    xcb_send_event(m_conn, 0, e.requestor, XCB_EVENT_MASK_NO_EVENT, reinterpret_cast<char*>(&n));
    xcb_flush(m_conn);
}

Result<void> GuestClipboard::dispatch(Outbox& out, Clock::time_point now) {
    for (;;) {
        auto ev = reply(xcb_poll_for_event(m_conn));
        if (!ev)
            break;
        switch (ev->response_type & 0x7f) {
        case XCB_SELECTION_NOTIFY:
            TRY(on_notify(out, *reinterpret_cast<xcb_selection_notify_event_t*>(ev.get())));
            break;
        case XCB_PROPERTY_NOTIFY: {
            auto* e = reinterpret_cast<xcb_property_notify_event_t*>(ev.get());
            if (m_phase == Phase::Incr && e->window == m_window && e->atom == m_atoms.property &&
                e->state == XCB_PROPERTY_NEW_VALUE)
                TRY(on_property(out));
            break;
        }
        case XCB_SELECTION_REQUEST:
            on_request(*reinterpret_cast<xcb_selection_request_event_t*>(ev.get()));
            break;
        case XCB_SELECTION_CLEAR: {
            auto* e = reinterpret_cast<xcb_selection_clear_event_t*>(ev.get());
            if (e->selection == m_atoms.clipboard)
                m_own_clipboard = false;
            else if (e->selection == XCB_ATOM_PRIMARY)
                m_own_primary = false;
            if (!m_own_clipboard && !m_own_primary)
                m_pasted.clear(); // another client owns both now
            break;
        }
        default: // errors for requestors that went away, other events
            break;
        }
    }
    if (xcb_connection_has_error(m_conn))
        return unexpected(Errc::Closed, "gui-agent: the clipboard's X connection is gone");
    if (m_phase != Phase::Idle && now >= m_deadline) {
        LOG_WARN(log, "clipboard requested: the owner did not answer in time; dom0 gets it empty",
                 {"timeout_ms", m_timeout.count()});
        m_incoming.clear();
        m_truncated = false;
        return answer(out);
    }
    return {};
}

} // namespace bulkhead::gui_agent
