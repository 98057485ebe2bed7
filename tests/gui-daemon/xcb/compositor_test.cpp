// XcbCompositor on a real X server (Xvfb): windows from the model appear with their titles and
// label properties, override-redirect windows carry a label-coloured border drawn by the
// daemon, pixels come from a sealed memfd, and unmap/destroy/restack follow the model.
// Screen pixels are read back from the root window (a screenshot).
#include "xvfb.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/gui/xcb/compositor.h>
#include <bulkhead/policy/policy.h>

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>

using namespace bulkhead;
using namespace bulkhead::gui;
using namespace bulkhead::gui::xcb;
namespace rg = bulkhead::rpc::gui;

namespace {

constexpr uint32_t blue = 0x3465a4, red = 0xcc0000;

model::PolicyCheck deny_all() {
    return [](policy::Request const&) { return policy::Decision{policy::Deny{}}; };
}

struct Scene {
    Scene() {
        model::Config c;
        c.screen_width = 640;
        c.screen_height = 480;
        desktop.emplace(c, deny_all());
        REQUIRE(desktop->add_domain("work", {"blue", blue}));
        REQUIRE(desktop->add_domain("untrusted", {"red", red}));
        auto comp = XcbCompositor::connect(x.display());
        REQUIRE(comp);
        compositor.emplace(std::move(*comp));
    }
    model::WindowHandle open(std::string const& d, rg::WindowId id, model::Rect r,
                             rg::OverrideRedirect o) {
        REQUIRE(desktop->apply(d, {id, rg::Create{r, 0, o}}));
        REQUIRE(desktop->apply(d, {id, rg::Map{0, o}}));
        return desktop->find(d, id)->handle;
    }
    // 0xRRGGBB of one screen pixel.
    uint32_t pixel(int16_t px, int16_t py) {
        auto* c = compositor->connection().get();
        auto* r =
            xcb_get_image_reply(c,
                                xcb_get_image(c, XCB_IMAGE_FORMAT_Z_PIXMAP,
                                              compositor->connection().root(), px, py, 1, 1, ~0u),
                                nullptr);
        REQUIRE(r);
        REQUIRE(xcb_get_image_data_length(r) >= 4);
        uint32_t v;
        std::memcpy(&v, xcb_get_image_data(r), 4);
        std::free(r);
        return v & 0xffffff;
    }
    std::string property(xcb_window_t w, xcb_atom_t a) {
        auto* c = compositor->connection().get();
        auto* r = xcb_get_property_reply(
            c, xcb_get_property(c, 0, w, a, XCB_GET_PROPERTY_TYPE_ANY, 0, 1024), nullptr);
        REQUIRE(r);
        std::string s(static_cast<char const*>(xcb_get_property_value(r)),
                      size_t(xcb_get_property_value_length(r))); // bytes
        std::free(r);
        return s;
    }
    xcb_get_window_attributes_reply_t attributes(xcb_window_t w) {
        auto* c = compositor->connection().get();
        auto* r = xcb_get_window_attributes_reply(c, xcb_get_window_attributes(c, w), nullptr);
        REQUIRE(r);
        auto copy = *r;
        std::free(r);
        return copy;
    }

    Xvfb x;
    std::optional<model::Desktop> desktop;
    std::optional<XcbCompositor> compositor;
};

// A sealed memfd of w x h pixels, all `rgb`, announced as the window's buffer.
std::pair<UniqueFd, rg::ShmRegion> solid_buffer(uint32_t w, uint32_t h, uint32_t rgb,
                                                bool seal = true) {
    rg::ShmRegion region{rg::ShmKind::Memfd, 0, w, h, w * 4, rg::format_xrgb8888,
                         uint64_t(w) * 4 * h};
    auto fd = sys::memfd_create("pixels", MFD_ALLOW_SEALING | MFD_CLOEXEC);
    REQUIRE(fd);
    REQUIRE(sys::ftruncate(fd->get(), off_t(region.size)));
    std::vector<uint32_t> px(size_t(w) * h, rgb);
    REQUIRE(sys::write_all(fd->get(), std::as_bytes(std::span<uint32_t const>(px))));
    if (seal)
        REQUIRE(::fcntl(fd->get(), F_ADD_SEALS, F_SEAL_SHRINK) == 0);
    return {std::move(*fd), region};
}

} // namespace

