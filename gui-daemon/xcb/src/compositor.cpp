#include <bulkhead/gui/xcb/compositor.h>

#include <bulkhead/rpc/gui/protocol.h>

#include <xcb/shm.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <unistd.h>
#include <unordered_set>

namespace bulkhead::gui::xcb {

namespace {

constexpr uint32_t event_mask = XCB_EVENT_MASK_EXPOSURE | XCB_EVENT_MASK_KEY_PRESS |
                                XCB_EVENT_MASK_KEY_RELEASE | XCB_EVENT_MASK_BUTTON_PRESS |
                                XCB_EVENT_MASK_BUTTON_RELEASE | XCB_EVENT_MASK_POINTER_MOTION |
                                XCB_EVENT_MASK_ENTER_WINDOW | XCB_EVENT_MASK_LEAVE_WINDOW |
                                XCB_EVENT_MASK_FOCUS_CHANGE | XCB_EVENT_MASK_STRUCTURE_NOTIFY;

// X geometry is 16-bit: positions within int16, sizes within 1..65535 (the model's are smaller).
int16_t x16(int32_t v) {
    return int16_t(std::clamp<int32_t>(v, INT16_MIN, INT16_MAX));
}
uint16_t u16(uint32_t v) {
    return uint16_t(std::clamp<uint32_t>(v, 1, UINT16_MAX));
}

// WM_NAME is Latin-1 text (STRING); non-ASCII becomes '?' there, _NET_WM_NAME has the UTF-8.
std::string ascii(std::string const& s) {
    std::string out;
    for (unsigned char c : s)
        if (c < 0x80 || (c & 0xc0) == 0xc0)
            out += c < 0x80 ? char(c) : '?';
    return out;
}

} // namespace

std::array<uint32_t, 18> wm_size_hints(rpc::gui::SetHints const& h, uint32_t screen_width,
                                       uint32_t screen_height) {
    namespace rg = rpc::gui;
    // ICCCM WM_SIZE_HINTS: flags, x, y, w, h (obsolete), min, max, inc, aspect (4), base,
    // gravity. PMinSize 1<<4, PMaxSize 1<<5, PResizeInc 1<<6, PBaseSize 1<<8.
    std::array<uint32_t, 18> v{};
    auto fit = [](uint32_t x, uint32_t cap) { return std::clamp<uint32_t>(x, 1, cap); };
    if (h.flags & rg::hint_min_size) {
        // A guest cannot make a window manager keep its window larger than dom0's screen.
        v[0] |= 1u << 4;
        v[5] = fit(h.min.width, screen_width);
        v[6] = fit(h.min.height, screen_height);
    }
    if (h.flags & rg::hint_max_size) {
        v[0] |= 1u << 5;
        v[7] = std::max(fit(h.max.width, UINT16_MAX), v[5]);
        v[8] = std::max(fit(h.max.height, UINT16_MAX), v[6]);
    }
    if (h.flags & rg::hint_resize_inc) {
        v[0] |= 1u << 6;
        v[9] = fit(h.inc.width, screen_width);
        v[10] = fit(h.inc.height, screen_height);
    }
    if (h.flags & rg::hint_base_size) {
        v[0] |= 1u << 8;
        v[15] = std::min(h.base.width, screen_width);
        v[16] = std::min(h.base.height, screen_height);
    }
    return v;
}

Result<XcbCompositor> XcbCompositor::connect(std::string const& display) {
    auto conn = TRY(XcbConnection::open(display));
    Atoms a{};
    a.utf8_string = TRY(conn.atom("UTF8_STRING"));
    a.net_wm_name = TRY(conn.atom("_NET_WM_NAME"));
    a.qubes_vmname = TRY(conn.atom("_QUBES_VMNAME"));
    a.qubes_label_color = TRY(conn.atom("_QUBES_LABEL_COLOR"));
    a.wm_protocols = TRY(conn.atom("WM_PROTOCOLS"));
    a.wm_delete_window = TRY(conn.atom("WM_DELETE_WINDOW"));
    xcb_gcontext_t gc = xcb_generate_id(conn.get());
    uint32_t values[] = {0, 0};
    TRY(conn.check(xcb_create_gc_checked(conn.get(), gc, conn.root(),
                                         XCB_GC_FOREGROUND | XCB_GC_GRAPHICS_EXPOSURES, values),
                   "xcb_create_gc"));
    XcbCompositor comp(std::move(conn), a, gc);
    TRY(comp.load_keymap());
    auto const* shm_ext = xcb_get_extension_data(comp.m_conn.get(), &xcb_shm_id);
    if (shm_ext && shm_ext->present) {
        auto* v = xcb_shm_query_version_reply(comp.m_conn.get(),
                                              xcb_shm_query_version(comp.m_conn.get()), nullptr);
        comp.m_shm =
            v && (v->major_version > 1 || (v->major_version == 1 && v->minor_version >= 2));
        std::free(v);
    }
    return comp;
}

std::optional<xcb_window_t> XcbCompositor::x_window(model::WindowHandle h) const {
    auto it = m_shown.find(h);
    if (it == m_shown.end())
        return std::nullopt;
    return it->second.id;
}

Result<void> XcbCompositor::create(model::Desktop const& desktop, model::Window const& w) {
    auto* c = m_conn.get();
    Shown s;
    s.id = xcb_generate_id(c);
    s.rect = w.rect;
    s.override_redirect = w.override_redirect;
    uint32_t values[] = {m_conn.screen().black_pixel, w.override_redirect ? 1u : 0u, event_mask};
    TRY(m_conn.check(xcb_create_window_checked(
                         c, XCB_COPY_FROM_PARENT, s.id, m_conn.root(), x16(w.rect.x), x16(w.rect.y),
                         u16(w.rect.width), u16(w.rect.height), 0, XCB_WINDOW_CLASS_INPUT_OUTPUT,
                         m_conn.screen().root_visual,
                         XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT | XCB_CW_EVENT_MASK, values),
                     "xcb_create_window"));
    auto const* label = desktop.label(w.domain);
    uint32_t rgb = label ? label->rgb : 0;
    xcb_change_property(c, XCB_PROP_MODE_REPLACE, s.id, m_atoms.qubes_vmname, XCB_ATOM_STRING, 8,
                        uint32_t(w.domain.size()), w.domain.data());
    xcb_change_property(c, XCB_PROP_MODE_REPLACE, s.id, m_atoms.qubes_label_color,
                        XCB_ATOM_CARDINAL, 32, 1, &rgb);
    // A window manager's close button asks (WM_DELETE_WINDOW) instead of killing this client.
    xcb_change_property(c, XCB_PROP_MODE_REPLACE, s.id, m_atoms.wm_protocols, XCB_ATOM_ATOM, 32, 1,
                        &m_atoms.wm_delete_window);
    auto& shown = m_shown.emplace(w.handle, std::move(s)).first->second;
    shown.title = "\x01"; // differs from every sanitized title: set below
    return set_properties(w, shown);
}

Result<void> XcbCompositor::set_properties(model::Window const& w, Shown& s) {
    auto* c = m_conn.get();
    if (s.title != w.title) {
        auto latin = ascii(w.title);
        xcb_change_property(c, XCB_PROP_MODE_REPLACE, s.id, XCB_ATOM_WM_NAME, XCB_ATOM_STRING, 8,
                            uint32_t(latin.size()), latin.data());
        xcb_change_property(c, XCB_PROP_MODE_REPLACE, s.id, m_atoms.net_wm_name,
                            m_atoms.utf8_string, 8, uint32_t(w.title.size()), w.title.data());
        s.title = w.title;
    }
    if (s.res_class != w.res_class || s.res_name != w.res_name) {
        // WM_CLASS: instance NUL class NUL, each prefixed with the domain as Qubes does.
        std::string cls =
            w.domain + ":" + ascii(w.res_name) + '\0' + w.domain + ":" + ascii(w.res_class) + '\0';
        xcb_change_property(c, XCB_PROP_MODE_REPLACE, s.id, XCB_ATOM_WM_CLASS, XCB_ATOM_STRING, 8,
                            uint32_t(cls.size()), cls.data());
        s.res_class = w.res_class;
        s.res_name = w.res_name;
    }
    if (!(s.hints == w.hints)) {
        auto v = wm_size_hints(w.hints, m_conn.screen().width_in_pixels,
                               m_conn.screen().height_in_pixels);
        xcb_change_property(c, XCB_PROP_MODE_REPLACE, s.id, XCB_ATOM_WM_NORMAL_HINTS,
                            XCB_ATOM_WM_SIZE_HINTS, 32, uint32_t(v.size()), v.data());
        s.hints = w.hints;
    }
    if (s.cursor != w.cursor) {
        uint32_t cursor = w.cursor ? glyph_cursor(w.cursor) : uint32_t(XCB_CURSOR_NONE);
        xcb_change_window_attributes(c, s.id, XCB_CW_CURSOR, &cursor);
        s.cursor = w.cursor;
    }
    return {};
}

xcb_cursor_t XcbCompositor::glyph_cursor(uint32_t shape) {
    if (shape % 2 != 0 || shape >= rpc::gui::cursor_font_glyphs)
        return XCB_CURSOR_NONE; // the validator refuses these; never trusted here either
    if (auto it = m_cursors.find(shape); it != m_cursors.end())
        return it->second;
    auto* c = m_conn.get();
    if (!m_cursor_font) {
        m_cursor_font = xcb_generate_id(c);
        xcb_open_font(c, m_cursor_font, 6, "cursor");
    }
    xcb_cursor_t cursor = xcb_generate_id(c);
    // Black on white, as XCreateFontCursor makes them.
    xcb_create_glyph_cursor(c, cursor, m_cursor_font, m_cursor_font, uint16_t(shape),
                            uint16_t(shape + 1), 0, 0, 0, 0xffff, 0xffff, 0xffff);
    m_cursors.emplace(shape, cursor);
    return cursor;
}

Result<void> XcbCompositor::update(model::Window const& w, Shown& s) {
    auto* c = m_conn.get();
    if (s.override_redirect != w.override_redirect) {
        uint32_t v = w.override_redirect ? 1 : 0;
        xcb_change_window_attributes(c, s.id, XCB_CW_OVERRIDE_REDIRECT, &v);
        s.override_redirect = w.override_redirect;
    }
    if (!(s.rect == w.rect)) {
        uint32_t v[] = {uint32_t(x16(w.rect.x)), uint32_t(x16(w.rect.y)), u16(w.rect.width),
                        u16(w.rect.height)};
        xcb_configure_window(c, s.id,
                             XCB_CONFIG_WINDOW_X | XCB_CONFIG_WINDOW_Y | XCB_CONFIG_WINDOW_WIDTH |
                                 XCB_CONFIG_WINDOW_HEIGHT,
                             v);
        s.rect = w.rect;
    }
    return set_properties(w, s);
}

Result<void> XcbCompositor::sync(model::Desktop const& desktop) {
    auto* c = m_conn.get();
    auto const& stack = desktop.stack();
    std::unordered_set<model::WindowHandle> visible(stack.begin(), stack.end());
    // Gone from the model: destroy; unmapped in the model: unmap.
    for (auto it = m_shown.begin(); it != m_shown.end();) {
        auto const* w = desktop.window(it->first);
        if (!w) {
            detach(it->first);
            xcb_destroy_window(c, it->second.id);
            it = m_shown.erase(it);
            continue;
        }
        if (!visible.contains(it->first) && it->second.mapped) {
            xcb_unmap_window(c, it->second.id);
            it->second.mapped = false;
        }
        ++it;
    }
    for (auto h : stack) {
        auto const& w = *desktop.window(h);
        auto it = m_shown.find(h);
        if (it == m_shown.end())
            TRY(create(desktop, w));
        else
            TRY(update(w, it->second));
        auto& s = m_shown.at(h);
        if (!s.mapped) {
            xcb_map_window(c, s.id);
            s.mapped = true;
        }
    }
    // Restack bottom to top when the order changed (each raised above all before it).
    if (stack != m_stack) {
        uint32_t above = XCB_STACK_MODE_ABOVE;
        for (auto h : stack)
            xcb_configure_window(c, m_shown.at(h).id, XCB_CONFIG_WINDOW_STACK_MODE, &above);
        m_stack = stack;
    }
    for (auto h : stack)
        TRY(draw_border(desktop, *desktop.window(h)));
    return m_conn.sync();
}

Result<void> XcbCompositor::draw_border(model::Desktop const& desktop, model::Window const& w) {
    if (w.frame() != model::FrameKind::DaemonBorder)
        return {};
    auto const* label = desktop.label(w.domain);
    uint32_t rgb = label ? label->rgb : 0;
    auto* c = m_conn.get();
    xcb_change_gc(c, m_gc, XCB_GC_FOREGROUND, &rgb);
    auto b = uint16_t(std::min<uint32_t>(desktop.config().frame_border, 64));
    uint16_t wd = u16(w.rect.width), ht = u16(w.rect.height);
    xcb_rectangle_t r[] = {{0, 0, wd, b},
                           {0, int16_t(std::max(0, ht - b)), wd, b},
                           {0, 0, b, ht},
                           {int16_t(std::max(0, wd - b)), 0, b, ht}};
    xcb_poly_fill_rectangle(c, m_shown.at(w.handle).id, m_gc, 4, r);
    return {};
}

Result<void> XcbCompositor::paint(model::Desktop const& desktop, model::WindowHandle h,
                                  PixelBuffer const& buffer, model::Rect region) {
    auto const* w = desktop.window(h);
    auto it = m_shown.find(h);
    if (!w || it == m_shown.end())
        return unexpected(Errc::NotFound, "gui: paint of a window that is not shown");
    // Clip to the window and the buffer.
    int64_t x0 = std::max<int64_t>(region.x, 0), y0 = std::max<int64_t>(region.y, 0);
    int64_t x1 =
        std::min<int64_t>({int64_t(region.x) + region.width, w->rect.width, buffer.width()});
    int64_t y1 =
        std::min<int64_t>({int64_t(region.y) + region.height, w->rect.height, buffer.height()});
    if (x1 <= x0 || y1 <= y0)
        return {};
    auto* c = m_conn.get();
    if (auto seg = m_shm ? segment(h, buffer) : std::nullopt) {
        buffer.stage(uint32_t(x0), uint32_t(y0), uint32_t(x1), uint32_t(y1));
        xcb_shm_put_image(c, it->second.id, m_gc, uint16_t(buffer.stride() / 4),
                          uint16_t(buffer.height()), uint16_t(x0), uint16_t(y0), uint16_t(x1 - x0),
                          uint16_t(y1 - y0), int16_t(x0), int16_t(y0), 24,
                          XCB_IMAGE_FORMAT_Z_PIXMAP, 0, *seg, 0);
        TRY(draw_border(desktop, *w));
        return m_conn.sync();
    }
    size_t row_bytes = size_t(x1 - x0) * 4;
    // Rows per PutImage so each request stays under the server's maximum request length.
    size_t max_bytes = size_t(xcb_get_maximum_request_length(c)) * 4 - 64;
    size_t rows_per = std::max<size_t>(1, max_bytes / row_bytes);
    std::vector<std::byte> chunk;
    for (int64_t y = y0; y < y1;) {
        size_t n = std::min<size_t>(rows_per, size_t(y1 - y));
        chunk.resize(n * row_bytes);
        for (size_t i = 0; i < n; ++i) {
            auto row = buffer.row(uint32_t(y + int64_t(i)));
            std::copy_n(row.begin() + x0 * 4, row_bytes, chunk.begin() + ptrdiff_t(i * row_bytes));
        }
        xcb_put_image(c, XCB_IMAGE_FORMAT_Z_PIXMAP, it->second.id, m_gc, uint16_t(x1 - x0),
                      uint16_t(n), int16_t(x0), int16_t(y), 0, 24, uint32_t(chunk.size()),
                      reinterpret_cast<uint8_t const*>(chunk.data()));
        y += int64_t(n);
    }
    TRY(draw_border(desktop, *w));
    return m_conn.sync();
}

} // namespace bulkhead::gui::xcb

namespace bulkhead::gui::xcb {

std::optional<uint32_t> XcbCompositor::segment(model::WindowHandle h, PixelBuffer const& buffer) {
    auto it = m_segments.find(h);
    if (it != m_segments.end() && it->second.serial == buffer.serial())
        return it->second.seg;
    detach(h);
    int fd = ::dup(buffer.fd()); // xcb closes the descriptor it sends
    if (fd < 0)
        return std::nullopt;
    auto* c = m_conn.get();
    uint32_t seg = xcb_generate_id(c);
    if (!m_conn.check(xcb_shm_attach_fd_checked(c, seg, fd, 1), "xcb_shm_attach_fd")) {
        m_shm = false; // this server cannot: PutImage from now on
        return std::nullopt;
    }
    m_segments[h] = {buffer.serial(), seg};
    return seg;
}

void XcbCompositor::detach(model::WindowHandle h) {
    auto it = m_segments.find(h);
    if (it == m_segments.end())
        return;
    xcb_shm_detach(m_conn.get(), it->second.seg);
    m_segments.erase(it);
}

} // namespace bulkhead::gui::xcb
