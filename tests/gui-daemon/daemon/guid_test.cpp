// The first GUI slice end to end on real X servers and the real programs: an Xvfb as dom0's
// display running bulkhead-guid, a second Xvfb as the domain's display running
// bulkhead-gui-agent, a tiny xcb client and xmessage as the domain's applications. The GUI
// socket is one dom0 makes per domain (here in a test directory; bulkheadd would put it in
// the domain's vchan directory). dom0's screen is read back with GetImage; input is sent on
// dom0's display with XTEST and must arrive in the domain's application.
#include "../xcb/xvfb.h"
#include "guid_test_util.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/gui/encode.h>

#include <xcb/xcb.h>
#include <xcb/xtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

using namespace bulkhead;
using namespace std::chrono_literals;
using namespace guid_test;
namespace rg = bulkhead::rpc::gui;

namespace {

constexpr uint32_t blue = 0x3465a4; // work's label
constexpr uint32_t green = 0x00aa00;
constexpr uint32_t dark_blue = 0x0000cc;
// Xvfb's default keymap (the same on both servers).
constexpr uint8_t keycode_return = 36;
constexpr uint8_t keycode_a = 38;

// The domain's tiny application: an override-redirect window (a menu, say) of one colour that
// records the keys and clicks it gets.
struct Probe {
    Probe(XClient& x, int16_t px, int16_t py, uint16_t w, uint16_t h)
        : x(x) {
        id = xcb_generate_id(x.c);
        uint32_t values[] = {green, 1, XCB_EVENT_MASK_KEY_PRESS | XCB_EVENT_MASK_BUTTON_PRESS};
        xcb_create_window(x.c, XCB_COPY_FROM_PARENT, id, x.screen->root, px, py, w, h, 0,
                          XCB_WINDOW_CLASS_INPUT_OUTPUT, x.screen->root_visual,
                          XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT | XCB_CW_EVENT_MASK, values);
        xcb_change_property(x.c, XCB_PROP_MODE_REPLACE, id, XCB_ATOM_WM_NAME, XCB_ATOM_STRING, 8, 5,
                            "probe");
        xcb_map_window(x.c, id);
        xcb_flush(x.c);
    }
    void repaint(uint32_t rgb) {
        xcb_change_window_attributes(x.c, id, XCB_CW_BACK_PIXEL, &rgb);
        xcb_clear_area(x.c, 0, id, 0, 0, 0, 0);
        xcb_flush(x.c);
    }
    // Waits for an event of `type` that `match` accepts.
    bool wait_for(uint8_t type, std::function<bool(xcb_generic_event_t const*)> const& match) {
        return eventually([&] {
            while (auto ev = reply(xcb_poll_for_event(x.c)))
                if ((ev->response_type & 0x7f) == type && match(ev.get()))
                    return true;
            return false;
        });
    }
    XClient& x;
    xcb_window_t id;
};

} // namespace

