// The system end to end on the sandbox backend: real bulkheadd, real agents in real
// domains, the real qvm-* tools (issue 3's acceptance list).
#include "system.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <thread>

using bulkhead::testing::System;
namespace sys = bulkhead::sys;

namespace {

constexpr char const* kPolicy = "qubes.Echo * @anyvm @anyvm allow\n"
                                "qubes.Echo * @anyvm @dispvm allow\n"
                                "qubes.Hostname * work @anyvm allow\n"
                                "qubes.Hostname * @anyvm @anyvm deny\n";

std::string const kClient = "/usr/lib/bulkhead/qrexec-client-vm";

} // namespace

TEST_CASE("create, run, shutdown: root resets, /home persists", "[integration]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "work"});
    CHECK(s.ok({"qvm-run", "-p", "work", "echo hi"}) == "hi\n");
    CHECK(s.ok({"qvm-ls", "--raw-list", "--running"}).find("work") != std::string::npos);
    s.ok({"qvm-run", "-p", "-u", "root", "work", "echo root > /root-file"});
    s.ok({"qvm-run", "-p", "work", "echo home > /home/user/home-file"});
    CHECK(s.ok({"qvm-run", "-p", "work", "cat /root-file"}) == "root\n");
    s.ok({"qvm-shutdown", "--wait", "work"});
    CHECK(s.ok({"qvm-ls", "--raw-list", "--halted"}).find("work") != std::string::npos);
    auto r = s.tool({"qvm-run", "-p", "work", "cat /root-file"});
    CHECK(r.code != 0); // the root was reset
    CHECK(s.ok({"qvm-run", "-p", "work", "cat /home/user/home-file"}) == "home\n");
    // stdin, stderr and exit codes pass through
    auto io = s.tool({"qvm-run", "-p", "work", "cat; echo oops >&2; exit 7"}, "data\n");
    CHECK(io.code == 7);
    CHECK(io.out == "data\n");
    CHECK(io.err == "oops\n");
    // as another user
    CHECK(s.ok({"qvm-run", "-p", "-u", "root", "work", "id -u"}) == "0\n");
    CHECK(s.ok({"qvm-run", "-p", "work", "id -u"}) == "1000\n");
    // --no-autostart on a halted domain fails, nothing started
    s.ok({"qvm-shutdown", "--wait", "work"});
    CHECK(s.tool({"qvm-run", "-p", "--no-autostart", "work", "true"}).code != 0);
    CHECK(s.ok({"qvm-ls", "--raw-list", "--halted"}).find("work") != std::string::npos);
}

TEST_CASE("clone and remove", "[integration]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "green", "personal"});
    s.ok({"qvm-run", "-p", "personal", "echo mine > /home/user/f"});
    s.ok({"qvm-shutdown", "--wait", "personal"});
    s.ok({"qvm-clone", "personal", "personal2"});
    CHECK(s.ok({"qvm-prefs", "personal2", "label"}) == "green\n");
    // running domains and templates in use cannot be removed
    s.ok({"qvm-start", "personal"});
    CHECK(s.tool({"qvm-remove", "-f", "personal"}).code != 0);
    CHECK(s.tool({"qvm-remove", "-f", "tmpl"}).code != 0);
    s.ok({"qvm-shutdown", "--wait", "personal"});
    s.ok({"qvm-remove", "-f", "personal"});
    CHECK(s.ok({"qvm-ls", "--raw-list"}).find("personal\n") == std::string::npos);
    CHECK_FALSE(sys::exists(s.root() + "/appvms/personal"));
    CHECK(s.ok({"qvm-ls", "--raw-list"}).find("personal2\n") != std::string::npos);
}

