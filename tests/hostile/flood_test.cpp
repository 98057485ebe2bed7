// A hostile agent sending 10,000 service calls at once on its control vchan, as fast as the
// socket takes them: every one is answered (refused by policy, or refused past the per-domain
// cap of calls in flight), good's qvm-run stays within the bound meanwhile, and the daemon's
// threads and descriptors come back once the calls are over.
#include "fixture.h"

#include <bulkhead/base/sys/fd.h>

#include <catch2/catch.hpp>

#include <functional>
#include <set>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::hostile;
namespace q = bulkhead::rpc::qrexec;

namespace {

using Clock = std::chrono::steady_clock;

struct Usage {
    int threads = 0;
    int fds = 0;
};

Usage usage(pid_t pid) {
    Usage u;
    auto p = std::to_string(pid);
    auto status = sys::read_file("/proc/" + p + "/status").value_or("");
    auto t = status.find("Threads:");
    if (t != std::string::npos)
        u.threads = std::stoi(status.substr(t + 8));
    u.fds = int(sys::list_dir("/proc/" + p + "/fd").value_or(std::vector<std::string>{}).size());
    return u;
}

// Threads and descriptors back near base within timeout.
void usage_returns_to(pid_t pid, Usage base, std::chrono::seconds timeout) {
    auto deadline = Clock::now() + timeout;
    Usage now;
    do {
        now = usage(pid);
        if (now.threads <= base.threads + 2 && now.fds <= base.fds + 4)
            break;
        std::this_thread::sleep_for(100ms);
    } while (Clock::now() < deadline);
    INFO("threads " << base.threads << " -> " << now.threads << ", fds " << base.fds << " -> "
                    << now.fds);
    CHECK(now.threads <= base.threads + 2);
    CHECK(now.fds <= base.fds + 4);
}

struct Answers {
    std::set<std::string> refused;
    std::set<std::string> connected;
    int other = 0;
    bool closed = false;
};

// Sends n calls of service at once (on a thread) and collects the answers until `enough`
// (or 60 s).
Answers flood(HostileAgent& bad, int n, std::string const& service, double& secs,
              std::function<bool(Answers const&)> const& enough) {
    std::string burst;
    for (int i = 0; i < n; ++i)
        burst += trigger3("good", "f" + std::to_string(i), service);
    auto t0 = Clock::now();
    bool sent = false;
    std::thread sender([&] { sent = bad.try_send(burst); });
    Answers a;
    auto deadline = Clock::now() + 60s;
    while (!enough(a) && Clock::now() < deadline) {
        auto r = bad.next(1s);
        if (r.kind == Reply::Kind::Closed) {
            a.closed = true;
            break;
        }
        if (r.kind != Reply::Kind::Message)
            continue;
        if (auto const* ref = std::get_if<q::ServiceRefused>(&*r.message))
            a.refused.insert(ref->ident);
        else if (auto const* c = std::get_if<q::ServiceConnect>(&*r.message))
            a.connected.insert(c->ident);
        else
            ++a.other;
    }
    secs = std::chrono::duration<double>(Clock::now() - t0).count();
    sender.join();
    CHECK(sent);
    return a;
}

} // namespace

TEST_CASE("hostile agent: ten thousand service calls at once", "[hostile]") {
    Fixture f;
    auto base = usage(f.s.daemon_pid());
    int const n = 10000;
    SECTION("denied by policy: each refused once, by its own ident") {
        double secs = 0;
        Answers a;
        auto during = f.good_during([&] {
            a = flood(f.bad, n, "test.Denied", secs, [&](Answers const& x) {
                return int(x.refused.size() + x.connected.size()) + x.other >= n;
            });
        });
        CHECK_FALSE(a.closed);
        CHECK(a.refused.size() == size_t(n));
        CHECK(a.connected.empty());
        CHECK(a.other == 0);
        WARN(n << " denied calls answered in " << secs << " s (" << n / secs
               << "/s); good's qvm-run p99 " << p99(during) << " s over " << during.size()
               << " calls (before: " << f.base_p99 << " s, bound " << f.bound << " s)");
        usage_returns_to(f.s.daemon_pid(), base, 20s);
    }
    SECTION("allowed, never connected: 2,048 in flight at most, the rest refused at once") {
        // The hostile domain never opens a data endpoint, so each admitted call waits for it
        // (10 s) and ends. A domain's calls share 16 workers; up to 2,048 are admitted
        // (running or waiting for a worker), the others are refused at once.
        double secs = 0;
        Answers a;
        auto during = f.good_during([&] {
            a = flood(f.bad, n, "test.Echo", secs, [&](Answers const& x) {
                return x.refused.size() >= size_t(n - 2048) && !x.connected.empty();
            });
            std::this_thread::sleep_for(3s); // while the admitted calls wait
        });
        CHECK_FALSE(a.closed);
        CHECK(a.refused.size() == size_t(n - 2048));
        CHECK(a.connected.size() >= 1);
        CHECK(a.connected.size() <= 16);
        WARN(a.refused.size() << " calls refused in " << secs << " s, " << a.connected.size()
                              << " running; good's qvm-run p99 " << p99(during) << " s over "
                              << during.size() << " calls (before: " << f.base_p99 << " s, bound "
                              << f.bound << " s)");
        // Killing the domain drops its waiting calls; the running ones end at their timeout.
        f.s.ok({"qvm-kill", "hostile"});
        CHECK(f.bad.closed_within(5s));
        usage_returns_to(f.s.daemon_pid(), base, 30s);
        f.restart_hostile();
        f.bad.send(trigger3("good", "after", "test.Denied"));
        CHECK(f.bad.refused() == "after");
    }
    f.good_is_fine();
    f.nothing_written_outside();
}
