// The GUI path into a real sandbox domain: the domain (sandbox backend: its own mount, pid,
// net, ipc namespaces and root) runs its own Xvfb, xmessage and bulkhead-gui-agent; dom0 runs
// bulkhead-guid on another Xvfb. The GUI socket reaches the domain the way the qrexec agent's
// does: dom0 owns a directory, listens in it (vchan.0.<id>.6000.sock) and binds it into the
// domain at /run/qubes-vchan (the test does what bulkheadd's DomainManager does for the vchan
// directory; bulkheadd does not start bulkhead-guid yet). The domain's root is one small layer
// whose /usr is the host's, read-only, so the host's X programs run inside. Needs root.
#include "../xcb/xvfb.h"
#include "guid_test_util.h"

#include <bulkhead/dom0/hypervisor/sandbox/sandbox_hypervisor.h>

using namespace bulkhead;
using namespace bulkhead::dom0;
using namespace guid_test;

namespace {

constexpr uint32_t blue = 0x3465a4;
constexpr uint8_t keycode_return = 36; // Xvfb's default keymap, the same in the domain

// The domain's init: its X server, an application, then the gui-agent (which finds dom0's
// socket from VCHAN_SOCKET_DIR and VCHAN_DOMAIN, as in any domain).
constexpr char const* init_script =
    "Xvfb :0 -screen 0 640x480x24 -nolisten tcp -br >/tmp/xvfb.log 2>&1 &\n"
    "i=0; while [ ! -e /tmp/.X11-unix/X0 ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done\n"
    "DISPLAY=:0 xmessage -geometry +40+50 -buttons OK:3,Cancel:4 -default OK "
    "'hello from a sandbox' >/tmp/xmessage.log 2>&1 &\n"
    "exec /opt/bulkhead/bulkhead-gui-agent --display :0\n";

} // namespace

TEST_CASE("sandbox domain: its xmessage on dom0's screen, labelled; Return from dom0 answers it") {
    Xvfb dom0_x("640x480x24");
    auto base = sys::make_temp_dir("/tmp/bulkhead-guid-sandbox-");
    REQUIRE(base);
    // The root layer: merged-/usr symlinks and the directories X wants.
    auto layer = *base + "/layer";
    for (auto d : {"/usr", "/etc", "/tmp", "/var/lib/xkb", "/run"})
        REQUIRE(sys::mkdir_p(layer + d));
    for (auto l : {"bin", "sbin", "lib", "lib64"})
        REQUIRE(sys::symlink(std::string("usr/") + l, layer + "/" + l));
    auto vchan = *base + "/vchan/work";
    REQUIRE(sys::mkdir_p(vchan, 0700));

    DomainSpec spec;
    spec.name = "work";
    spec.layers = {layer};
    spec.volatile_dir = *base + "/volatile";
    spec.memory_mib = 512;
    spec.init_argv = {"/bin/sh", "-c", init_script};
    spec.init_env = {"VCHAN_SOCKET_DIR=/run/qubes-vchan", "PATH=/usr/bin:/bin"};
    auto bin = program("");
    spec.binds = {{"/usr", "/usr", false},
                  {bin.substr(0, bin.size() - 1), "/opt/bulkhead", false},
                  {vchan, "/run/qubes-vchan", true}};

    SandboxHypervisor hv;
    auto id = hv.create(spec);
    REQUIRE(id);
    // dom0 listens where only this domain looks, named by the id the backend gave it.
    auto socket = vchan + "/vchan.0." + std::to_string(*id) + ".6000.sock";
    Child guid({program("bulkhead-guid"), "--display", dom0_x.display(), "--domain",
                "work:blue:" + socket},
               *base + "/guid.log");

    XClient dom0(dom0_x.display());
    std::optional<xcb_window_t> shown;
    auto found =
        eventually([&] { return (shown = dom0.find("[work] xmessage")).has_value(); }, 30s);
    if (!found) {
        auto console = sys::read_file(spec.volatile_dir + "/console.log");
        auto log = sys::read_file(*base + "/guid.log");
        FAIL("no [work] xmessage window; domain console:\n"
             << (console ? *console : "?") << "\nguid:\n"
             << (log ? *log : "?"));
    }
    CHECK(dom0.property(*shown, dom0.atom("_QUBES_VMNAME")) == "work");
    auto color = dom0.property(*shown, dom0.atom("_QUBES_LABEL_COLOR"));
    REQUIRE(color.size() == 4);
    uint32_t rgb;
    std::memcpy(&rgb, color.data(), 4);
    CHECK(rgb == blue);
    // The window shows xmessage's pixels (not the black of an unpainted window): its
    // background somewhere inside is not black once painted.
    auto geo = reply(xcb_get_geometry_reply(dom0.c, xcb_get_geometry(dom0.c, *shown), nullptr));
    REQUIRE(geo);
    CHECK(geo->x == 40);
    CHECK(geo->y == 50);
    CHECK(eventually([&] { return dom0.pixel(int16_t(geo->x + 3), int16_t(geo->y + 3)) != 0; }));

    dom0.focus(*shown);
    CHECK(eventually(
        [&] {
            dom0.fake(XCB_KEY_PRESS, keycode_return);
            dom0.fake(XCB_KEY_RELEASE, keycode_return);
            return !dom0.find("[work] xmessage");
        },
        15s));
    (void)hv.destroy(*id);
    (void)sys::remove_tree(*base);
}
