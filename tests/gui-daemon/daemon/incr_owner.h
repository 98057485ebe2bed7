// A domain application that owns CLIPBOARD and hands it over with ICCCM's INCR protocol, in
// pieces of 4,000 bytes (xclip sends up to ~1 MiB at once on a server with BIG-REQUESTS, so
// it never does): the property first holds INCR and a size, then each deletion by the
// requestor is answered with the next piece, and an empty piece ends it. Runs on its own
// thread and X connection until destroyed.
#pragma once

#include "guid_test_util.h"

#include <atomic>
#include <map>
#include <poll.h>
#include <string>
#include <thread>

namespace guid_test {

class IncrOwner {
public:
    IncrOwner(std::string const& display, std::string text)
        : m_x(display)
        , m_text(std::move(text)) {
        m_window = xcb_generate_id(m_x.c);
        xcb_create_window(m_x.c, 0, m_window, m_x.screen->root, 0, 0, 1, 1, 0,
                          XCB_WINDOW_CLASS_INPUT_ONLY, XCB_COPY_FROM_PARENT, 0, nullptr);
        m_clipboard = m_x.atom("CLIPBOARD");
        m_utf8 = m_x.atom("UTF8_STRING");
        m_incr = m_x.atom("INCR");
        xcb_set_selection_owner(m_x.c, m_window, m_clipboard, XCB_CURRENT_TIME);
        xcb_flush(m_x.c);
        m_thread = std::thread([this] { run(); });
    }
    ~IncrOwner() {
        m_stop = true;
        m_thread.join();
    }
    // Pieces handed over so far (the INCR header not counted).
    size_t pieces() const { return m_pieces; }

private:
    struct Transfer {
        xcb_atom_t property;
        size_t sent = 0;
        bool done = false;
    };

    void notify(xcb_selection_request_event_t const& e, xcb_atom_t property) {
        xcb_selection_notify_event_t n{};
        n.response_type = XCB_SELECTION_NOTIFY;
        n.time = e.time;
        n.requestor = e.requestor;
        n.selection = e.selection;
        n.target = e.target;
        n.property = property;
        xcb_send_event(m_x.c, 0, e.requestor, XCB_EVENT_MASK_NO_EVENT, reinterpret_cast<char*>(&n));
    }
    void run() {
        while (!m_stop) {
            pollfd p{xcb_get_file_descriptor(m_x.c), POLLIN, 0};
            ::poll(&p, 1, 20);
            while (auto ev = reply(xcb_poll_for_event(m_x.c))) {
                auto type = ev->response_type & 0x7f;
                if (type == XCB_SELECTION_REQUEST) {
                    auto& e = *reinterpret_cast<xcb_selection_request_event_t*>(ev.get());
                    if (e.target != m_utf8) {
                        notify(e, XCB_NONE);
                        continue;
                    }
                    // Follow the requestor's property, then announce the size.
                    uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE;
                    xcb_change_window_attributes(m_x.c, e.requestor, XCB_CW_EVENT_MASK, &mask);
                    uint32_t size = uint32_t(m_text.size());
                    xcb_change_property(m_x.c, XCB_PROP_MODE_REPLACE, e.requestor, e.property,
                                        m_incr, 32, 1, &size);
                    m_transfers[e.requestor] = {e.property};
                    notify(e, e.property);
                } else if (type == XCB_PROPERTY_NOTIFY) {
                    auto& e = *reinterpret_cast<xcb_property_notify_event_t*>(ev.get());
                    auto it = m_transfers.find(e.window);
                    if (it == m_transfers.end() || e.atom != it->second.property ||
                        e.state != XCB_PROPERTY_DELETE || it->second.done)
                        continue;
                    auto& t = it->second;
                    size_t n = std::min<size_t>(4000, m_text.size() - t.sent);
                    xcb_change_property(m_x.c, XCB_PROP_MODE_REPLACE, e.window, t.property, m_utf8,
                                        8, uint32_t(n), m_text.data() + t.sent);
                    t.sent += n;
                    t.done = n == 0;
                    if (n)
                        ++m_pieces;
                }
            }
            xcb_flush(m_x.c);
        }
    }

    XClient m_x;
    std::string m_text;
    xcb_window_t m_window = 0;
    xcb_atom_t m_clipboard = 0, m_utf8 = 0, m_incr = 0;
    std::map<xcb_window_t, Transfer> m_transfers;
    std::atomic<bool> m_stop{false};
    std::atomic<size_t> m_pieces{0};
    std::thread m_thread;
};

} // namespace guid_test