TEST_CASE("template changes reach app domains at next start; three stacked layers",
          "[integration]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "work"});
    s.ok({"qvm-start", "work"});
    // Change the template from inside it, then halt it cleanly: the change is committed.
    s.ok({"qvm-run", "-p", "-u", "root", "tmpl", "echo v2 > /etc/release"});
    s.ok({"qvm-shutdown", "--wait", "tmpl"});
    // A running app domain keeps its root until restarted.
    CHECK(s.tool({"qvm-run", "-p", "work", "cat /etc/release"}).code != 0);
    s.ok({"qvm-shutdown", "--wait", "work"});
    CHECK(s.ok({"qvm-run", "-p", "work", "cat /etc/release"}) == "v2\n");

    // A stacked template: tmpl's layers plus two more imported ones (3+ layers).
    s.ok({"qvm-shutdown", "--wait", "work"});
    s.ok({"qvm-template", "import-layer", "tmpl", s.make_layer_dir("opt/a", "layer-a\n")});
    s.ok({"qvm-template", "import-layer", "tmpl", s.make_layer_dir("opt/b", "layer-b\n")});
    CHECK(s.ok({"qvm-run", "-p", "work", "cat /opt/a /opt/b /etc/release"}) ==
          "layer-a\nlayer-b\nv2\n");
}

TEST_CASE("disposables leave nothing behind", "[integration]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "-P", "template_for_dispvms=True", "dvm"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "-P", "default_dispvm=dvm", "untrusted"});
    auto host = s.ok({"qvm-run", "-p", "--dispvm=dvm", "hostname"});
    CHECK(host.rfind("disp", 0) == 0);
    // From a domain, through policy (@dispvm → the source's default_dispvm).
    CHECK(s.ok({"qvm-run", "-p", "untrusted", "echo x | " + kClient + " @dispvm qubes.Echo"}) ==
          "x\n");
    // Gone from the store and the disk (destruction is asynchronous: allow a moment).
    std::string list = s.raw_list_without("disp");
    INFO("daemon log:\n" << s.daemon_log());
    CHECK(list.find("disp") == std::string::npos);
    for (auto dir : {"/appvms", "/volatile", "/run/vchan"})
        for (auto const& n : sys::list_dir(s.root() + dir).value_or(std::vector<std::string>{}))
            CHECK(n.rfind("disp", 0) != 0);
}

TEST_CASE("policy: allow runs, deny is 126, unknown service 127", "[integration]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "work"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "untrusted"});
    // allow, with the target started by the call (autostart)
    CHECK(s.ok({"qvm-run", "-p", "untrusted", "echo ping | " + kClient + " work qubes.Echo"}) ==
          "ping\n");
    CHECK(s.ok({"qvm-run", "-p", "work", kClient + " untrusted qubes.Hostname"}) == "untrusted\n");
    auto denied = s.tool({"qvm-run", "-p", "untrusted", kClient + " work qubes.Hostname"});
    CHECK(denied.code == 126);
    auto nopolicy = s.tool({"qvm-run", "-p", "untrusted", kClient + " work qubes.Nothing"});
    CHECK(nopolicy.code == 126);
    // the service's source is the caller's identity, not anything it says
    CHECK(s.ok({"qvm-run", "-p", "--service", "work", "qubes.Hostname"}) == "work\n");
    auto missing = s.tool({"qvm-run", "-p", "--service", "work", "qubes.NoSuchService"});
    CHECK(missing.code == 127);
}

TEST_CASE("1,000 concurrent qvm-run calls into one domain all succeed", "[integration][load]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "work"});
    s.ok({"qvm-start", "work"});
    constexpr int kCalls = 1000;
    auto out_dir = s.root() + "/out";
    REQUIRE(sys::mkdir_p(out_dir));
    auto null = sys::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(null);
    std::vector<pid_t> pids;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) {
        auto out =
            sys::open(out_dir + "/" + std::to_string(i), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        REQUIRE(out);
        sys::SpawnOptions o;
        o.argv = {s.bin() + "/qvm-run", "-p", "work", "echo " + std::to_string(i)};
        o.env = s.env();
        o.fds = {{0, null->get()}, {1, out->get()}, {2, out->get()}};
        auto pid = sys::spawn(o);
        REQUIRE(pid);
        pids.push_back(*pid);
    }
    int failed = 0;
    for (auto pid : pids) {
        auto st = sys::waitpid(pid);
        if (!st || st->code != 0)
            ++failed;
    }
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    WARN(kCalls << " concurrent qvm-run calls in " << secs << " s");
    int wrong = 0;
    for (int i = 0; i < kCalls; ++i)
        if (sys::read_file(out_dir + "/" + std::to_string(i)).value_or("") !=
            std::to_string(i) + "\n")
            ++wrong;
    INFO(s.daemon_log().substr(0, 4000));
    CHECK(failed == 0);
    CHECK(wrong == 0);
}