TEST_CASE("guid + gui-agent: a domain's windows on dom0's screen, framed and titled; input goes "
          "back") {
    Xvfb dom0_x("640x480x24");
    Xvfb guest_x("640x480x24");
    auto dir = sys::make_temp_dir("/tmp/bulkhead-guid-test-");
    REQUIRE(dir);
    auto socket = *dir + "/vchan.0.1.6000.sock";
    auto hostile_socket = *dir + "/vchan.0.2.6000.sock"; // another domain's

    Child guid({program("bulkhead-guid"), "--display", dom0_x.display(), "--domain",
                "work:blue:" + socket, "--domain", "untrusted:red:" + hostile_socket,
                "--notice-file", *dir + "/clipboard-notice"},
               *dir + "/guid.log");
    REQUIRE(eventually([&] { return sys::exists(socket) && sys::exists(hostile_socket); }));

    // The domain: its applications on its own display, then its gui-agent.
    XClient guest(guest_x.display());
    Probe probe(guest, 30, 40, 200, 100);
    Child xmessage({"xmessage", "-geometry", "+300+200", "-buttons", "OK:3,Cancel:4", "-default",
                    "OK", "hello from work"},
                   *dir + "/xmessage.log",
                   std::vector<std::string>{"DISPLAY=" + guest_x.display(), "PATH=/usr/bin:/bin"});
    Child agent({program("bulkhead-gui-agent"), "--display", guest_x.display(), "--socket", socket},
                *dir + "/agent.log");

    XClient dom0(dom0_x.display());
    std::optional<xcb_window_t> shown, shown_xmessage;
    REQUIRE(eventually([&] { return (shown = dom0.find("[work] probe")).has_value(); }));
    REQUIRE(
        eventually([&] { return (shown_xmessage = dom0.find("[work] xmessage")).has_value(); }));

    SECTION("labelled for the window manager") {
        for (auto w : {*shown, *shown_xmessage}) {
            CHECK(dom0.property(w, dom0.atom("_QUBES_VMNAME")) == "work");
            auto color = dom0.property(w, dom0.atom("_QUBES_LABEL_COLOR"));
            REQUIRE(color.size() == 4);
            uint32_t rgb;
            std::memcpy(&rgb, color.data(), 4);
            CHECK(rgb == blue);
            CHECK(dom0.property(w, dom0.atom("_NET_WM_NAME")).starts_with("[work] "));
        }
        CHECK(dom0.property(*shown_xmessage, XCB_ATOM_WM_CLASS).starts_with("work:xmessage"));
    }

    SECTION("pixels: the guest's, inside the daemon's label-coloured frame; updates follow") {
        CHECK(eventually([&] { return dom0.pixel(30 + 100, 40 + 50) == green; }));
        CHECK(dom0.pixel(30, 40) == blue); // the override-redirect window's daemon-drawn frame
        CHECK(dom0.pixel(30 + 199, 40 + 99) == blue);
        CHECK(dom0.pixel(30 + 1, 40 + 50) == blue);
        CHECK(dom0.pixel(20, 30) == 0x000000); // outside: dom0's black root
        probe.repaint(dark_blue);
        CHECK(eventually([&] { return dom0.pixel(30 + 100, 40 + 50) == dark_blue; }));
        CHECK(dom0.pixel(30, 40) == blue);
    }

    SECTION("a key typed on dom0 reaches the focused window in the domain") {
        dom0.focus(*shown);
        dom0.fake(XCB_KEY_PRESS, keycode_a);
        dom0.fake(XCB_KEY_RELEASE, keycode_a);
        CHECK(probe.wait_for(XCB_KEY_PRESS, [](auto const* ev) {
            return reinterpret_cast<xcb_key_press_event_t const*>(ev)->detail == keycode_a;
        }));
    }

    SECTION("a click on dom0 lands at the same window coordinates in the domain") {
        dom0.fake(XCB_MOTION_NOTIFY, 0, 30 + 50, 40 + 20);
        dom0.fake(XCB_BUTTON_PRESS, 1);
        dom0.fake(XCB_BUTTON_RELEASE, 1);
        CHECK(probe.wait_for(XCB_BUTTON_PRESS, [](auto const* ev) {
            auto const* b = reinterpret_cast<xcb_button_press_event_t const*>(ev);
            return b->detail == 1 && b->event_x == 50 && b->event_y == 20;
        }));
    }

    SECTION("Return typed on dom0 answers xmessage in the domain; its window goes away") {
        dom0.focus(*shown_xmessage);
        // xmessage's default button answers Return: exit code 3 (OK).
        REQUIRE(eventually([&] {
            dom0.fake(XCB_KEY_PRESS, keycode_return);
            dom0.fake(XCB_KEY_RELEASE, keycode_return);
            return xmessage.wait_exit(500ms).has_value();
        }));
        CHECK(xmessage.status->code == 3);
        CHECK(eventually([&] { return !dom0.find("[work] xmessage"); }));
        CHECK(dom0.find("[work] probe"));
    }

    SECTION("resize and close from dom0 (what a window manager does) reach the domain") {
        REQUIRE(eventually([&] { return dom0.pixel(30 + 100, 40 + 50) == green; }));
        uint32_t size[] = {300, 150};
        xcb_configure_window(dom0.c, *shown, XCB_CONFIG_WINDOW_WIDTH | XCB_CONFIG_WINDOW_HEIGHT,
                             size);
        xcb_flush(dom0.c);
        CHECK(eventually([&] {
            auto g = reply(
                xcb_get_geometry_reply(guest.c, xcb_get_geometry(guest.c, probe.id), nullptr));
            return g && g->width == 300 && g->height == 150;
        }));
        // The new part shows the guest's pixels, the frame follows the new edges.
        CHECK(eventually([&] { return dom0.pixel(30 + 250, 40 + 120) == green; }));
        CHECK(eventually([&] { return dom0.pixel(30 + 299, 40 + 149) == blue; }));
        CHECK(dom0.pixel(30 + 350, 40 + 50) == 0x000000);

        // The close button: WM_DELETE_WINDOW to dom0's window (which offers it, so a window
        // manager never kills the daemon's connection instead).
        auto protocols = dom0.property(*shown_xmessage, dom0.atom("WM_PROTOCOLS"));
        REQUIRE(protocols.size() == 4);
        xcb_atom_t offered;
        std::memcpy(&offered, protocols.data(), 4);
        CHECK(offered == dom0.atom("WM_DELETE_WINDOW"));
        xcb_client_message_event_t ev{};
        ev.response_type = XCB_CLIENT_MESSAGE;
        ev.format = 32;
        ev.window = *shown_xmessage;
        ev.type = dom0.atom("WM_PROTOCOLS");
        ev.data.data32[0] = offered;
        xcb_send_event(dom0.c, 0, *shown_xmessage, XCB_EVENT_MASK_NO_EVENT,
                       reinterpret_cast<char const*>(&ev));
        xcb_flush(dom0.c);
        CHECK(xmessage.wait_exit(10s).has_value());
        CHECK(eventually([&] { return !dom0.find("[work] xmessage"); }));
        CHECK(dom0.find("[work] probe"));
    }

    SECTION("a hostile domain is cut off while work's window keeps updating") {
        REQUIRE(eventually([&] { return dom0.pixel(30 + 100, 40 + 50) == green; }));
        // untrusted: full-screen override-redirect windows past the per-domain cap (1,000).
        auto fd = sys::unix_connect(hostile_socket);
        REQUIRE(fd);
        std::vector<std::byte> flood;
        rg::encode_to(flood, 0, rg::Hello{});
        for (rg::WindowId id = 1; id <= 1100; ++id) {
            rg::encode_to(flood, id, rg::Create{{0, 0, 640, 480}, 0, rg::OverrideRedirect::Yes});
            if (id <= 10)
                rg::encode_to(flood, id, rg::SetTitle{"[work] probe"});
            rg::encode_to(flood, id, rg::Map{0, rg::OverrideRedirect::Yes});
        }
        (void)sys::write_all(fd->get(), flood); // dom0 may close it before the end
        // dom0 ends the session: EOF after its HELLO.
        CHECK(eventually([&] {
            std::byte b[256];
            auto n = sys::read(fd->get(), b);
            return !n || *n == 0;
        }));
        probe.repaint(dark_blue);
        CHECK(eventually([&] { return dom0.pixel(30 + 100, 40 + 50) == dark_blue; }));
        CHECK(dom0.pixel(400, 400) == 0x000000); // none of untrusted's windows is left
        // dom0's tray is told (model/notice.h's record).
        auto notice = sys::read_file(*dir + "/clipboard-notice");
        REQUIRE(notice);
        CHECK(notice->starts_with("cut-off untrusted - 0 "));
        // A second connection on work's socket is refused; work's session goes on.
        auto second = sys::unix_connect(socket);
        REQUIRE(second);
        CHECK(eventually([&] {
            std::byte b[256];
            auto n = sys::read(second->get(), b);
            return !n || *n == 0;
        }));
        probe.repaint(green);
        CHECK(eventually([&] { return dom0.pixel(30 + 100, 40 + 50) == green; }));
        // Junk from untrusted (an unknown message type) ends its new session too.
        auto junk = sys::unix_connect(hostile_socket);
        REQUIRE(junk);
        std::vector<std::byte> bad;
        rg::encode_to(bad, 0, rg::Hello{});
        for (int i = 0; i < 12; ++i)
            bad.push_back(std::byte{0x7f});
        REQUIRE(sys::write_all(junk->get(), bad));
        CHECK(eventually([&] {
            std::byte b[256];
            auto n = sys::read(junk->get(), b);
            return !n || *n == 0;
        }));
        CHECK(dom0.find("[work] probe"));
    }

    (void)sys::remove_tree(*dir);
}

