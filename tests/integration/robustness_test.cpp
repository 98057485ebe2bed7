// One misbehaving domain never stalls or crashes dom0 or another domain: a frozen agent, a
// flood of service calls, an agent killed (idle or mid-call). Each case measures a
// well-behaved domain's `qvm-run -p good 'echo ok'` latency first and checks it stays within
// a bound while `bad` misbehaves, and that bulkheadd keeps serving.
#include "system.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <thread>

using bulkhead::testing::System;
namespace sys = bulkhead::sys;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr char const* kPolicy = "qubes.Echo * @anyvm @anyvm allow\n"
                                "qubes.Hostname * @anyvm @anyvm deny\n";

std::string const kClient = "/usr/lib/bulkhead/qrexec-client-vm";

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// good and bad running, and the latency bound for good's calls: 10× the slowest of three
// baseline calls, but never under 3 s (a loaded 2-core CI machine); a stall is far longer.
struct Fixture {
    System s{kPolicy};
    double bound = 0;

    Fixture() {
        s.make_template();
        s.ok({"qvm-create", "-t", "tmpl", "-l", "green", "good"});
        s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "bad"});
        s.ok({"qvm-start", "good"});
        s.ok({"qvm-start", "bad"});
        double base = 0;
        for (int i = 0; i < 3; ++i)
            base = std::max(base, good_call());
        bound = std::max(10 * base, 3.0);
        WARN("baseline qvm-run into good: " << base << " s; bound " << bound << " s");
    }

    // One `qvm-run -p good 'echo ok'`: checks its output, returns its duration.
    double good_call() {
        auto t0 = Clock::now();
        auto r = s.tool({"qvm-run", "-p", "good", "echo ok"});
        double secs = seconds_since(t0);
        INFO("stderr: " << r.err);
        CHECK(r.code == 0);
        CHECK(r.out == "ok\n");
        return secs;
    }

    // good answers within the bound, and the daemon's admin API serves.
    void good_is_fine() {
        for (int i = 0; i < 3; ++i) {
            double secs = good_call();
            INFO("qvm-run into good took " << secs << " s (bound " << bound << " s)");
            CHECK(secs < bound);
        }
        auto t0 = Clock::now();
        CHECK(s.ok({"qvm-ls", "--raw-list"}).find("good\n") != std::string::npos);
        CHECK(seconds_since(t0) < bound);
        daemon_alive();
    }

    void daemon_alive() {
        auto st = sys::waitpid(s.daemon_pid(), WNOHANG);
        REQUIRE(st);
        INFO("daemon log:\n" << s.daemon_log());
        REQUIRE(st->code == -1);
    }

    // A tool in the background, stdout and stderr to the file `out` (/dev/null if empty).
    pid_t spawn(std::vector<std::string> args, std::string const& out = "") {
        args[0] = s.bin() + "/" + args[0];
        auto null = sys::open("/dev/null", O_RDWR | O_CLOEXEC);
        REQUIRE(null);
        auto sink = out.empty() ? sys::dup(null->get())
                                : sys::open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        REQUIRE(sink);
        sys::SpawnOptions o;
        o.argv = std::move(args);
        o.env = s.env();
        o.fds = {{0, null->get()}, {1, sink->get()}, {2, sink->get()}};
        auto pid = sys::spawn(o);
        REQUIRE(pid);
        return *pid;
    }

    // The exit status of pid, or nullopt when it did not exit within timeout.
    static std::optional<sys::ExitStatus> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
        auto deadline = Clock::now() + timeout;
        for (;;) {
            auto st = sys::waitpid(pid, WNOHANG);
            if (!st)
                return std::nullopt;
            if (st->code != -1)
                return *st;
            if (Clock::now() > deadline)
                return std::nullopt;
            std::this_thread::sleep_for(10ms);
        }
    }

    // The agent (PID 1 in its pid namespace) of a running domain of this test's daemon.
    pid_t agent_pid(std::string const& domain) {
        auto want = "BULKHEAD_DOMAIN=" + domain;
        for (auto const& entry : sys::list_dir("/proc").value_or(std::vector<std::string>{})) {
            if (entry.empty() || !std::all_of(entry.begin(), entry.end(),
                                              [](char c) { return c >= '0' && c <= '9'; }))
                continue;
            auto env = sys::read_file("/proc/" + entry + "/environ");
            if (!env)
                continue;
            bool match = false;
            for (auto const& v : bulkhead::text::split(*env, '\0'))
                match = match || v == want;
            if (!match)
                continue;
            auto status = sys::read_file("/proc/" + entry + "/status").value_or("");
            auto ns = status.find("NSpid:");
            if (ns == std::string::npos)
                continue;
            auto line = status.substr(ns, status.find('\n', ns) - ns);
            if (line.size() > 2 && line.substr(line.size() - 2) == "\t1" &&
                bulkhead::testing::descends_from(std::stoi(entry), s.daemon_pid()))
                return std::stoi(entry);
        }
        return -1;
    }

    // Waits until qvm-ls shows domain halted.
    bool halted_within(std::string const& domain, std::chrono::milliseconds timeout) {
        auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            if (s.ok({"qvm-ls", "--raw-list", "--halted"}).find(domain + "\n") != std::string::npos)
                return true;
            std::this_thread::sleep_for(50ms);
        }
        return false;
    }

    // The daemon's threads and open descriptors.
    struct Usage {
        int threads = 0;
        int fds = 0;
    };
    Usage usage() {
        Usage u;
        auto pid = std::to_string(s.daemon_pid());
        auto status = sys::read_file("/proc/" + pid + "/status").value_or("");
        auto t = status.find("Threads:");
        if (t != std::string::npos)
            u.threads = std::stoi(status.substr(t + 8));
        u.fds = static_cast<int>(
            sys::list_dir("/proc/" + pid + "/fd").value_or(std::vector<std::string>{}).size());
        return u;
    }

    // The daemon's threads and descriptors come back near base (a few for the loop's
    // transient work) within timeout.
    void usage_returns_to(Usage base, std::chrono::milliseconds timeout) {
        auto deadline = Clock::now() + timeout;
        Usage now;
        for (;;) {
            now = usage();
            if (now.threads <= base.threads + 2 && now.fds <= base.fds + 4)
                break;
            if (Clock::now() > deadline)
                break;
            std::this_thread::sleep_for(100ms);
        }
        INFO("threads " << base.threads << " -> " << now.threads << ", fds " << base.fds << " -> "
                        << now.fds);
        CHECK(now.threads <= base.threads + 2);
        CHECK(now.fds <= base.fds + 4);
    }
};

} // namespace

