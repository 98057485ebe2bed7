// Load: 10 domains, each running 100 callers that call the next domain's test.Echo back to
// back (qrexec-client-vm, through the real bulkheadd), 1,000 calls in flight for 60 s
// (BULKHEAD_LOAD_SECONDS). Every call must succeed; bulkheadd's RSS is sampled every second
// and must stay flat (the last quarter's mean within 10% + 2 MiB of the second quarter's);
// the curve, the throughput and the daemon's thread count are reported.
#include "system.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <fcntl.h>
#include <numeric>
#include <sstream>
#include <thread>

using bulkhead::testing::System;
namespace sys = bulkhead::sys;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr int kDomains = 10;
constexpr int kCallersPerDomain = 100;

long status_field(pid_t pid, std::string const& field) {
    auto status = sys::read_file("/proc/" + std::to_string(pid) + "/status").value_or("");
    auto at = status.find(field + ":");
    return at == std::string::npos ? -1 : std::stol(status.substr(at + field.size() + 1));
}

double mean(std::vector<long> const& v, size_t from, size_t to) {
    to = std::min(to, v.size());
    if (from >= to)
        return 0;
    return double(std::accumulate(v.begin() + long(from), v.begin() + long(to), 0L)) /
           double(to - from);
}

// Runs in a domain: kCallersPerDomain loops calling `target` until `secs` of uptime passed;
// each prints "<ok> <failed>".
std::string caller_script(std::string const& target, int secs) {
    std::ostringstream s;
    s << "read up _ < /proc/uptime; end=$(( ${up%.*} + " << secs << " )); "
      << "i=0; while [ $i -lt " << kCallersPerDomain << " ]; do "
      << "( ok=0; bad=0; while :; do read up _ < /proc/uptime; [ ${up%.*} -lt $end ] || break; "
      << "r=$(echo x | /usr/lib/bulkhead/qrexec-client-vm " << target << " test.Echo 2>&1); "
      << "if [ \"$r\" = x ]; then ok=$((ok+1)); else bad=$((bad+1)); echo \"fail: $r\" >&2; fi; "
      << "done; echo \"$ok $bad\" ) & i=$((i+1)); done; wait";
    return s.str();
}

} // namespace

TEST_CASE("load: 1,000 concurrent calls over 10 domains, zero failures, flat memory", "[load]") {
    int const secs = std::stoi(sys::getenv_or("BULKHEAD_LOAD_SECONDS", "60"));
    System s("test.Echo * @anyvm @anyvm allow\n");
    s.make_template();
    auto layer = s.make_layer_dir("etc/qubes-rpc/test.Echo", "#!/bin/sh\nexec cat\n");
    REQUIRE(sys::chmod(layer + "/etc/qubes-rpc/test.Echo", 0755));
    s.ok({"qvm-template", "import-layer", "tmpl", layer});
    std::vector<std::string> names;
    for (int i = 0; i < kDomains; ++i) {
        names.push_back("load" + std::to_string(i));
        s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", names.back()});
        s.ok({"qvm-prefs", names.back(), "memory", "1000"});
        s.ok({"qvm-start", names.back()});
    }
    pid_t daemon = s.daemon_pid();
    std::vector<long> rss_kib;
    std::vector<long> threads;
    std::atomic<bool> done{false};
    std::thread sampler([&] {
        auto next = Clock::now();
        while (!done) {
            rss_kib.push_back(status_field(daemon, "VmRSS"));
            threads.push_back(status_field(daemon, "Threads"));
            next += 1s;
            std::this_thread::sleep_until(next);
        }
    });
    // One qvm-run per domain starts its callers; each prints a line per caller.
    std::vector<pid_t> runs;
    auto null = sys::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(null);
    auto t0 = Clock::now();
    for (int i = 0; i < kDomains; ++i) {
        auto out = sys::open(s.root() + "/load" + std::to_string(i) + ".out",
                             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        auto err = sys::open(s.root() + "/load" + std::to_string(i) + ".err",
                             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        REQUIRE(out);
        REQUIRE(err);
        sys::SpawnOptions o;
        o.argv = {s.bin() + "/qvm-run", "-p", names[size_t(i)],
                  caller_script(names[size_t(i + 1) % kDomains], secs)};
        o.env = s.env();
        o.fds = {{0, null->get()}, {1, out->get()}, {2, err->get()}};
        auto pid = sys::spawn(o);
        REQUIRE(pid);
        runs.push_back(*pid);
    }
    std::vector<int> codes;
    for (auto pid : runs) {
        auto st = sys::waitpid(pid);
        REQUIRE(st);
        codes.push_back(st->code);
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    done = true;
    sampler.join();

    long ok = 0, failed = 0, lines = 0;
    std::string first_error;
    for (int i = 0; i < kDomains; ++i) {
        INFO("domain " << names[size_t(i)]);
        CHECK(codes[size_t(i)] == 0);
        auto out = sys::read_file(s.root() + "/load" + std::to_string(i) + ".out").value_or("");
        for (auto const& line : bulkhead::text::split(out, '\n')) {
            if (line.empty())
                continue;
            std::istringstream in(line);
            long a = 0, b = 0;
            in >> a >> b;
            ok += a;
            failed += b;
            ++lines;
        }
        auto err = sys::read_file(s.root() + "/load" + std::to_string(i) + ".err").value_or("");
        if (first_error.empty() && !err.empty())
            first_error = err.substr(0, 500);
    }
    std::ostringstream curve;
    for (size_t i = 0; i < rss_kib.size(); ++i)
        curve << (i ? " " : "") << rss_kib[i] / 1024.0;
    auto max_threads = threads.empty() ? 0 : *std::max_element(threads.begin(), threads.end());
    size_t n = rss_kib.size();
    double early = mean(rss_kib, n / 4, n / 2);
    double late = mean(rss_kib, 3 * n / 4, n);
    WARN(ok << " calls in " << elapsed << " s (" << ok / elapsed << " calls/s), " << failed
            << " failed, " << lines << " callers reported\nbulkheadd RSS MiB, one sample a second: "
            << curve.str() << "\nRSS mean 2nd quarter " << early / 1024 << " MiB, last quarter "
            << late / 1024 << " MiB; threads max " << max_threads);
    INFO("first error: " << first_error);
    CHECK(lines == kDomains * kCallersPerDomain);
    CHECK(failed == 0);
    CHECK(ok > 0);
    CHECK(late <= early * 1.10 + 2048);
    for (auto const& name : names) // everyone still answers
        CHECK(s.ok({"qvm-run", "-p", name, "echo up"}) == "up\n");
}
