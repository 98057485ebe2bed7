// The GUI wired into bulkheadd (sandbox backend): --gui-display runs bulkhead-guid on dom0's X
// display; a running domain gets its GUI socket in its own vchan directory (the domain sees
// it as /run/qubes-vchan/vchan.0.<id>.6000.sock); halting it takes the socket and its windows
// away. The busybox template has no X server, so the test speaks the GUI protocol on that
// socket in the domain's place, as its bulkhead-gui-agent would (tests/gui-daemon/daemon runs
// the real agent, also inside a sandbox domain). Nothing it sends names the domain: the
// "[work]" title and work's label colour come from the socket.
#include "../gui-daemon/xcb/xvfb.h"
#include "dom0_screen.h"
#include "system.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/gui/encode.h>
#include <bulkhead/rpc/gui/fd_channel.h>

#include <catch2/catch.hpp>

#include <xcb/xcb.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <sys/mman.h>
#include <thread>

using bulkhead::testing::Dom0Screen;
using bulkhead::testing::eventually;
using bulkhead::testing::System;
using namespace bulkhead;
namespace rg = bulkhead::rpc::gui;

namespace {} // namespace

TEST_CASE("gui: bulkheadd --gui-display gives a running domain its GUI socket; its windows "
          "come out as the domain's",
          "[integration]") {
    Xvfb x("640x480x24");
    System s("", {"--gui-display", x.display()});
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "green", "work"});
    s.ok({"qvm-start", "work"});
    INFO("daemon log:\n" << s.daemon_log());

    // The domain's side: a 100x50 window of green pixels in a sealed memfd.
    auto socket = s.gui_socket("work");
    auto fd = sys::unix_connect(socket, SOCK_CLOEXEC | SOCK_NONBLOCK);
    REQUIRE(fd);
    rg::GuiSocketChannel ch(std::move(*fd), 0, 6000);
    rg::ShmRegion region{rg::ShmKind::Memfd, 0, 100, 50, 400, rg::format_xrgb8888, 20480};
    auto memfd = sys::memfd_create("pixels", MFD_ALLOW_SEALING | MFD_CLOEXEC);
    REQUIRE(memfd);
    REQUIRE(sys::ftruncate(memfd->get(), off_t(region.size)));
    REQUIRE(::fcntl(memfd->get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
    auto* px = static_cast<uint32_t*>(
        ::mmap(nullptr, region.size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd->get(), 0));
    REQUIRE(px != MAP_FAILED);
    std::fill_n(px, 100 * 50, 0x00aa00u);
    std::vector<std::byte> head, shm, tail;
    rg::encode_to(head, 0, rg::Hello{});
    rg::encode_to(head, 9, rg::Create{{20, 30, 100, 50}, 0, rg::OverrideRedirect::No});
    rg::encode_to(head, 9, rg::SetTitle{"from inside"});
    rg::encode_to(shm, 9, region);
    rg::encode_to(tail, 9, rg::Map{});
    rg::encode_to(tail, 9, rg::Damage{{0, 0, 100, 50}});
    REQUIRE(ch.write(head).value() == head.size());
    REQUIRE(ch.write_with_fd(shm, memfd->get()).value() == shm.size());
    REQUIRE(ch.write(tail).value() == tail.size());

    Dom0Screen dom0(x.display());
    std::optional<xcb_window_t> w;
    REQUIRE(eventually([&] { return (w = dom0.find_title("[work] from inside")).has_value(); }));
    CHECK(dom0.property(*w, dom0.atom("_QUBES_VMNAME")) == "work");
    auto color = dom0.property(*w, dom0.atom("_QUBES_LABEL_COLOR"));
    REQUIRE(color.size() == 4);
    uint32_t rgb;
    std::memcpy(&rgb, color.data(), 4);
    CHECK(rgb == 0x73d216); // green, from the store
    CHECK(eventually([&] { return dom0.pixel(20 + 50, 30 + 25) == 0x00aa00; }));

    s.ok({"qvm-shutdown", "--wait", "work"});
    CHECK(eventually([&] { return !dom0.find_title("[work] from inside"); }));
    CHECK(!sys::exists(socket));
    ::munmap(px, region.size);
}
