// Fault injection: bulkheadd killed with SIGKILL during a create, a start, store writes, a
// copy, or with domains running; then started again on the same root. The store opens and
// is consistent, nothing half-created lingers, every acknowledged write and copy is still
// there, and the domains the dead daemon ran are cleanly reported (killed, Halted, logged)
// instead of left running unmanaged beside a second copy of themselves. Also: a domain's
// agent killed in the middle of a call from another domain gives the caller a clean error;
// the receiving disk filling up during a copy gives the sender a clean error and no file.
#include "system.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <sys/mount.h>
#include <thread>

using bulkhead::testing::System;
namespace sys = bulkhead::sys;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::string const kPolicy = "test.Slow * @anyvm @anyvm allow\n";

// Host pids of the processes of domain `name` (their environment says so) below ancestor.
std::vector<pid_t> domain_processes(std::string const& name, pid_t ancestor) {
    std::vector<pid_t> out;
    for (auto const& e : sys::list_dir("/proc").value_or(std::vector<std::string>{})) {
        if (e.empty() || e.find_first_not_of("0123456789") != std::string::npos)
            continue;
        auto env = sys::read_file("/proc/" + e + "/environ").value_or("");
        if (env.find("BULKHEAD_DOMAIN=" + name + '\0') != std::string::npos &&
            (ancestor <= 0 || bulkhead::testing::descends_from(std::stoi(e), ancestor)))
            out.push_back(std::stoi(e));
    }
    return out;
}

bool gone_within(std::vector<pid_t> const& pids, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
        bool any = false;
        for (auto p : pids) {
            auto stat = sys::read_file("/proc/" + std::to_string(p) + "/stat").value_or("");
            auto paren = stat.rfind(')');
            any = any ||
                  (paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] != 'Z');
        }
        if (!any)
            return true;
        if (Clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(20ms);
    }
}

// SIGKILL, reap, start again on the same root. The dead daemon's pid file is still there
// (the new daemon reads it), so System's wait for the file ends early: wait for the new pid.
void crash_and_restart(System& s) {
    REQUIRE(sys::kill(s.daemon_pid(), SIGKILL));
    s.restart_daemon();
    auto want = std::to_string(s.daemon_pid()) + "\n";
    auto deadline = Clock::now() + 20s;
    while (sys::read_file(s.root() + "/run/bulkheadd.pid").value_or("") != want) {
        INFO("daemon log:\n" << s.daemon_log());
        REQUIRE(Clock::now() < deadline);
        auto st = sys::waitpid(s.daemon_pid(), WNOHANG);
        REQUIRE(st);
        REQUIRE(st->code == -1);
        std::this_thread::sleep_for(10ms);
    }
}

pid_t spawn_tool(System& s, std::vector<std::string> args, std::string const& out = "/dev/null") {
    args[0] = s.bin() + "/" + args[0];
    auto null = sys::open("/dev/null", O_RDONLY | O_CLOEXEC);
    auto sink = sys::open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(null);
    REQUIRE(sink);
    sys::SpawnOptions o;
    o.argv = std::move(args);
    o.env = s.env();
    o.fds = {{0, null->get()}, {1, sink->get()}, {2, sink->get()}};
    auto pid = sys::spawn(o);
    REQUIRE(pid);
    return *pid;
}

int wait_exit(pid_t pid, std::chrono::milliseconds timeout = 60s) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
        auto st = sys::waitpid(pid, WNOHANG);
        REQUIRE(st);
        if (st->code != -1)
            return st->code;
        if (Clock::now() > deadline) {
            (void)sys::kill(pid, SIGKILL);
            (void)sys::waitpid(pid);
            return -1;
        }
        std::this_thread::sleep_for(10ms);
    }
}

bool listed(System& s, std::string const& name, std::string const& filter = "") {
    std::vector<std::string> args = {"qvm-ls", "--raw-list"};
    if (!filter.empty())
        args.push_back(filter);
    return s.ok(args).find(name + "\n") != std::string::npos;
}

} // namespace

TEST_CASE("bulkheadd killed with domains running: they are reported, not left running", "[fault]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "crash-a"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "green", "crash-b"});
    s.ok({"qvm-start", "crash-a"});
    s.ok({"qvm-start", "crash-b"});
    // Acknowledged data in a's private volume.
    s.ok({"qvm-run", "-p", "crash-a", "echo kept > ~/acked && sync"});
    auto old_a = domain_processes("crash-a", s.daemon_pid());
    auto old_b = domain_processes("crash-b", s.daemon_pid());
    REQUIRE_FALSE(old_a.empty());
    REQUIRE_FALSE(old_b.empty());
    crash_and_restart(s);
    INFO("daemon log:\n" << s.daemon_log());
    // The dead daemon's domains were killed at restart and are reported Halted...
    CHECK(gone_within(old_a, 5s));
    CHECK(gone_within(old_b, 5s));
    CHECK(listed(s, "crash-a", "--halted"));
    CHECK(listed(s, "crash-b", "--halted"));
    CHECK(s.daemon_log().find("previous bulkheadd") != std::string::npos);
    // ... and start again, once each, with their data.
    s.ok({"qvm-start", "crash-a"});
    CHECK(domain_processes("crash-a", -1).size() ==
          domain_processes("crash-a", s.daemon_pid()).size());
    CHECK(s.ok({"qvm-run", "-p", "crash-a", "cat ~/acked"}) == "kept\n");
    CHECK(s.ok({"qvm-run", "-p", "crash-b", "echo ok"}) == "ok\n");
}