TEST_CASE("a frozen agent stalls only its own calls", "[integration][robust]") {
    Fixture f;
    auto base = f.usage();
    pid_t agent = f.agent_pid("bad");
    REQUIRE(agent > 0);
    REQUIRE(sys::kill(agent, SIGSTOP));
    std::vector<pid_t> hung;
    for (int i = 0; i < 5; ++i)
        hung.push_back(f.spawn({"qvm-run", "-p", "bad", "echo hi"}));
    std::this_thread::sleep_for(300ms);
    for (auto pid : hung)
        CHECK_FALSE(Fixture::wait_for(pid, 0ms)); // stuck, as they should be
    f.good_is_fine();
    for (auto pid : hung) {
        REQUIRE(sys::kill(pid, SIGKILL));
        CHECK(Fixture::wait_for(pid, 5s));
    }
    REQUIRE(sys::kill(agent, SIGCONT));
    // The thawed agent serves again; the abandoned calls end (their handlers give up on the
    // vanished callers) and the daemon lets go of everything they held.
    auto t0 = Clock::now();
    CHECK(f.s.ok({"qvm-run", "-p", "bad", "echo back"}) == "back\n");
    CHECK(seconds_since(t0) < f.bound);
    f.good_is_fine();
    f.usage_returns_to(base, 20s);
}

TEST_CASE("a paused domain: calls into it fail or wait, others go on", "[integration][robust]") {
    Fixture f;
    f.s.ok({"qvm-pause", "bad"});
    auto call = f.spawn({"qvm-run", "-p", "bad", "echo hi"});
    f.good_is_fine();
    f.s.ok({"qvm-unpause", "bad"});
    // Either refused at once (paused) or served after the unpause: never left hanging.
    auto st = Fixture::wait_for(call, 20s);
    CHECK(st);
    if (!st)
        (void)sys::kill(call, SIGKILL), (void)sys::waitpid(call);
    CHECK(f.s.ok({"qvm-run", "-p", "bad", "echo back"}) == "back\n");
    f.daemon_alive();
}