namespace {

// bulkhead-guid driven as bulkheadd drives it: control lines on a pipe (its fd 3).
struct ControlledGuid {
    UniqueFd control;
    std::unique_ptr<Child> child;
    ControlledGuid(std::string const& display, std::string const& log) {
        auto p = sys::pipe();
        REQUIRE(p);
        child = std::make_unique<Child>(
            std::vector<std::string>{program("bulkhead-guid"), "--display", display, "--control-fd",
                                     "3"},
            log, std::nullopt, std::vector<std::pair<int, int>>{{3, p->first.get()}});
        control = std::move(p->second);
    }
    void say(std::string const& lines) { REQUIRE(sys::write_all(control.get(), lines)); }
};

} // namespace

TEST_CASE("guid --control-fd: domains added and removed while it runs (as bulkheadd starts and "
          "halts them)") {
    Xvfb dom0_x("640x480x24");
    Xvfb guest_x("640x480x24");
    auto dir = sys::make_temp_dir("/tmp/bulkhead-guid-test-");
    REQUIRE(dir);
    auto socket = *dir + "/vchan.0.7.6000.sock";
    ControlledGuid guid(dom0_x.display(), *dir + "/guid.log");
    auto say = [&](std::string const& lines) { guid.say(lines); };
    say("hello\nadd work chartreuse " + socket + "\n"); // refused lines change nothing
    say("add work blue " + socket + "\n");
    REQUIRE(eventually([&] { return sys::exists(socket); }));

    XClient guest(guest_x.display());
    Probe probe(guest, 30, 40, 200, 100);
    Child agent({program("bulkhead-gui-agent"), "--display", guest_x.display(), "--socket", socket},
                *dir + "/agent.log");
    XClient dom0(dom0_x.display());
    REQUIRE(eventually([&] { return dom0.find("[work] probe").has_value(); }));
    CHECK(eventually([&] { return dom0.pixel(30 + 1, 40 + 1) == blue; }));

    say("remove work\n");
    CHECK(eventually([&] { return !dom0.find("[work] probe"); }));
    CHECK(!sys::exists(socket));
    CHECK(agent.wait_exit(10s).has_value()); // its session ended

    // dom0 went away: the daemon stops.
    guid.control.reset();
    auto status = guid.child->wait_exit(10s);
    REQUIRE(status);
    CHECK(status->code == 0);
    (void)sys::remove_tree(*dir);
}

