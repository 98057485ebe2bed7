// Size hints end to end: a domain's window sets WM_NORMAL_HINTS on its own X server, the real
// bulkhead-gui-agent forwards them (SET_HINTS), and the window bulkhead-guid shows on dom0's
// Xvfb carries them as WM_NORMAL_HINTS for dom0's window manager, clamped so that a guest
// cannot make it keep a window larger than dom0's screen. Changes and removal follow.
#include "../xcb/xvfb.h"
#include "guid_test_util.h"

#include <bulkhead/base/sys/fd.h>

#include <xcb/xcb.h>

#include <array>
#include <vector>

using namespace bulkhead;
using namespace guid_test;

namespace {

constexpr uint32_t p_min = 1u << 4, p_max = 1u << 5, p_inc = 1u << 6, p_base = 1u << 8;

using Hints = std::array<uint32_t, 18>;

Hints hints(uint32_t flags, uint32_t min_w, uint32_t min_h, uint32_t max_w, uint32_t max_h,
            uint32_t inc_w, uint32_t inc_h, uint32_t base_w, uint32_t base_h) {
    Hints h{};
    h[0] = flags;
    h[5] = min_w, h[6] = min_h, h[7] = max_w, h[8] = max_h, h[9] = inc_w, h[10] = inc_h;
    h[15] = base_w, h[16] = base_h;
    return h;
}

std::vector<uint32_t> read_hints(XClient& x, xcb_window_t w) {
    auto r = reply(xcb_get_property_reply(
        x.c, xcb_get_property(x.c, 0, w, XCB_ATOM_WM_NORMAL_HINTS, XCB_ATOM_WM_SIZE_HINTS, 0, 18),
        nullptr));
    if (!r || r->format != 32)
        return {};
    auto const* v = static_cast<uint32_t const*>(xcb_get_property_value(r.get()));
    return {v, v + xcb_get_property_value_length(r.get()) / 4};
}

std::vector<uint32_t> as_vector(Hints const& h) {
    return {h.begin(), h.end()};
}

} // namespace

TEST_CASE("guid + gui-agent: a window's size hints reach dom0's window manager, clamped to "
          "dom0's screen") {
    Xvfb dom0_x("640x480x24");
    Xvfb guest_x("800x600x24");
    auto dir = sys::make_temp_dir("/tmp/bulkhead-hints-test-");
    REQUIRE(dir);
    auto socket = *dir + "/vchan.0.1.6000.sock";
    Child guid({program("bulkhead-guid"), "--display", dom0_x.display(), "--domain",
                "work:blue:" + socket},
               *dir + "/guid.log");
    REQUIRE(eventually([&] { return sys::exists(socket); }));

    // A managed window (no override-redirect) with all four hints.
    XClient guest(guest_x.display());
    auto w = xcb_generate_id(guest.c);
    xcb_create_window(guest.c, XCB_COPY_FROM_PARENT, w, guest.screen->root, 10, 10, 200, 100, 0,
                      XCB_WINDOW_CLASS_INPUT_OUTPUT, guest.screen->root_visual, 0, nullptr);
    xcb_change_property(guest.c, XCB_PROP_MODE_REPLACE, w, XCB_ATOM_WM_NAME, XCB_ATOM_STRING, 8, 6,
                        "hinted");
    auto set = [&](Hints const& h) {
        xcb_change_property(guest.c, XCB_PROP_MODE_REPLACE, w, XCB_ATOM_WM_NORMAL_HINTS,
                            XCB_ATOM_WM_SIZE_HINTS, 32, 18, h.data());
        xcb_flush(guest.c);
    };
    set(hints(p_min | p_max | p_inc | p_base, 120, 60, 400, 300, 10, 5, 20, 10));
    xcb_map_window(guest.c, w);
    xcb_flush(guest.c);
    Child agent({program("bulkhead-gui-agent"), "--display", guest_x.display(), "--socket", socket},
                *dir + "/agent.log");

    XClient dom0(dom0_x.display());
    std::optional<xcb_window_t> shown;
    REQUIRE(eventually([&] { return (shown = dom0.find("[work] hinted")).has_value(); }));
    CHECK(eventually([&] {
        return read_hints(dom0, *shown) ==
               as_vector(hints(p_min | p_max | p_inc | p_base, 120, 60, 400, 300, 10, 5, 20, 10));
    }));

    // A minimum larger than dom0's screen (640x480) is cut to it; the guest's screen is bigger
    // and its X server keeps what the client said.
    set(hints(p_min, 100000, 5000, 0, 0, 0, 0, 0, 0));
    CHECK(eventually([&] {
        return read_hints(dom0, *shown) == as_vector(hints(p_min, 640, 480, 0, 0, 0, 0, 0, 0));
    }));
    // A minimum above the maximum is lowered to it; increments and base are cut to the screen.
    set(hints(p_min | p_max | p_inc | p_base, 300, 200, 100, 50, 9999, 9999, 9999, 9999));
    CHECK(eventually([&] {
        return read_hints(dom0, *shown) == as_vector(hints(p_min | p_max | p_inc | p_base, 100, 50,
                                                           100, 50, 640, 480, 640, 480));
    }));
    // Hints removed: none on dom0 either.
    xcb_delete_property(guest.c, w, XCB_ATOM_WM_NORMAL_HINTS);
    xcb_flush(guest.c);
    CHECK(eventually([&] { return read_hints(dom0, *shown) == as_vector(Hints{}); }));
}