TEST_CASE("a flood of service calls from a domain", "[integration][robust]") {
    Fixture f;
    auto base = f.usage();
    // 400 allowed calls into good and 200 denied ones, all at once, from bad.
    auto flood = "i=0; while [ $i -lt 400 ]; do (echo x | " + kClient +
                 " good qubes.Echo 2>/dev/null) & i=$((i+1)); done; "
                 "j=0; while [ $j -lt 200 ]; do " +
                 kClient + " good qubes.Hostname >/dev/null 2>&1 & j=$((j+1)); done; wait";
    auto out = f.s.root() + "/flood.out";
    auto t0 = Clock::now();
    auto flooder = f.spawn({"qvm-run", "-p", "bad", "(" + flood + ") | grep -c x"}, out);
    std::this_thread::sleep_for(200ms);
    f.good_is_fine();
    auto st = Fixture::wait_for(flooder, 120s);
    REQUIRE(st);
    WARN("600 calls from bad in " << seconds_since(t0) << " s");
    auto answered = sys::read_file(out).value_or("");
    INFO("daemon log:\n" << f.s.daemon_log().substr(0, 4000));
    CHECK(answered == "400\n");
    f.good_is_fine();
    f.usage_returns_to(base, 20s);
}

TEST_CASE("an agent killed while idle: the domain halts, others go on", "[integration][robust]") {
    Fixture f;
    pid_t agent = f.agent_pid("bad");
    REQUIRE(agent > 0);
    REQUIRE(sys::kill(agent, SIGKILL));
    CHECK(f.halted_within("bad", 10s));
    f.good_is_fine();
    // It starts again on demand.
    CHECK(f.s.ok({"qvm-run", "-p", "bad", "echo back"}) == "back\n");
}

TEST_CASE("an agent killed mid-call: the call fails promptly", "[integration][robust]") {
    Fixture f;
    auto base = f.usage();
    auto out = f.s.root() + "/call.out";
    auto call = f.spawn({"qvm-run", "-p", "bad", "echo started; sleep 30"}, out);
    auto deadline = Clock::now() + 10s;
    while (sys::read_file(out).value_or("").find("started") == std::string::npos &&
           Clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    REQUIRE(sys::read_file(out).value_or("") == "started\n");
    pid_t agent = f.agent_pid("bad");
    REQUIRE(agent > 0);
    REQUIRE(sys::kill(agent, SIGKILL));
    auto t0 = Clock::now();
    auto st = Fixture::wait_for(call, 5s);
    INFO("daemon log:\n" << f.s.daemon_log());
    CHECK(st);
    if (st)
        CHECK(st->code != 0);
    else
        (void)sys::kill(call, SIGKILL), (void)sys::waitpid(call);
    WARN("the call ended " << seconds_since(t0) << " s after the agent was killed");
    CHECK(f.halted_within("bad", 10s));
    f.good_is_fine();
    f.usage_returns_to(base, 20s);
}

TEST_CASE("an agent killed before it took the call: the call fails promptly",
          "[integration][robust]") {
    Fixture f;
    pid_t agent = f.agent_pid("bad");
    REQUIRE(agent > 0);
    REQUIRE(sys::kill(agent, SIGSTOP)); // the call is sent, never taken
    auto call = f.spawn({"qvm-run", "-p", "bad", "echo hi"});
    std::this_thread::sleep_for(300ms);
    REQUIRE_FALSE(Fixture::wait_for(call, 0ms));
    REQUIRE(sys::kill(agent, SIGKILL));
    auto t0 = Clock::now();
    auto st = Fixture::wait_for(call, 5s);
    INFO("daemon log:\n" << f.s.daemon_log());
    CHECK(st);
    if (st)
        CHECK(st->code != 0);
    else
        (void)sys::kill(call, SIGKILL), (void)sys::waitpid(call);
    WARN("the call ended " << seconds_since(t0) << " s after the agent was killed");
    CHECK(f.halted_within("bad", 10s));
    f.good_is_fine();
}

TEST_CASE("qvm-run filters terminal control characters on request", "[integration][robust]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "green", "good"});
    auto cmd = "printf '\\033[31mred\\007'";
    CHECK(s.ok({"qvm-run", "-p", "--filter-escape-chars", "good", cmd}) == "_[31mred_");
    CHECK(s.ok({"qvm-run", "-p", "--no-filter-escape-chars", "good", cmd}) == "\033[31mred\007");
    // stderr is filtered too
    CHECK(
        s.tool({"qvm-run", "-p", "--filter-escape-chars", "good", cmd + std::string(" >&2")}).err ==
        "_[31mred_");
}
