// WindowTracker: connecting, following top-level windows and announcing them to dom0.
#include "xcb_reply.h"

#include <bulkhead/gui_agent/window_tracker.h>

#include <xcb/composite.h>
#include <xcb/shm.h>
#include <xcb/xfixes.h>
#include <xcb/xtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

namespace bulkhead::gui_agent {

namespace rg = rpc::gui;

namespace {

// The text of a string property (at most 4 KiB), empty when unset.
std::string text_property(xcb_connection_t* c, xcb_window_t w, xcb_atom_t prop, xcb_atom_t type) {
    auto r =
        reply(xcb_get_property_reply(c, xcb_get_property(c, 0, w, prop, type, 0, 1024), nullptr));
    if (!r || r->format != 8)
        return {};
    auto const* p = static_cast<char const*>(xcb_get_property_value(r.get()));
    return std::string(p, size_t(xcb_get_property_value_length(r.get())));
}

constexpr uint32_t window_events = XCB_EVENT_MASK_PROPERTY_CHANGE;

} // namespace

Result<WindowTracker> WindowTracker::connect(std::string const& display) {
    int screen_no = 0;
    xcb_connection_t* c = xcb_connect(display.empty() ? nullptr : display.c_str(), &screen_no);
    if (xcb_connection_has_error(c)) {
        xcb_disconnect(c);
        return unexpected(Errc::Unsupported,
                          "gui-agent: cannot connect to X display '" + display + "'");
    }
    auto it = xcb_setup_roots_iterator(xcb_get_setup(c));
    for (int i = 0; i < screen_no && it.rem; ++i)
        xcb_screen_next(&it);
    auto fail = [c](std::string what) -> Result<WindowTracker> {
        xcb_disconnect(c);
        return unexpected(Errc::Unsupported, "gui-agent: " + what);
    };
    if (!it.rem)
        return fail("no such screen");
    auto comp =
        reply(xcb_composite_query_version_reply(c, xcb_composite_query_version(c, 0, 4), nullptr));
    if (!comp || (comp->major_version == 0 && comp->minor_version < 2))
        return fail("the X server has no Composite 0.2+");
    auto const* dext = xcb_get_extension_data(c, &xcb_damage_id);
    if (!dext || !dext->present)
        return fail("the X server has no DAMAGE extension");
    auto dmg = reply(xcb_damage_query_version_reply(c, xcb_damage_query_version(c, 1, 1), nullptr));
    if (!dmg)
        return fail("DAMAGE version query failed");
    auto xt = reply(xcb_test_get_version_reply(c, xcb_test_get_version(c, 2, 2), nullptr));
    if (!xt)
        return fail("the X server has no XTEST extension");
    bool shm = false;
    if (auto const* sext = xcb_get_extension_data(c, &xcb_shm_id); sext && sext->present) {
        auto v = reply(xcb_shm_query_version_reply(c, xcb_shm_query_version(c), nullptr));
        shm = v && (v->major_version > 1 || (v->major_version == 1 && v->minor_version >= 2));
    }
    Atoms a{intern(c, "_NET_WM_NAME"), intern(c, "UTF8_STRING"), intern(c, "WM_PROTOCOLS"),
            intern(c, "WM_DELETE_WINDOW")};
    xcb_screen_t* screen = it.data;
    // Window contents go to off-screen pixmaps (the server still composites them itself), so
    // an obscured or off-screen window can be read whole.
    xcb_composite_redirect_subwindows(c, screen->root, XCB_COMPOSITE_REDIRECT_AUTOMATIC);
    uint32_t mask = XCB_EVENT_MASK_SUBSTRUCTURE_NOTIFY;
    auto err = reply(xcb_request_check(
        c, xcb_change_window_attributes_checked(c, screen->root, XCB_CW_EVENT_MASK, &mask)));
    if (err)
        return fail("cannot select structure events on the root window");
    // Cursor changes: the displayed cursor's name (XFixes 2+; followed only if present).
    uint8_t cursor_event = 0;
    if (auto const* fext = xcb_get_extension_data(c, &xcb_xfixes_id); fext && fext->present) {
        auto v =
            reply(xcb_xfixes_query_version_reply(c, xcb_xfixes_query_version(c, 4, 0), nullptr));
        if (v && v->major_version >= 2) {
            xcb_xfixes_select_cursor_input(c, screen->root,
                                           XCB_XFIXES_CURSOR_NOTIFY_MASK_DISPLAY_CURSOR);
            cursor_event = uint8_t(fext->first_event + XCB_XFIXES_CURSOR_NOTIFY);
        }
    }
    return WindowTracker(c, screen, uint8_t(dext->first_event + XCB_DAMAGE_NOTIFY), a, shm,
                         cursor_event);
}

WindowTracker::WindowTracker(WindowTracker&& other) noexcept
    : m_conn(std::exchange(other.m_conn, nullptr))
    , m_screen(other.m_screen)
    , m_damage_event(other.m_damage_event)
    , m_cursor_event(other.m_cursor_event)
    , m_atoms(other.m_atoms)
    , m_windows(std::move(other.m_windows))
    , m_shm(other.m_shm) {}

WindowTracker::~WindowTracker() {
    if (m_conn)
        xcb_disconnect(m_conn);
}

Result<void> WindowTracker::start(Outbox& out) {
    auto tree =
        reply(xcb_query_tree_reply(m_conn, xcb_query_tree(m_conn, m_screen->root), nullptr));
    if (!tree)
        return unexpected(Errc::System, "gui-agent: query_tree of the root window failed");
    auto const* kids = xcb_query_tree_children(tree.get());
    for (int i = 0; i < xcb_query_tree_children_length(tree.get()); ++i) {
        auto geo =
            reply(xcb_get_geometry_reply(m_conn, xcb_get_geometry(m_conn, kids[i]), nullptr));
        auto attr = reply(xcb_get_window_attributes_reply(
            m_conn, xcb_get_window_attributes(m_conn, kids[i]), nullptr));
        if (!geo || !attr || attr->_class != XCB_WINDOW_CLASS_INPUT_OUTPUT)
            continue;
        TRY(add(out, kids[i], {geo->x, geo->y, geo->width, geo->height}, attr->override_redirect,
                attr->map_state == XCB_MAP_STATE_VIEWABLE));
    }
    xcb_flush(m_conn);
    return {};
}

WindowTracker::Tracked* WindowTracker::find(rg::WindowId id) {
    auto it = m_windows.find(id);
    return it == m_windows.end() ? nullptr : &it->second;
}

Result<void> WindowTracker::add(Outbox& out, xcb_window_t id, rg::Rect rect, bool override_redirect,
                                bool mapped) {
    if (m_windows.contains(id) || rect.width == 0 || rect.height == 0)
        return {};
    Tracked w;
    w.id = id;
    w.rect = rect;
    w.override_redirect = override_redirect;
    w.damage = xcb_generate_id(m_conn);
    xcb_change_window_attributes(m_conn, id, XCB_CW_EVENT_MASK, &window_events);
    xcb_damage_create(m_conn, w.damage, id, XCB_DAMAGE_REPORT_LEVEL_RAW_RECTANGLES);
    auto ovr = override_redirect ? rg::OverrideRedirect::Yes : rg::OverrideRedirect::No;
    TRY(out.push(id, rg::Create{rect, 0, ovr}));
    TRY(send_title(out, id));
    TRY(send_class(out, id));
    TRY(send_hints(out, id));
    auto& t = m_windows.emplace(id, std::move(w)).first->second;
    if (mapped)
        TRY(map(out, t));
    return {};
}

Result<void> WindowTracker::ensure_buffer(Outbox& out, Tracked& w) {
    if (w.buffer && w.buffer->width() == w.rect.width && w.buffer->height() == w.rect.height)
        return {};
    detach(w);
    w.buffer.reset(); // (its grants first: gntalloc's limit counts them)
    w.buffer = TRY(SharedBuffer::create(w.rect.width, w.rect.height, m_sharing));
    attach(w);
    if (m_sharing == Sharing::Grants) {
        auto const& refs = w.buffer->grant_refs();
        for (size_t i = 0; i < refs.size(); i += rg::max_grant_refs_per_message) {
            size_t n = std::min(rg::max_grant_refs_per_message, refs.size() - i);
            TRY(out.push(w.id, rg::GrantRefs{{refs.begin() + ptrdiff_t(i),
                                              refs.begin() + ptrdiff_t(i + n)}}));
        }
        return out.push(w.id, w.buffer->region());
    }
    UniqueFd fd(::dup(w.buffer->fd()));
    if (!fd)
        return Error::from_errno("dup (pixel buffer)", errno);
    return out.push_with_fd(w.id, w.buffer->region(), std::move(fd));
}

Result<void> WindowTracker::map(Outbox& out, Tracked& w) {
    TRY(ensure_buffer(out, w));
    w.mapped = true;
    auto ovr = w.override_redirect ? rg::OverrideRedirect::Yes : rg::OverrideRedirect::No;
    TRY(out.push(w.id, rg::Map{0, ovr}));
    mark_dirty(w, {0, 0, w.rect.width, w.rect.height});
    return {};
}

Result<void> WindowTracker::configure(Outbox& out, Tracked& w, rg::Rect rect,
                                      bool override_redirect) {
    if (rect.width == 0 || rect.height == 0)
        return {};
    bool resized = rect.width != w.rect.width || rect.height != w.rect.height;
    w.rect = rect;
    w.override_redirect = override_redirect;
    if (resized && w.mapped)
        TRY(ensure_buffer(out, w));
    auto ovr = override_redirect ? rg::OverrideRedirect::Yes : rg::OverrideRedirect::No;
    TRY(out.push(w.id, rg::Configure{rect, ovr}));
    if (resized && w.mapped)
        mark_dirty(w, {0, 0, rect.width, rect.height});
    return {};
}

Result<void> WindowTracker::send_title(Outbox& out, xcb_window_t id) {
    auto title = text_property(m_conn, id, m_atoms.net_wm_name, m_atoms.utf8_string);
    if (title.empty())
        title = text_property(m_conn, id, XCB_ATOM_WM_NAME, XCB_ATOM_STRING);
    return out.push(id, rg::SetTitle{title});
}

Result<void> WindowTracker::send_class(Outbox& out, xcb_window_t id) {
    // WM_CLASS: instance NUL class NUL.
    auto v = text_property(m_conn, id, XCB_ATOM_WM_CLASS, XCB_ATOM_STRING);
    auto nul = v.find('\0');
    std::string name = v.substr(0, nul);
    std::string cls = nul == std::string::npos ? "" : v.substr(nul + 1);
    if (auto n2 = cls.find('\0'); n2 != std::string::npos)
        cls.resize(n2);
    return out.push(id, rg::SetClass{cls, name});
}

Result<void> WindowTracker::send_hints(Outbox& out, xcb_window_t id) {
    // WM_NORMAL_HINTS (ICCCM WM_SIZE_HINTS, 18 CARD32): the client's values as they are;
    // dom0 validates and clamps them.
    rg::SetHints h;
    auto r = reply(xcb_get_property_reply(
        m_conn,
        xcb_get_property(m_conn, 0, id, XCB_ATOM_WM_NORMAL_HINTS, XCB_ATOM_WM_SIZE_HINTS, 0, 18),
        nullptr));
    // Pre-ICCCM clients write 15 words (no base size).
    size_t words = r && r->format == 32 ? size_t(xcb_get_property_value_length(r.get())) / 4 : 0;
    if (words >= 11) {
        auto const* v = static_cast<uint32_t const*>(xcb_get_property_value(r.get()));
        auto take = [&](uint32_t bit, uint32_t flag, rg::Size& size, size_t at) {
            if ((v[0] & bit) && words >= at + 2) {
                h.flags |= flag;
                size = {v[at], v[at + 1]};
            }
        };
        take(1u << 4, rg::hint_min_size, h.min, 5);
        take(1u << 5, rg::hint_max_size, h.max, 7);
        take(1u << 6, rg::hint_resize_inc, h.inc, 9);
        take(1u << 8, rg::hint_base_size, h.base, 15);
    }
    return out.push(id, h);
}

void WindowTracker::mark_dirty(Tracked& w, rg::Rect r) {
    if (!w.dirty) {
        w.dirty = r;
        return;
    }
    auto& d = *w.dirty;
    int64_t x0 = std::min(d.x, r.x), y0 = std::min(d.y, r.y);
    int64_t x1 = std::max<int64_t>(int64_t(d.x) + d.width, int64_t(r.x) + r.width);
    int64_t y1 = std::max<int64_t>(int64_t(d.y) + d.height, int64_t(r.y) + r.height);
    d = {int32_t(x0), int32_t(y0), uint32_t(x1 - x0), uint32_t(y1 - y0)};
}

Result<void> WindowTracker::dispatch(Outbox& out) {
    for (;;) {
        auto ev = reply(xcb_poll_for_event(m_conn));
        if (!ev)
            break;
        uint8_t type = ev->response_type & 0x7f;
        if (type == m_damage_event) {
            auto* d = reinterpret_cast<xcb_damage_notify_event_t*>(ev.get());
            if (auto* w = find(d->drawable); w && w->mapped)
                mark_dirty(*w, {d->area.x, d->area.y, d->area.width, d->area.height});
            continue;
        }
        if (m_cursor_event && type == m_cursor_event) {
            auto* e = reinterpret_cast<xcb_xfixes_cursor_notify_event_t*>(ev.get());
            TRY(cursor_changed(out, e->name));
            continue;
        }
        switch (type) {
        case XCB_CREATE_NOTIFY: {
            auto* e = reinterpret_cast<xcb_create_notify_event_t*>(ev.get());
            if (e->parent != m_screen->root)
                break;
            auto attr = reply(xcb_get_window_attributes_reply(
                m_conn, xcb_get_window_attributes(m_conn, e->window), nullptr));
            if (!attr || attr->_class != XCB_WINDOW_CLASS_INPUT_OUTPUT)
                break;
            TRY(add(out, e->window, {e->x, e->y, e->width, e->height}, e->override_redirect,
                    false));
            break;
        }
        case XCB_MAP_NOTIFY: {
            auto* e = reinterpret_cast<xcb_map_notify_event_t*>(ev.get());
            if (auto* w = find(e->window); w && !w->mapped) {
                w->override_redirect = e->override_redirect;
                TRY(map(out, *w));
            }
            break;
        }
        case XCB_UNMAP_NOTIFY: {
            auto* e = reinterpret_cast<xcb_unmap_notify_event_t*>(ev.get());
            if (auto* w = find(e->window); w && w->mapped) {
                w->mapped = false;
                w->dirty.reset();
                TRY(out.push(w->id, rg::Unmap{}));
            }
            break;
        }
        case XCB_CONFIGURE_NOTIFY: {
            auto* e = reinterpret_cast<xcb_configure_notify_event_t*>(ev.get());
            if (auto* w = find(e->window))
                TRY(configure(out, *w, {e->x, e->y, e->width, e->height}, e->override_redirect));
            break;
        }
        case XCB_DESTROY_NOTIFY: {
            auto* e = reinterpret_cast<xcb_destroy_notify_event_t*>(ev.get());
            if (auto* w = find(e->window)) {
                detach(*w);
                m_windows.erase(e->window);
                TRY(out.push(e->window, rg::Destroy{}));
            }
            break;
        }
        case XCB_PROPERTY_NOTIFY: {
            auto* e = reinterpret_cast<xcb_property_notify_event_t*>(ev.get());
            if (!find(e->window))
                break;
            if (e->atom == XCB_ATOM_WM_NAME || e->atom == m_atoms.net_wm_name)
                TRY(send_title(out, e->window));
            else if (e->atom == XCB_ATOM_WM_CLASS)
                TRY(send_class(out, e->window));
            else if (e->atom == XCB_ATOM_WM_NORMAL_HINTS)
                TRY(send_hints(out, e->window));
            break;
        }
        default: // errors for windows that went away meanwhile, other events
            break;
        }
    }
    if (xcb_connection_has_error(m_conn))
        return unexpected(Errc::Closed, "gui-agent: the X server connection is gone");
    return capture(out);
}

} // namespace bulkhead::gui_agent
