// The dom0 GUI path end to end on Xvfb: a guest's bytes over a loopback Channel → GuiFrameReader
// → Desktop → XcbCompositor → the screen, read back. A second, hostile domain floods windows on
// its own channel and is cut off while the first domain's window keeps updating.
// (The memfd travels beside the messages here; passing it over the socket vchan is not built.)
#include "xvfb.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/gui/xcb/compositor.h>
#include <bulkhead/rpc/gui/encode.h>
#include <bulkhead/rpc/gui/frame_reader.h>
#include <bulkhead/rpc/loopback_channel.h>

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>

using namespace bulkhead;
using namespace bulkhead::gui;
using namespace bulkhead::gui::xcb;
namespace rg = bulkhead::rpc::gui;

namespace {

constexpr uint32_t blue = 0x3465a4;

// A guest's pixel buffer: a sealed memfd it keeps writing into through its own mapping.
struct GuestBuffer {
    GuestBuffer(uint32_t w, uint32_t h)
        : region{rg::ShmKind::Memfd, 0, w, h, w * 4, rg::format_xrgb8888, uint64_t(w) * 4 * h} {
        auto fd = sys::memfd_create("guest-pixels", MFD_ALLOW_SEALING | MFD_CLOEXEC);
        REQUIRE(fd);
        REQUIRE(sys::ftruncate(fd->get(), off_t(region.size)));
        REQUIRE(::fcntl(fd->get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
        void* p = ::mmap(nullptr, region.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd->get(), 0);
        REQUIRE(p != MAP_FAILED);
        pixels = static_cast<uint32_t*>(p);
        memfd = std::move(*fd);
    }
    ~GuestBuffer() { ::munmap(pixels, region.size); }
    void fill(uint32_t rgb) { std::fill_n(pixels, region.size / 4, rgb); }
    rg::ShmRegion region;
    uint32_t* pixels = nullptr;
    UniqueFd memfd;
};

struct Dom0 {
    Dom0()
        : desktop(config(),
                  [](policy::Request const&) { return policy::Decision{policy::Deny{}}; }) {
        REQUIRE(desktop.add_domain("work", {"blue", blue}));
        REQUIRE(desktop.add_domain("untrusted", {"red", 0xcc0000}));
        auto c = XcbCompositor::connect(x.display());
        REQUIRE(c);
        compositor.emplace(std::move(*c));
    }
    static model::Config config() {
        model::Config c;
        c.screen_width = 640;
        c.screen_height = 480;
        c.max_windows_per_domain = 50;
        return c;
    }
    // Reads everything a domain's channel has, applies it; maps buffers announced with `fd`.
    size_t pump(std::string const& domain, rg::GuiFrameReader& reader, rpc::Channel& ch,
                UniqueFd* fd = nullptr) {
        size_t refused = 0;
        for (;;) {
            auto m = reader.next(ch);
            if (!m || !*m)
                break;
            auto const& msg = **m;
            auto r = desktop.apply(domain, msg);
            if (!r) {
                ++refused;
                if (desktop.is_cut_off(domain))
                    break;
                continue;
            }
            if (auto* shm = std::get_if<rg::ShmRegion>(&msg.message); shm && fd) {
                auto b = PixelBuffer::map(std::move(*fd), *shm);
                REQUIRE(b);
                buffers.erase(desktop.find(domain, msg.window)->handle);
                buffers.emplace(desktop.find(domain, msg.window)->handle, std::move(*b));
            }
        }
        return refused;
    }
    void frame() {
        REQUIRE(compositor->sync(desktop));
        for (auto const& r : desktop.take_repaints()) {
            auto it = buffers.find(r.window);
            if (it != buffers.end())
                REQUIRE(compositor->paint(desktop, r.window, it->second, r.rect));
        }
    }
    uint32_t pixel(int16_t px, int16_t py) {
        auto* c = compositor->connection().get();
        auto* r =
            xcb_get_image_reply(c,
                                xcb_get_image(c, XCB_IMAGE_FORMAT_Z_PIXMAP,
                                              compositor->connection().root(), px, py, 1, 1, ~0u),
                                nullptr);
        REQUIRE(r);
        uint32_t v;
        std::memcpy(&v, xcb_get_image_data(r), 4);
        std::free(r);
        return v & 0xffffff;
    }

    Xvfb x;
    model::Desktop desktop;
    std::optional<XcbCompositor> compositor;
    std::unordered_map<model::WindowHandle, PixelBuffer> buffers;
};

void send(rpc::Channel& ch, std::vector<std::byte> const& bytes) {
    REQUIRE(ch.write(bytes).value() == bytes.size());
}

} // namespace

TEST_CASE("pipeline: a guest window reaches the screen; a hostile domain is cut off meanwhile") {
    Dom0 dom0;
    auto work_ch = rpc::LoopbackChannel::create_pair(0, 1, 7000);
    auto bad_ch = rpc::LoopbackChannel::create_pair(0, 2, 7001);
    REQUIRE(work_ch);
    REQUIRE(bad_ch);
    auto& [dom0_work, guest_work] = *work_ch;
    auto& [dom0_bad, guest_bad] = *bad_ch;
    rg::GuiFrameReader work_reader(rg::Direction::FromGuest);
    rg::GuiFrameReader bad_reader(rg::Direction::FromGuest);

    // work: a 120x80 override-redirect window at (40,30), green, titled.
    GuestBuffer buf(120, 80);
    buf.fill(0x00aa00);
    std::vector<std::byte> out;
    rg::encode_to(out, 0, rg::Hello{});
    rg::encode_to(out, 5, rg::Create{{40, 30, 120, 80}, 0, rg::OverrideRedirect::Yes});
    rg::encode_to(out, 5, rg::SetTitle{"[dom0] status"});
    rg::encode_to(out, 5, rg::ShmRegion{buf.region});
    rg::encode_to(out, 5, rg::Map{0, rg::OverrideRedirect::Yes});
    rg::encode_to(out, 5, rg::Damage{{0, 0, 120, 80}});
    send(*guest_work, out);
    UniqueFd fd = sys::dup(buf.memfd.get()).value();
    CHECK(dom0.pump("work", work_reader, *dom0_work, &fd) == 0);
    dom0.frame();
    CHECK(dom0.pixel(40, 30) == blue);      // the daemon's border in work's label colour
    CHECK(dom0.pixel(100, 70) == 0x00aa00); // the guest's pixels
    CHECK(dom0.compositor->uses_xshm());    // Xvfb has MIT-SHM 1.2: read from the memfd itself
    auto h = dom0.desktop.find("work", 5)->handle;
    CHECK(dom0.desktop.window(h)->title == "[work] status");

    // untrusted floods windows (with a HELLO first) until it is cut off.
    out.clear();
    rg::encode_to(out, 0, rg::Hello{});
    for (rg::WindowId id = 1; id <= 200; ++id) {
        rg::encode_to(out, id, rg::Create{{0, 0, 640, 480}, 0, rg::OverrideRedirect::Yes});
        rg::encode_to(out, id, rg::Map{0, rg::OverrideRedirect::Yes});
    }
    send(*guest_bad, out);
    CHECK(dom0.pump("untrusted", bad_reader, *dom0_bad) == 1);
    CHECK(dom0.desktop.is_cut_off("untrusted"));
    dom0.frame();

    // work keeps updating: new pixels, damage, repaint.
    buf.fill(0x0000cc);
    out.clear();
    rg::encode_to(out, 5, rg::Damage{{10, 10, 50, 50}});
    send(*guest_work, out);
    CHECK(dom0.pump("work", work_reader, *dom0_work) == 0);
    dom0.frame();
    CHECK(dom0.pixel(40 + 20, 30 + 20) == 0x0000cc);  // inside the damaged part: new colour
    CHECK(dom0.pixel(40 + 100, 30 + 70) == 0x00aa00); // outside it: not repainted yet
    CHECK(dom0.pixel(40, 30) == blue);
    CHECK(dom0.pixel(400, 400) == 0x000000); // none of untrusted's windows is left
}
