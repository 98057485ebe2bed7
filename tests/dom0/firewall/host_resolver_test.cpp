// HostResolver: a slow lookup costs the caller at most the deadline (and counts as
// unresolvable), its late answer is cached; answers expire; lookups in flight are capped.
#include <bulkhead/dom0/firewall/host_resolver.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::dom0::firewall;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A lookup that takes `delay` and answers 192.0.2.<n> (n = calls so far).
struct SlowLookup {
    std::chrono::milliseconds delay;
    std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
    Resolver fn() {
        return [d = delay, c = calls](std::string const& host) -> Result<std::vector<std::string>> {
            std::this_thread::sleep_for(d);
            int n = ++*c;
            if (host == "nx.example")
                return unexpected(Errc::NotFound, "Name or service not known");
            return std::vector<std::string>{"192.0.2." + std::to_string(n)};
        };
    }
};

long ms_since(Clock::time_point t) {
    return long(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

} // namespace

TEST_CASE("host resolver: a dead DNS server costs the deadline, not its timeout", "[firewall]") {
    SlowLookup slow{600ms};
    HostResolver r({.deadline = 150ms, .ttl = 60s, .negative_ttl = 10s, .max_pending = 8},
                   slow.fn());
    auto t = Clock::now();
    auto first = r.resolve("slow.example");
    CHECK(ms_since(t) < 450);
    REQUIRE_FALSE(first.has_value());
    CHECK(first.error().code() == Errc::Timeout);
    std::this_thread::sleep_for(700ms); // the lookup ends in the background
    t = Clock::now();
    auto later = r.resolve("slow.example");
    CHECK(ms_since(t) < 50); // cached
    REQUIRE(later.has_value());
    CHECK(*later == std::vector<std::string>{"192.0.2.1"});
    CHECK(*slow.calls == 1);
}

TEST_CASE("host resolver: answers and failures are cached for their ttl", "[firewall]") {
    SlowLookup quick{0ms};
    HostResolver r({.deadline = 1000ms, .ttl = 1s, .negative_ttl = 1s, .max_pending = 8},
                   quick.fn());
    CHECK(r.resolve("a.example").value() == std::vector<std::string>{"192.0.2.1"});
    CHECK(r.resolve("a.example").value() == std::vector<std::string>{"192.0.2.1"});
    CHECK(r.resolve("nx.example").error().code() == Errc::NotFound);
    CHECK(r.resolve("nx.example").error().code() == Errc::NotFound);
    CHECK(*quick.calls == 2);
    std::this_thread::sleep_for(1100ms);
    CHECK(r.resolve("a.example").value() == std::vector<std::string>{"192.0.2.3"}); // asked again
}

TEST_CASE("host resolver: lookups in flight are capped", "[firewall]") {
    SlowLookup slow{400ms};
    HostResolver r({.deadline = 20ms, .ttl = 60s, .negative_ttl = 10s, .max_pending = 2},
                   slow.fn());
    CHECK(r.resolve("h1.example").error().code() == Errc::Timeout);
    CHECK(r.resolve("h2.example").error().code() == Errc::Timeout);
    auto t = Clock::now();
    CHECK(r.resolve("h3.example").error().code() == Errc::Busy); // at once
    CHECK(ms_since(t) < 100);
    std::this_thread::sleep_for(500ms);
    CHECK(r.resolve("h3.example").error().code() == Errc::Timeout); // room again: it started
    std::this_thread::sleep_for(500ms);                             // (let it end)
}

TEST_CASE("host resolver: the system resolver answers for localhost", "[firewall]") {
    HostResolver r({});
    auto a = r.resolve("localhost");
    INFO((a ? "" : a.error().message()));
    REQUIRE(a.has_value());
    CHECK(std::find(a->begin(), a->end(), "127.0.0.1") != a->end());
}
