// Preloaded disposables (Qubes 4.3's preload-dispvm-max) end to end: the pool fills with
// paused disposables, a request takes one (faster than a cold one), the pool refills, a
// used one leaves nothing behind, and changing or deleting the feature resizes the pool.
#include "system.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

using bulkhead::testing::System;
namespace sys = bulkhead::sys;

namespace {

constexpr char const* kPolicy = "qubes.Echo * @anyvm @dispvm allow\n";
std::string const kClient = "/usr/lib/bulkhead/qrexec-client-vm";

// name → "CLASS STATE" of every disposable (qvm-ls --raw-data).
std::map<std::string, std::string> disposables(System& s) {
    std::map<std::string, std::string> out;
    auto data = s.ok({"qvm-ls", "--raw-data", "--fields", "name,class,state"});
    for (auto const& line : bulkhead::text::split(data, '\n')) {
        auto cols = bulkhead::text::split(line, '|');
        if (cols.size() == 3 && cols[0].rfind("disp", 0) == 0)
            out[std::string(cols[0])] = std::string(cols[1]) + " " + std::string(cols[2]);
    }
    return out;
}

std::set<std::string> paused_disposables(System& s) {
    std::set<std::string> out;
    for (auto const& [name, what] : disposables(s))
        if (what == "DispVM Paused")
            out.insert(name);
    return out;
}

// Waits (up to 60 s) until exactly n paused disposables exist, none other; returns them.
std::set<std::string> wait_for_pool(System& s, size_t n) {
    std::map<std::string, std::string> all;
    for (int i = 0; i < 600; ++i) {
        all = disposables(s);
        auto paused = paused_disposables(s);
        if (paused.size() == n && all.size() == n)
            return paused;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::string seen;
    for (auto const& [name, what] : all)
        seen += name + "=" + what + " ";
    INFO("disposables: " << seen << "\ndaemon log:\n" << s.daemon_log());
    FAIL("the pool did not reach " << n << " paused disposables");
    return {};
}

double seconds_of(auto fn) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void check_gone(System& s, std::string const& name) {
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
        gone = !disposables(s).count(name);
        if (!gone)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(gone);
    for (auto dir : {"/appvms", "/volatile", "/roots", "/run/vchan"})
        CHECK_FALSE(sys::exists(s.root() + dir + "/" + name));
}

} // namespace

TEST_CASE("preloaded disposables: fill, take, refill, resize", "[integration][dispvm]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "-P", "template_for_dispvms=True", "dvm"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "-P", "template_for_dispvms=True", "colddvm"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "-P", "default_dispvm=dvm", "untrusted"});

    // Cold disposables, for comparison (colddvm has no pool): the best of three.
    double cold = 1e9;
    for (int i = 0; i < 3; ++i) {
        std::string h;
        cold = std::min(cold, seconds_of([&] {
                            h = s.ok({"qvm-run", "-p", "--dispvm=colddvm", "hostname"});
                        }));
        CHECK(h.rfind("disp", 0) == 0);
    }

    s.ok({"qvm-features", "dvm", "preload-dispvm-max", "2"});
    auto pool = wait_for_pool(s, 2);
    for (auto const& n : pool)
        CHECK(s.ok({"qvm-prefs", n, "template"}) == "dvm\n");

    std::string host;
    double preloaded = seconds_of([&] {
        host = s.ok({"qvm-run", "-p", "--dispvm=dvm", "hostname"});
    });
    host = std::string(bulkhead::text::trim(host));
    CHECK(pool.count(host) == 1);

    // The pool refills with a new one; the used one leaves nothing behind.
    auto refilled = wait_for_pool(s, 2);
    CHECK(refilled.count(host) == 0);
    check_gone(s, host);

    // Two more preloaded runs, each from a full pool: the best of three.
    for (int i = 0; i < 2; ++i) {
        preloaded = std::min(preloaded, seconds_of([&] {
                                 s.ok({"qvm-run", "-p", "--dispvm=dvm", "true"});
                             }));
        refilled = wait_for_pool(s, 2);
    }
    WARN("disposable qvm-run, best of 3: cold " << cold * 1e3 << " ms, preloaded "
                                                << preloaded * 1e3 << " ms");
    // Timing is asserted strictly only on an idle machine (a loaded one skews both ways).
    double load = std::strtod(sys::read_file("/proc/loadavg").value_or("0").c_str(), nullptr);
    if (load < double(std::max(1u, std::thread::hardware_concurrency())))
        CHECK(preloaded < cold);
    else
        CHECK(preloaded < cold * 1.5);

    // Through policy: @dispvm → untrusted's default_dispvm (dvm) → a preloaded one.
    CHECK(s.ok({"qvm-run", "-p", "untrusted", "echo x | " + kClient + " @dispvm qubes.Echo"}) ==
          "x\n");
    auto after_call = wait_for_pool(s, 2);
    size_t kept = 0;
    for (auto const& n : refilled)
        kept += after_call.count(n);
    CHECK(kept == 1); // one of the two was taken by the call
    CHECK(s.daemon_log().find("preloaded disposable taken") != std::string::npos);

    // Resizing: down to 1, up to 3, feature deleted, then 0.
    s.ok({"qvm-features", "dvm", "preload-dispvm-max", "1"});
    wait_for_pool(s, 1);
    s.ok({"qvm-features", "dvm", "preload-dispvm-max", "3"});
    wait_for_pool(s, 3);
    s.ok({"qvm-features", "--unset", "dvm", "preload-dispvm-max"});
    wait_for_pool(s, 0);
    s.ok({"qvm-features", "dvm", "preload-dispvm-max", "1"});
    auto last = wait_for_pool(s, 1);
    s.ok({"qvm-features", "dvm", "preload-dispvm-max", "0"});
    wait_for_pool(s, 0);
    for (auto const& n : last)
        check_gone(s, n);
    // Without a pool, requests are cold again and still work.
    CHECK(s.ok({"qvm-run", "-p", "--dispvm=dvm", "echo ok"}) == "ok\n");
}

TEST_CASE("preloaded disposables are destroyed when the daemon stops", "[integration][dispvm]") {
    System s(kPolicy);
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "-P", "template_for_dispvms=True", "dvm"});
    s.ok({"qvm-features", "dvm", "preload-dispvm-max", "2"});
    auto pool = wait_for_pool(s, 2);
    s.restart_daemon();
    // The feature stays: a fresh pool of two new ones; the old ones left nothing.
    auto fresh = wait_for_pool(s, 2);
    for (auto const& n : pool)
        if (!fresh.count(n))
            for (auto dir : {"/appvms", "/volatile", "/roots", "/run/vchan"})
                CHECK_FALSE(sys::exists(s.root() + dir + "/" + n));
    CHECK(s.ok({"qvm-run", "-p", "--dispvm=dvm", "echo ok"}) == "ok\n");
}
