// The real GUI stack through bulkheadd (sandbox backend): a template with X (the busybox base
// plus bulkhead-gui-layer's layer: the host's Xvfb, xmessage, xclip), bulkheadd --gui-display
// on an Xvfb standing for dom0's screen. Starting a domain gives it its GUI socket; its
// bulkhead-agent sees the socket and runs the template's /etc/bulkhead/gui-session (Xvfb :0,
// then dom0's bulkhead-gui-agent); `qvm-run work xmessage ...` gets DISPLAY=:0. Nothing here
// speaks the GUI protocol: what dom0's screen shows comes from the domains' real agents.
#include "../gui-daemon/xcb/xvfb.h"
#include "dom0_screen.h"
#include "system.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>

#include <catch2/catch.hpp>

#include <xcb/xcb.h>
#include <xcb/xtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>

using bulkhead::testing::Dom0Screen;
using bulkhead::testing::System;
using namespace bulkhead;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t blue = 0x3465a4, yellow = 0xedd400; // work's and personal's labels
constexpr uint8_t key_return = 36, key_c = 54, key_v = 55;

bool eventually(std::function<bool()> const& done, std::chrono::seconds limit = 20s) {
    return bulkhead::testing::eventually(done, limit);
}

// qvm-run in the background (it blocks while its command runs), output to a file.
struct Run {
    Run(System& s, std::vector<std::string> args)
        : out(s.root() + "/run-" + std::to_string(++seq) + ".log") {
        auto log = sys::open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        REQUIRE(log);
        sys::SpawnOptions o;
        o.argv = {s.bin() + "/qvm-run"};
        o.argv.insert(o.argv.end(), args.begin(), args.end());
        o.env = s.env();
        o.fds = {{1, log->get()}, {2, log->get()}};
        auto p = sys::spawn(o);
        REQUIRE(p);
        pid = *p;
    }
    ~Run() {
        if (pid > 0) {
            (void)sys::kill(pid, SIGKILL);
            (void)sys::waitpid(pid);
        }
    }
    // Its exit code once it ended within the limit, else nullopt.
    std::optional<int> wait(std::chrono::seconds limit = 15s) {
        std::optional<int> code;
        eventually(
            [&] {
                auto st = sys::waitpid(pid, WNOHANG);
                if (st && st->code != -1) {
                    code = st->code;
                    pid = -1;
                }
                return code.has_value();
            },
            limit);
        return code;
    }
    std::string output() const { return sys::read_file(out).value_or("?"); }

    std::string out;
    pid_t pid = -1;
    static inline int seq = 0;
};

// xclip forks and takes the selection in the background, after qvm-run returned: wait until
// the domain's CLIPBOARD holds `text`.
bool owns(System& s, std::string const& domain, std::string const& text) {
    return eventually([&] {
        return s.tool({"qvm-run", "-p", domain, "xclip -o -selection clipboard"}).out == text;
    });
}

std::string console(System& s, std::string const& domain) {
    return sys::read_file(s.root() + "/volatile/" + domain + "/console.log").value_or("?");
}

} // namespace