TEST_CASE("xcb: an override-redirect window shows its pixels inside a label-coloured border") {
    Scene s;
    auto h = s.open("work", 1, {10, 20, 100, 50}, rg::OverrideRedirect::Yes);
    REQUIRE(s.compositor->sync(*s.desktop));
    auto [fd, region] = solid_buffer(100, 50, 0x00ff00);
    auto buf = PixelBuffer::map(std::move(fd), region);
    REQUIRE(buf);
    REQUIRE(s.compositor->paint(*s.desktop, h, *buf, {0, 0, 100, 50}));
    CHECK(s.pixel(10, 20) == blue);     // border, top-left corner
    CHECK(s.pixel(11, 21) == blue);     // border is 2 px
    CHECK(s.pixel(109, 69) == blue);    // bottom-right corner
    CHECK(s.pixel(60, 20) == blue);     // top edge
    CHECK(s.pixel(12, 22) == 0x00ff00); // contents
    CHECK(s.pixel(107, 67) == 0x00ff00);
    CHECK(s.pixel(9, 19) == 0x000000); // outside: the black root
    CHECK(s.pixel(110, 70) == 0x000000);
    auto attrs = s.attributes(*s.compositor->x_window(h));
    CHECK(attrs.override_redirect == 1);
    CHECK(attrs.map_state == XCB_MAP_STATE_VIEWABLE);
}

TEST_CASE("xcb: a managed window carries its dom0 title and label properties") {
    Scene s;
    auto h = s.open("work", 7, {0, 0, 200, 100}, rg::OverrideRedirect::No);
    REQUIRE(s.desktop->apply("work", {7, rg::SetTitle{"[vault] xterm — ~"}}));
    REQUIRE(s.desktop->apply("work", {7, rg::SetClass{"XTerm", "xterm"}}));
    REQUIRE(s.compositor->sync(*s.desktop));
    auto w = *s.compositor->x_window(h);
    auto& conn = s.compositor->connection();
    CHECK(s.property(w, conn.atom("_NET_WM_NAME").value()) == "[work] xterm — ~");
    CHECK(s.property(w, XCB_ATOM_WM_NAME) == "[work] xterm ? ~");
    CHECK(s.property(w, conn.atom("_QUBES_VMNAME").value()) == "work");
    auto color = s.property(w, conn.atom("_QUBES_LABEL_COLOR").value());
    REQUIRE(color.size() == 4);
    uint32_t rgb;
    std::memcpy(&rgb, color.data(), 4);
    CHECK(rgb == blue);
    CHECK(s.property(w, XCB_ATOM_WM_CLASS) == std::string("work:xterm\0work:XTerm\0", 22));
    CHECK(s.attributes(w).override_redirect == 0);
    // A title change reaches the X window on the next sync.
    REQUIRE(s.desktop->apply("work", {7, rg::SetTitle{"less"}}));
    REQUIRE(s.compositor->sync(*s.desktop));
    CHECK(s.property(w, conn.atom("_NET_WM_NAME").value()) == "[work] less");
}

TEST_CASE("xcb: an override-redirect window covering the screen is not override-redirect") {
    Scene s;
    auto h = s.open("untrusted", 1, {0, 0, 640, 480}, rg::OverrideRedirect::Yes);
    REQUIRE(s.compositor->sync(*s.desktop));
    CHECK(s.attributes(*s.compositor->x_window(h)).override_redirect == 0);
}

