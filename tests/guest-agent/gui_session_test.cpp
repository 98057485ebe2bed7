// The agent's side of a domain's GUI: the real bulkhead-agent with a template GUI session (a
// script standing for /etc/bulkhead/gui-session) and a path standing for the X server's socket.
// dom0's GUI socket appearing in the vchan directory starts the session once; commands get
// DISPLAY=:0 and, while the session runs, wait for the X server to listen.
#include "harness.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>

#include <catch2/catch.hpp>

#include <thread>

using namespace bulkhead;
using namespace bulkhead::test;
using namespace std::chrono_literals;

namespace {

bool eventually(std::function<bool()> const& done) {
    for (int i = 0; i < 500 && !done(); ++i)
        std::this_thread::sleep_for(10ms);
    return done();
}

} // namespace

TEST_CASE("agent: dom0's GUI socket starts the template's GUI session once; commands get "
          "DISPLAY and wait for the X server") {
    Domain d;
    auto started = d.root + "/started", stop = d.root + "/stop", x = d.root + "/X0";
    auto session = write_script(d.root + "/gui-session",
                                "#!/bin/sh\necho \"$VCHAN_DOMAIN $DISPLAY $(id -u)\" >>" + started +
                                    "\nwhile [ ! -e " + stop + " ]; do sleep 0.02; done\n");
    AgentProcess agent(d, 5, {"--gui-session", session, "--x-socket", x});
    Dom0 dom0(d, 5);
    dom0.connect();

    // No GUI from dom0 yet: the template has X, so DISPLAY is set, and nothing waits.
    auto t0 = std::chrono::steady_clock::now();
    auto before = dom0.exec("root", "echo \"[$DISPLAY]\"");
    CHECK(before.out == "[:0]\n");
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    CHECK(!sys::exists(started));

    // dom0 gives the GUI: its socket appears; the session runs once, as root of this domain.
    auto gui = sys::unix_listen(d.vchan() + "/vchan.0.5.6000.sock", 4, SOCK_CLOEXEC);
    REQUIRE(gui);
    REQUIRE(eventually([&] { return sys::exists(started); }));
    std::this_thread::sleep_for(200ms);
    auto const once = "5 :0 " + std::to_string(::getuid()) + "\n";
    CHECK(sys::read_file(started).value_or("") == once);

    // A command while the X server starts waits for it (not for "nogui:" ones).
    auto nogui = dom0.exec("root", "nogui:test -S " + x + " && echo up || echo down");
    CHECK(nogui.out == "down\n");
    Result<UniqueFd> xfd = unexpected(Errc::NotFound, "not yet");
    std::thread later([&] {
        std::this_thread::sleep_for(600ms);
        xfd = sys::unix_listen(x, 4, SOCK_CLOEXEC);
    });
    t0 = std::chrono::steady_clock::now();
    auto waited = dom0.exec("root", "test -S " + x + " && echo up || echo down");
    auto took = std::chrono::steady_clock::now() - t0;
    later.join();
    REQUIRE(xfd);
    CHECK(waited.out == "up\n");
    CHECK(took >= 500ms);

    // The session ends: nothing to wait for any more, even with the X socket gone.
    REQUIRE(sys::write_file_atomic(stop, "", 0644));
    std::this_thread::sleep_for(300ms);
    REQUIRE(sys::unlink(x));
    t0 = std::chrono::steady_clock::now();
    auto after = dom0.exec("root", "echo \"[$DISPLAY]\"");
    CHECK(after.out == "[:0]\n");
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    CHECK(sys::read_file(started).value_or("") == once);
}

TEST_CASE("agent: a template without a GUI session: no DISPLAY, no wait, even with dom0's "
          "GUI socket") {
    Domain d;
    AgentProcess agent(d, 6, {"--gui-session", d.root + "/none"});
    Dom0 dom0(d, 6);
    dom0.connect();
    auto gui = sys::unix_listen(d.vchan() + "/vchan.0.6.6000.sock", 4, SOCK_CLOEXEC);
    REQUIRE(gui);
    std::this_thread::sleep_for(100ms);
    auto t0 = std::chrono::steady_clock::now();
    CHECK(dom0.exec("root", "echo \"[$DISPLAY]\"").out == "[]\n");
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
}