TEST_CASE("gui: a template with X through bulkheadd: qvm-run work xmessage shows '[work] "
          "xmessage' on dom0's screen in work's colour; Return from dom0 closes it; the "
          "clipboard goes through the real agents",
          "[integration]") {
    Xvfb x("800x600x24");
    System s("qubes.ClipboardPaste * work personal allow\n"
             "qubes.ClipboardPaste * @anyvm @anyvm deny\n",
             {"--gui-display", x.display()});
    s.make_template();
    s.add_gui_layer();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "work"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "yellow", "personal"});
    s.ok({"qvm-start", "work"});
    s.ok({"qvm-start", "personal"});
    Dom0Screen dom0(x.display());
    auto diagnose = [&] {
        return "daemon log:\n" + s.daemon_log() + "\nwork's console:\n" + console(s, "work") +
               "\npersonal's console:\n" + console(s, "personal");
    };

    // Right after qvm-start, as a user would: the command waits for the domain's X server.
    Run hello(s, {"-p", "work", "xmessage -geometry +40+50 -buttons OK:3 -default OK hello"});
    std::optional<xcb_window_t> w;
    bool shown =
        eventually([&] { return (w = dom0.find("_NET_WM_NAME", "[work] xmessage")).has_value(); });
    INFO(diagnose() << "\nqvm-run: " << hello.output());
    REQUIRE(shown);
    CHECK(dom0.property(*w, "_QUBES_VMNAME") == "work");
    CHECK(dom0.label_color(*w) == blue);
    CHECK(dom0.property(*w, "WM_CLASS").starts_with("work:"));
    auto* g = xcb_get_geometry_reply(dom0.c, xcb_get_geometry(dom0.c, *w), nullptr);
    REQUIRE(g);
    int gx = g->x, gy = g->y;
    std::free(g);
    CHECK(gx == 40);
    CHECK(gy == 50);
    // xmessage's own pixels (Xaw's white), not an unpainted window.
    CHECK(eventually([&] { return dom0.pixel(gx + 3, gy + 3) == 0xffffff; }));

    // An override-redirect window (a menu, a tooltip): dom0 draws its frame in work's colour.
    Run menu(s, {"-p", "work",
                 "xmessage -xrm '*overrideRedirect: true' -geometry +400+300 -timeout 60 menu"});
    std::optional<xcb_window_t> m;
    REQUIRE(eventually([&] {
        return (m = dom0.find("_QUBES_VMNAME", "work", std::pair{400, 300})).has_value();
    }));
    CHECK(dom0.label_color(*m) == blue);
    CHECK(eventually([&] { return dom0.pixel(400, 300) == blue && dom0.pixel(401, 320) == blue; }));

    // Typing reaches it: Return answers xmessage's default button (OK = exit 3), its window
    // goes away on dom0, and qvm-run -p returns with xmessage's code.
    dom0.type(*w, {key_return});
    CHECK(hello.wait() == 3);
    CHECK(eventually([&] { return !dom0.find("_NET_WM_NAME", "[work] xmessage"); }));

    // The clipboard through the real agents: xclip owns work's CLIPBOARD; Ctrl+Shift+C in a
    // work window copies it to dom0, Ctrl+Shift+V in personal's window pastes it there (policy:
    // work -> personal allow), where xclip reads it back.
    s.ok({"qvm-run", "-p", "work",
          "printf %s 'from work, really' | xclip -selection clipboard >/dev/null 2>&1"});
    REQUIRE(owns(s, "work", "from work, really"));
    Run pwin(s, {"-p", "personal", "xmessage -geometry +40+200 -timeout 60 personal"});
    std::optional<xcb_window_t> p;
    REQUIRE(eventually(
        [&] { return (p = dom0.find("_NET_WM_NAME", "[personal] xmessage")).has_value(); }));
    CHECK(dom0.label_color(*p) == yellow);
    Run wwin(s, {"-p", "work", "xmessage -geometry +40+50 -timeout 60 work"});
    REQUIRE(
        eventually([&] { return (w = dom0.find("_NET_WM_NAME", "[work] xmessage")).has_value(); }));
    auto notice = [&] { return sys::read_file(s.root() + "/run/clipboard-notice").value_or(""); };
    dom0.type(*w, {37, 50, key_c});
    REQUIRE(eventually([&] { return notice().starts_with("copied work - 17 "); }));
    dom0.type(*p, {37, 50, key_v});
    REQUIRE(eventually([&] { return notice().starts_with("pasted work personal 17 "); }));
    CHECK(eventually([&] {
        return s.tool({"qvm-run", "-p", "personal", "xclip -o -selection clipboard"}).out ==
               "from work, really";
    }));
    // personal's paste back into work is denied by policy: work's clipboard stays its own.
    s.ok({"qvm-run", "-p", "personal",
          "printf %s mine | xclip -selection clipboard >/dev/null 2>&1"});
    REQUIRE(owns(s, "personal", "mine"));
    dom0.type(*p, {37, 50, key_c});
    REQUIRE(eventually([&] { return notice().starts_with("copied personal - 4 "); }));
    dom0.type(*w, {37, 50, key_v});
    REQUIRE(eventually([&] { return notice().starts_with("denied personal work 4 "); }));
    CHECK(s.ok({"qvm-run", "-p", "work", "xclip -o -selection clipboard"}) == "from work, really");

    // work's gui-agent dies: its session ends and its windows leave dom0's screen. The agent
    // starts the GUI session again, which keeps the domain's X server: the window comes back.
    s.ok({"qvm-run", "-p", "-u", "root", "work", "kill $(pidof bulkhead-gui-agent)"});
    CHECK(eventually([&] { return !dom0.find("_NET_WM_NAME", "[work] xmessage"); }));
    CHECK(
        eventually([&] { return dom0.find("_NET_WM_NAME", "[work] xmessage").has_value(); }, 20s));

    // Closing from dom0 takes the domain's windows away with it.
    s.ok({"qvm-shutdown", "--wait", "work"});
    CHECK(eventually([&] { return !dom0.find("_QUBES_VMNAME", "work"); }));
    CHECK(dom0.find("_NET_WM_NAME", "[personal] xmessage"));
}

TEST_CASE("gui: a template without X given a GUI says so in the domain's log, and runs on",
          "[integration]") {
    Xvfb x("320x200x24");
    System s("", {"--gui-display", x.display()});
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "green", "work"});
    s.ok({"qvm-start", "work"});
    CHECK(eventually([&] {
        return console(s, "work").find("its template has no X server") != std::string::npos;
    }));
    // Commands get no DISPLAY and do not wait for one.
    auto t0 = std::chrono::steady_clock::now();
    CHECK(s.ok({"qvm-run", "-p", "work", "echo \"[$DISPLAY]\""}) == "[]\n");
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}