TEST_CASE("xcb: unmap, move, restack and destroy follow the model") {
    Scene s;
    auto a = s.open("work", 1, {0, 0, 100, 100}, rg::OverrideRedirect::Yes);
    auto b = s.open("untrusted", 1, {50, 50, 100, 100}, rg::OverrideRedirect::Yes);
    REQUIRE(s.compositor->sync(*s.desktop));
    auto [fa, ra] = solid_buffer(100, 100, 0x111111);
    auto [fb, rb] = solid_buffer(100, 100, 0x222222);
    auto ba = PixelBuffer::map(std::move(fa), ra);
    auto bb = PixelBuffer::map(std::move(fb), rb);
    REQUIRE(ba);
    REQUIRE(bb);
    REQUIRE(s.compositor->paint(*s.desktop, a, *ba, {0, 0, 100, 100}));
    REQUIRE(s.compositor->paint(*s.desktop, b, *bb, {0, 0, 100, 100}));
    CHECK(s.pixel(75, 75) == 0x222222); // b on top
    s.desktop->raise(a);
    REQUIRE(s.compositor->sync(*s.desktop));
    REQUIRE(s.compositor->paint(*s.desktop, a, *ba, {0, 0, 100, 100}));
    CHECK(s.pixel(75, 75) == 0x111111); // a on top now
    // Move b away.
    REQUIRE(s.desktop->apply("untrusted",
                             {1, rg::Configure{{300, 300, 100, 100}, rg::OverrideRedirect::Yes}}));
    REQUIRE(s.compositor->sync(*s.desktop));
    REQUIRE(s.compositor->paint(*s.desktop, b, *bb, {0, 0, 100, 100}));
    CHECK(s.pixel(350, 350) == 0x222222);
    CHECK(s.pixel(300, 300) == red); // its border
    // Unmap a: the X window stays but is not viewable.
    REQUIRE(s.desktop->apply("work", {1, rg::Unmap{}}));
    REQUIRE(s.compositor->sync(*s.desktop));
    auto xa = *s.compositor->x_window(a);
    CHECK(s.attributes(xa).map_state == XCB_MAP_STATE_UNMAPPED);
    CHECK(s.pixel(20, 20) == 0x000000);
    // Destroy b: its X window is gone.
    auto xb = *s.compositor->x_window(b);
    REQUIRE(s.desktop->apply("untrusted", {1, rg::Destroy{}}));
    REQUIRE(s.compositor->sync(*s.desktop));
    CHECK_FALSE(s.compositor->x_window(b));
    auto* c = s.compositor->connection().get();
    xcb_generic_error_t* err = nullptr;
    auto* geo = xcb_get_geometry_reply(c, xcb_get_geometry(c, xb), &err);
    CHECK(geo == nullptr);
    CHECK(err != nullptr);
    std::free(geo);
    std::free(err);
}

TEST_CASE("xcb: paint is clipped to the window and the buffer") {
    Scene s;
    auto h = s.open("work", 1, {0, 0, 50, 50}, rg::OverrideRedirect::Yes);
    REQUIRE(s.compositor->sync(*s.desktop));
    auto [fd, region] = solid_buffer(20, 20, 0xabcdef); // smaller than the window
    auto buf = PixelBuffer::map(std::move(fd), region);
    REQUIRE(buf);
    REQUIRE(s.compositor->paint(*s.desktop, h, *buf, {-10, -10, 1000, 1000}));
    CHECK(s.pixel(10, 10) == 0xabcdef);
    CHECK(s.pixel(25, 25) == 0x000000); // beyond the buffer: background
    CHECK_FALSE(s.compositor->paint(*s.desktop, 999, *buf, {0, 0, 1, 1}));
}

TEST_CASE("xcb: pixel buffers must be sealed memfds at least as large as announced") {
    auto [unsealed, r1] = solid_buffer(4, 4, 0, false);
    auto a = PixelBuffer::map(std::move(unsealed), r1);
    REQUIRE_FALSE(a);
    CHECK(a.error().code() == Errc::Denied);
    auto [small, r2] = solid_buffer(4, 4, 0);
    r2.height = 8;
    r2.size = 4 * 4 * 8;
    auto b = PixelBuffer::map(std::move(small), r2);
    REQUIRE_FALSE(b);
    CHECK(b.error().code() == Errc::Invalid);
    auto [fd, r3] = solid_buffer(4, 4, 0);
    r3.kind = rg::ShmKind::Grant; // a grant region is never taken for a memfd
    CHECK(PixelBuffer::map(std::move(fd), r3).error().code() == Errc::Invalid);
    // Grant references must cover the region, one a page; off Xen there is no gntdev.
    rg::ShmRegion g{rg::ShmKind::Grant, 1, 4, 4, 16, rg::format_xrgb8888, 4096};
    uint32_t refs[] = {8, 9};
    CHECK(PixelBuffer::map_grants(3, refs, g).error().code() == Errc::Invalid);
    auto one = PixelBuffer::map_grants(3, std::span(refs, 1), g);
    REQUIRE_FALSE(one); // (on a real dom0, Xen refuses domain 3's reference 8)
    if (!sys::exists("/dev/xen/gntdev"))
        CHECK(one.error().code() == Errc::Unsupported);
    // What the seal buys: the guest's copy of the fd cannot shrink the mapped buffer.
    auto [fd4, r4] = solid_buffer(4, 4, 0x123456);
    auto guest_copy = sys::dup(fd4.get());
    REQUIRE(guest_copy);
    auto ok = PixelBuffer::map(std::move(fd4), r4);
    REQUIRE(ok);
    CHECK_FALSE(sys::ftruncate(guest_copy->get(), 0));
    uint32_t first;
    std::memcpy(&first, ok->row(3).data() + 12, 4);
    CHECK(first == 0x123456);
}