namespace {

// A fake domain on a GUI socket (blocking): frames written as given.
struct RawDomain {
    UniqueFd fd;
    explicit RawDomain(std::string const& socket) {
        auto c = sys::unix_connect(socket);
        REQUIRE(c);
        fd = std::move(*c);
    }
    void send(std::vector<rg::ValidatedMessage> const& messages) {
        std::vector<std::byte> out;
        for (auto const& m : messages)
            rg::encode_to(out, m.window, m.message);
        (void)sys::write_all(fd.get(), out); // dom0 may have hung up already
    }
    // dom0 ended the session: EOF or a reset.
    bool cut_off() {
        return eventually([&] {
            std::byte b[4096];
            auto n = ::recv(fd.get(), b, sizeof b, MSG_DONTWAIT);
            return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        });
    }
};

rg::ShmRegion grant_region(uint32_t refs) {
    return {rg::ShmKind::Grant, refs, 64, 16, 256, rg::format_xrgb8888, 4096};
}

} // namespace

TEST_CASE("guid: grant references only from a domain dom0 put on Xen, mapped from that domain "
          "(here, without Xen's gntdev, the mapping fails closed)") {
    Xvfb dom0_x("640x480x24");
    auto dir = sys::make_temp_dir("/tmp/bulkhead-guid-test-");
    REQUIRE(dir);
    auto sandbox_socket = *dir + "/vchan.0.7.6000.sock";
    auto xen_socket = *dir + "/vchan.0.9.6000.sock";
    ControlledGuid guid(dom0_x.display(), *dir + "/guid.log");
    auto say = [&](std::string const& lines) { guid.say(lines); };
    say("add bad green " + *dir + "/x.sock xen=0\n");     // dom0 itself: refused
    say("add bad green " + *dir + "/y.sock xen=32752\n"); // a reserved id: refused
    say("add work blue " + sandbox_socket + "\n");
    say("add xdom green " + xen_socket + " type=AppVM tags= xen=9\n");
    REQUIRE(eventually([&] { return sys::exists(sandbox_socket) && sys::exists(xen_socket); }));
    CHECK(!sys::exists(*dir + "/x.sock"));
    CHECK(!sys::exists(*dir + "/y.sock"));
    auto log = [&] { return sys::read_file(*dir + "/guid.log").value_or(""); };

    rg::ValidatedMessage hello{0, rg::Hello{}};
    rg::ValidatedMessage create{5, rg::Create{{10, 10, 64, 16}, 0, rg::OverrideRedirect::No}};
    SECTION("a sandbox domain sending grant references is cut off") {
        RawDomain d(sandbox_socket);
        d.send({hello, create, {5, rg::GrantRefs{{8}}}});
        CHECK(d.cut_off());
        CHECK(log().find("not on Xen") != std::string::npos);
    }
    SECTION("a sandbox domain's grant region (no references) is cut off") {
        RawDomain d(sandbox_socket);
        d.send({hello, create, {5, grant_region(1)}});
        CHECK(d.cut_off());
    }
    SECTION("a Xen domain: references for another window, or not one a page, are cut off") {
        RawDomain a(xen_socket);
        rg::ValidatedMessage create6{6, rg::Create{{10, 10, 64, 16}, 0, rg::OverrideRedirect::No}};
        a.send({hello, create, create6, {5, rg::GrantRefs{{8}}}, {6, rg::GrantRefs{{9}}}});
        CHECK(a.cut_off());
        CHECK(log().find("two windows") != std::string::npos);
        RawDomain b(xen_socket);
        b.send({hello,
                create,
                {5, rg::GrantRefs{{8}}},
                {5, rg::GrantRefs{{9}}},
                {5, grant_region(1)}});
        CHECK(b.cut_off());
        CHECK(log().find("2 references came for it") != std::string::npos);
    }
    SECTION("a Xen domain's well-formed region is mapped from its own domain id") {
        RawDomain d(xen_socket);
        d.send({hello, create, {5, rg::GrantRefs{{8}}}, {5, grant_region(1)}});
        if (sys::exists("/dev/xen/gntdev")) {
            // Real dom0: Xen refuses domain 9's reference 8 (no such grant).
            CHECK(d.cut_off());
            CHECK(log().find("grant references of domain 9") != std::string::npos);
        } else {
            CHECK(d.cut_off());
            CHECK(log().find("grant device") != std::string::npos);
        }
    }
    guid.control.reset();
    CHECK(guid.child->wait_exit(10s).has_value());
    (void)sys::remove_tree(*dir);
}
