// Cursor shape end to end: a domain's window sets its cursor (a cursor-font glyph named by
// XFixes, as Xlib/Xcursor name XCreateFontCursor's cursors); the real bulkhead-gui-agent sends
// SET_CURSOR with the glyph when the domain's displayed cursor changes, and the window
// bulkhead-guid shows on dom0 gets dom0's own glyph cursor. Read back on dom0 with XFixes
// GetCursorImage while dom0's pointer is over the window, against dom0's own glyph cursors.
#include "../xcb/xvfb.h"
#include "guid_test_util.h"

#include <bulkhead/base/sys/fd.h>

#include <xcb/xcb.h>
#include <xcb/xfixes.h>

#include <vector>

using namespace bulkhead;
using namespace guid_test;

namespace {

constexpr uint16_t xc_hand2 = 60, xc_xterm = 152;

void init_xfixes(XClient& x) {
    auto v =
        reply(xcb_xfixes_query_version_reply(x.c, xcb_xfixes_query_version(x.c, 4, 0), nullptr));
    REQUIRE(v);
}

xcb_cursor_t glyph(XClient& x, uint16_t shape, std::string const& name = {}) {
    auto font = xcb_generate_id(x.c);
    xcb_open_font(x.c, font, 6, "cursor");
    auto cursor = xcb_generate_id(x.c);
    xcb_create_glyph_cursor(x.c, cursor, font, font, shape, uint16_t(shape + 1), 0, 0, 0, 0xffff,
                            0xffff, 0xffff);
    if (!name.empty())
        xcb_xfixes_set_cursor_name(x.c, cursor, uint16_t(name.size()), name.data());
    xcb_close_font(x.c, font);
    return cursor;
}

// The cursor dom0's screen shows: size, hotspot and ARGB pixels.
std::vector<uint32_t> shown_cursor(XClient& x) {
    auto r =
        reply(xcb_xfixes_get_cursor_image_reply(x.c, xcb_xfixes_get_cursor_image(x.c), nullptr));
    REQUIRE(r);
    auto const* p = xcb_xfixes_get_cursor_image_cursor_image(r.get());
    std::vector<uint32_t> v{r->width, r->height, r->xhot, r->yhot};
    v.insert(v.end(), p, p + xcb_xfixes_get_cursor_image_cursor_image_length(r.get()));
    return v;
}

void pointer_to(XClient& x, int16_t px, int16_t py) {
    xcb_warp_pointer(x.c, XCB_NONE, x.screen->root, 0, 0, 0, 0, px, py);
    xcb_flush(x.c);
}

} // namespace

TEST_CASE("guid + gui-agent: a guest window's cursor shape becomes the dom0 window's cursor, "
          "drawn by dom0") {
    Xvfb dom0_x("640x480x24");
    Xvfb guest_x("640x480x24");
    auto dir = sys::make_temp_dir("/tmp/bulkhead-cursor-test-");
    REQUIRE(dir);
    auto socket = *dir + "/vchan.0.1.6000.sock";
    Child guid({program("bulkhead-guid"), "--display", dom0_x.display(), "--domain",
                "work:blue:" + socket},
               *dir + "/guid.log");
    REQUIRE(eventually([&] { return sys::exists(socket); }));

    // dom0's references: its root cursor, and its own xterm and hand2 glyphs on a window of
    // the test's at 500,400.
    XClient dom0(dom0_x.display());
    init_xfixes(dom0);
    pointer_to(dom0, 600, 20);
    auto root_cursor = shown_cursor(dom0);
    auto ref = xcb_generate_id(dom0.c);
    xcb_create_window(dom0.c, XCB_COPY_FROM_PARENT, ref, dom0.screen->root, 500, 400, 60, 60, 0,
                      XCB_WINDOW_CLASS_INPUT_OUTPUT, dom0.screen->root_visual, 0, nullptr);
    xcb_map_window(dom0.c, ref);
    auto set_ref = [&](uint16_t shape) {
        uint32_t cur = glyph(dom0, shape);
        xcb_change_window_attributes(dom0.c, ref, XCB_CW_CURSOR, &cur);
        pointer_to(dom0, 530, 430);
        std::vector<uint32_t> v;
        REQUIRE(eventually([&] { return (v = shown_cursor(dom0)) != root_cursor; }));
        pointer_to(dom0, 600, 20);
        return v;
    };
    auto xterm_cursor = set_ref(xc_xterm);
    auto hand_cursor = set_ref(xc_hand2);
    REQUIRE(xterm_cursor != hand_cursor);

    // The domain: a window with the named xterm cursor, as XCreateFontCursor(XC_xterm) makes.
    XClient guest(guest_x.display());
    init_xfixes(guest);
    auto w = xcb_generate_id(guest.c);
    uint32_t xterm = glyph(guest, xc_xterm, "xterm");
    xcb_create_window(guest.c, XCB_COPY_FROM_PARENT, w, guest.screen->root, 20, 30, 200, 100, 0,
                      XCB_WINDOW_CLASS_INPUT_OUTPUT, guest.screen->root_visual, XCB_CW_CURSOR,
                      &xterm);
    xcb_change_property(guest.c, XCB_PROP_MODE_REPLACE, w, XCB_ATOM_WM_NAME, XCB_ATOM_STRING, 8, 6,
                        "cursor");
    xcb_map_window(guest.c, w);
    xcb_flush(guest.c);
    Child agent({program("bulkhead-gui-agent"), "--display", guest_x.display(), "--socket", socket},
                *dir + "/agent.log");
    std::optional<xcb_window_t> shown;
    REQUIRE(eventually([&] { return (shown = dom0.find("[work] cursor")).has_value(); }));

    // dom0's pointer over the window: the guest's pointer follows (Motion), the domain shows the
    // xterm cursor, and dom0 shows its own xterm glyph there.
    pointer_to(dom0, 100, 80);
    pointer_to(guest, 100, 80); // whether or not dom0's Motion got there first
    CHECK(eventually([&] { return shown_cursor(dom0) == xterm_cursor; }));
    // The client changes it (hand2, as for a link): dom0 follows.
    uint32_t hand = glyph(guest, xc_hand2, "hand2");
    xcb_change_window_attributes(guest.c, w, XCB_CW_CURSOR, &hand);
    xcb_flush(guest.c);
    CHECK(eventually([&] { return shown_cursor(dom0) == hand_cursor; }));
    // An unnamed cursor (or none: the root's) is dom0's default, the root's.
    uint32_t none = XCB_CURSOR_NONE;
    xcb_change_window_attributes(guest.c, w, XCB_CW_CURSOR, &none);
    xcb_flush(guest.c);
    CHECK(eventually([&] { return shown_cursor(dom0) == root_cursor; }));
    uint32_t unnamed = glyph(guest, xc_xterm);
    xcb_change_window_attributes(guest.c, w, XCB_CW_CURSOR, &unnamed);
    xcb_change_window_attributes(guest.c, w, XCB_CW_CURSOR, &hand);
    xcb_flush(guest.c);
    CHECK(eventually([&] { return shown_cursor(dom0) == hand_cursor; }));
    (void)sys::remove_tree(*dir);
}