TEST_CASE("bulkheadd killed during qvm-create: created whole or not at all", "[fault]") {
    System s(kPolicy);
    s.make_template();
    for (int i = 0; i < 6; ++i) {
        auto name = "new" + std::to_string(i);
        INFO("kill after " << i * 4 << " ms of qvm-create " << name);
        auto pid = spawn_tool(s, {"qvm-create", "-t", "tmpl", "-l", "blue", name});
        std::this_thread::sleep_for(std::chrono::milliseconds(i * 4));
        crash_and_restart(s);
        int code = wait_exit(pid);
        bool exists = listed(s, name);
        if (code == 0) // acknowledged: it must have survived
            CHECK(exists);
        if (exists) { // whole: its properties read, it runs
            CHECK(s.ok({"qvm-prefs", name, "label"}) == "blue\n");
            CHECK(s.ok({"qvm-run", "-p", "--autostart", name, "echo up"}) == "up\n");
            s.ok({"qvm-kill", name});
        } else { // nothing left: the name is free
            s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", name});
        }
    }
}

TEST_CASE("bulkheadd killed during qvm-start: the half-started domain does not linger", "[fault]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "crash-a"});
    auto starter = spawn_tool(s, {"qvm-start", "crash-a"});
    // Mid-start: the domain's init exists (the agent may not have answered yet).
    auto deadline = Clock::now() + 20s;
    std::vector<pid_t> old;
    while ((old = domain_processes("crash-a", s.daemon_pid())).empty() && Clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    REQUIRE_FALSE(old.empty());
    crash_and_restart(s);
    CHECK(wait_exit(starter) != -1);
    INFO("daemon log:\n" << s.daemon_log());
    CHECK(gone_within(old, 5s));
    CHECK(listed(s, "crash-a", "--halted"));
    s.ok({"qvm-start", "crash-a"});
    CHECK(s.ok({"qvm-run", "-p", "crash-a", "echo ok"}) == "ok\n");
    CHECK(domain_processes("crash-a", -1).size() ==
          domain_processes("crash-a", s.daemon_pid()).size());
}

TEST_CASE("bulkheadd killed during store writes: every acknowledged write is kept", "[fault]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "crash-a"});
    std::vector<std::string> acked;
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        for (int i = 0; !stop; ++i) {
            auto tag = "t" + std::to_string(i);
            if (s.tool({"qvm-tags", "crash-a", "add", tag}).code == 0)
                acked.push_back(tag);
            else
                break; // the daemon died under it
        }
    });
    std::this_thread::sleep_for(400ms);
    crash_and_restart(s);
    stop = true;
    writer.join();
    REQUIRE_FALSE(acked.empty());
    auto tags = s.ok({"qvm-tags", "crash-a", "list"});
    for (auto const& t : acked) {
        INFO("acknowledged tag " << t);
        CHECK(tags.find(t + "\n") != std::string::npos);
    }
    // The store is whole: every command reads and writes it.
    CHECK(s.ok({"qvm-prefs", "crash-a", "label"}) == "blue\n");
    s.ok({"qvm-tags", "crash-a", "add", "after"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "c"});
    CHECK(listed(s, "c"));
}

TEST_CASE("bulkheadd killed during a copy: no complete-looking partial file, acked copies kept",
          "[fault]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "crash-a"});
    s.ok({"qvm-start", "crash-a"});
    auto src = s.root() + "/src";
    REQUIRE(sys::mkdir_p(src));
    REQUIRE(sys::write_file_atomic(src + "/small", std::string(4096, 's')));
    s.ok({"qvm-copy-to-vm", "--without-progress", "crash-a", src + "/small"});
    {
        auto big = sys::open(src + "/big", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        REQUIRE(big);
        std::string chunk(1 << 20, 'b');
        for (int i = 0; i < 256; ++i)
            REQUIRE(sys::write_all(big->get(), chunk));
    }
    auto incoming = s.root() + "/appvms/crash-a/home/user/QubesIncoming/dom0";
    auto copier = spawn_tool(s, {"qvm-copy-to-vm", "--without-progress", "crash-a", src + "/big"});
    auto deadline = Clock::now() + 20s;
    while (!sys::exists(incoming + "/big") &&
           sys::list_dir(incoming).value_or(std::vector<std::string>{}).size() < 2 &&
           Clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    crash_and_restart(s);
    int code = wait_exit(copier);
    INFO("qvm-copy-to-vm exit " << code << "\ndaemon log:\n" << s.daemon_log());
    CHECK(code != -1); // it ended, one way or the other
    auto st = sys::stat(incoming + "/big");
    if (code == 0) {
        REQUIRE(st);
        CHECK(st->st_size == 256 << 20);
    } else if (st) { // a file under the real name is complete, never a prefix
        CHECK(st->st_size == 256 << 20);
    }
    auto small = sys::read_file(incoming + "/small");
    REQUIRE(small);
    CHECK(*small == std::string(4096, 's'));
}

TEST_CASE("an agent killed mid-call from another domain: the caller gets a clean error",
          "[fault]") {
    System s(kPolicy);
    s.make_template();
    auto layer = s.make_layer_dir("etc/qubes-rpc/test.Slow", "#!/bin/sh\necho started\nsleep 30\n");
    REQUIRE(sys::chmod(layer + "/etc/qubes-rpc/test.Slow", 0755));
    s.ok({"qvm-template", "import-layer", "tmpl", layer});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "crash-a"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "crash-b"});
    s.ok({"qvm-start", "crash-a"});
    s.ok({"qvm-start", "crash-b"});
    auto out = s.root() + "/call.out";
    auto call = spawn_tool(
        s, {"qvm-run", "-p", "crash-a", "qrexec-client-vm crash-b test.Slow; echo \"exit=$?\""},
        out);
    auto deadline = Clock::now() + 10s;
    while (sys::read_file(out).value_or("").find("started") == std::string::npos &&
           Clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    REQUIRE(sys::read_file(out).value_or("") == "started\n");
    auto agents = domain_processes("crash-b", s.daemon_pid());
    REQUIRE_FALSE(agents.empty());
    for (auto p : agents) // the agent first (PID 1 of b): b dies with it
        (void)sys::kill(p, SIGKILL);
    auto t0 = Clock::now();
    CHECK(wait_exit(call, 10s) == 0);
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    auto text = sys::read_file(out).value_or("");
    INFO("caller saw: " << text);
    // qrexec-client-vm says what happened and exits non-zero.
    CHECK(text.rfind("started\n", 0) == 0);
    CHECK(text.find("closed before the exit code") != std::string::npos);
    CHECK(text.find("\nexit=") != std::string::npos);
    CHECK(text.find("\nexit=0\n") == std::string::npos);
    CHECK(secs < 5);
    WARN("the caller in a got its error " << secs << " s after b's agent was killed");
    CHECK(s.ok({"qvm-run", "-p", "crash-a", "echo still"}) == "still\n");
}

// The receiving domain's disk fills up in the middle of a copy: the sender gets a clean error
// naming it, the target has no file under the real name and no leftover temporary (the space
// is given back), and the next copy that fits works.
TEST_CASE("the disk filling up during a copy: a clean error, no partial file, space given back",
          "[fault]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "full-a"});
    s.ok({"qvm-start", "full-a"});
    auto src = s.root() + "/src";
    REQUIRE(sys::mkdir_p(src));
    REQUIRE(sys::write_file_atomic(src + "/small", std::string(4096, 's')));
    // The first copy makes QubesIncoming/dom0, owned by the domain's user.
    s.ok({"qvm-copy-to-vm", "--without-progress", "full-a", src + "/small"});
    auto incoming = s.root() + "/appvms/full-a/home/user/QubesIncoming/dom0";
    auto owner = sys::stat(incoming);
    REQUIRE(owner);
    s.ok({"qvm-shutdown", "--wait", "full-a"});

    // A 2 MiB file system in its place (the domain's /home is a recursive bind: it sees it).
    auto opts = "size=2m,mode=0700,uid=" + std::to_string(owner->st_uid) +
                ",gid=" + std::to_string(owner->st_gid);
    REQUIRE(::mount("bulkhead-full", incoming.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                    opts.c_str()) == 0);
    struct Unmount {
        std::string path;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{incoming};
    s.ok({"qvm-start", "full-a"});
    {
        auto big = sys::open(src + "/big", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        REQUIRE(big);
        REQUIRE(sys::write_all(big->get(), std::string(8 << 20, 'b')));
    }
    auto r = s.tool({"qvm-copy-to-vm", "--without-progress", "full-a", src + "/big"});
    INFO("qvm-copy-to-vm exit " << r.code << "\nstderr: " << r.err << "\ndaemon log:\n"
                                << s.daemon_log());
    CHECK(r.code != 0);
    CHECK(r.code != -1);
    CHECK(r.err.find("No space left on device") != std::string::npos);
    CHECK(sys::list_dir(incoming).value_or(std::vector<std::string>{"?"}).empty());

    REQUIRE(sys::write_file_atomic(src + "/fits", std::string(100 << 10, 'f')));
    s.ok({"qvm-copy-to-vm", "--without-progress", "full-a", src + "/fits"});
    CHECK(sys::read_file(incoming + "/fits").value_or("") == std::string(100 << 10, 'f'));
    s.ok({"qvm-shutdown", "--wait", "full-a"});
}
