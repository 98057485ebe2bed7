// System benchmarks on the sandbox backend, each beside its baseline in the same run:
//   qvm-run -p DOMAIN true (p50/p99)  vs  nsenter into the same domain's namespaces + true,
//                                      and unshare of fresh namespaces + true;
//   qvm-run --dispvm true (cold)      vs  the same unshare;
//   qvm-run --dispvm true (preloaded: preload-dispvm-max=1, taken from the pool);
//   start of an app domain            vs  the same unshare;
//   bulkheadd RSS with 1, 10 and 50 running domains.
#include "system.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

using bulkhead::testing::System;
namespace sys = bulkhead::sys;

namespace {

System& system_under_test() {
    static std::unique_ptr<System> s = [] {
        auto sys = std::make_unique<System>("");
        sys->make_template();
        sys->ok({"qvm-create", "-t", "tmpl", "-l", "blue", "work"});
        sys->ok(
            {"qvm-create", "-t", "tmpl", "-l", "red", "-P", "template_for_dispvms=True", "dvm"});
        sys->ok({"qvm-start", "work"});
        return sys;
    }();
    return *s;
}

double seconds_of(auto fn) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void report(benchmark::State& state, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    if (v.empty())
        return;
    state.counters["p50_ms"] = v[v.size() / 2] * 1e3;
    state.counters["p99_ms"] = v[std::min(v.size() - 1, v.size() * 99 / 100)] * 1e3;
}

void must_succeed(std::vector<std::string> const& argv) {
    auto r = sys::run(argv);
    if (!r || r->status.code != 0)
        throw std::runtime_error("failed: " + argv[0] + " " + (r ? r->err : r.error().message()));
}

// The PID (in dom0) of a running domain's init: the process whose environment names it.
int init_pid_of(std::string const& domain) {
    int best = -1;
    for (auto const& n : sys::list_dir("/proc").value_or(std::vector<std::string>{})) {
        auto pid = bulkhead::text::parse_u64(n);
        if (!pid)
            continue;
        auto env = sys::read_file("/proc/" + n + "/environ");
        if (env &&
            env->find(std::string("BULKHEAD_DOMAIN=") + domain + '\0') != std::string::npos &&
            (best < 0 || int(*pid) < best))
            best = int(*pid);
    }
    return best;
}

uint64_t rss_kib(int pid) {
    auto status = sys::read_file("/proc/" + std::to_string(pid) + "/status").value_or("");
    auto at = status.find("VmRSS:");
    if (at == std::string::npos)
        return 0;
    return std::strtoull(status.c_str() + at + 6, nullptr, 10);
}

std::vector<std::string> const kUnshare = {"unshare", "--mount", "--pid",  "--net",
                                           "--uts",   "--ipc",   "--fork", "true"};

void BM_QvmRunTrue(benchmark::State& state) {
    auto& s = system_under_test();
    std::vector<double> lat;
    for (auto _ : state) {
        double t = seconds_of([&] { s.ok({"qvm-run", "-p", "work", "true"}); });
        state.SetIterationTime(t);
        lat.push_back(t);
    }
    report(state, lat);
}

void BM_Baseline_NsenterTrue(benchmark::State& state) {
    system_under_test();
    int pid = init_pid_of("work");
    if (pid < 0) {
        state.SkipWithError("no init process found for work");
        return;
    }
    std::vector<std::string> argv = {"nsenter", "-t",  std::to_string(pid), "-m", "-u", "-i", "-n",
                                     "-p",      "true"};
    std::vector<double> lat;
    for (auto _ : state) {
        double t = seconds_of([&] { must_succeed(argv); });
        state.SetIterationTime(t);
        lat.push_back(t);
    }
    report(state, lat);
}

void BM_Baseline_UnshareTrue(benchmark::State& state) {
    std::vector<double> lat;
    for (auto _ : state) {
        double t = seconds_of([&] { must_succeed(kUnshare); });
        state.SetIterationTime(t);
        lat.push_back(t);
    }
    report(state, lat);
}

void BM_DispvmTrueCold(benchmark::State& state) {
    auto& s = system_under_test();
    std::vector<double> lat;
    for (auto _ : state) {
        double t = seconds_of([&] { s.ok({"qvm-run", "-p", "--dispvm=dvm", "true"}); });
        state.SetIterationTime(t);
        lat.push_back(t);
    }
    report(state, lat);
}

// Waits until the only disposables are `n` paused (preloaded) ones.
void wait_for_preloaded(System& s, size_t n) {
    for (int i = 0; i < 1200; ++i) {
        auto data = s.ok({"qvm-ls", "--raw-data", "--fields", "name,class,state"});
        size_t paused = 0, other = 0;
        for (auto const& line : bulkhead::text::split(data, '\n')) {
            auto cols = bulkhead::text::split(line, '|');
            if (cols.size() == 3 && cols[1] == "DispVM")
                ++(cols[2] == "Paused" ? paused : other);
        }
        if (paused == n && other == 0)
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("the preload pool did not reach " + std::to_string(n));
}

// qvm-run --dispvm true taking a preloaded disposable (preload-dispvm-max=1); each
// iteration starts once the pool has refilled, so no refill runs beside the measurement.
void BM_DispvmTruePreloaded(benchmark::State& state) {
    auto& s = system_under_test();
    if (s.tool({"qvm-check", "dvmpre"}).code != 0)
        s.ok(
            {"qvm-create", "-t", "tmpl", "-l", "red", "-P", "template_for_dispvms=True", "dvmpre"});
    s.ok({"qvm-features", "dvmpre", "preload-dispvm-max", "1"});
    std::vector<double> lat;
    for (auto _ : state) {
        wait_for_preloaded(s, 1);
        double t = seconds_of([&] { s.ok({"qvm-run", "-p", "--dispvm=dvmpre", "true"}); });
        state.SetIterationTime(t);
        lat.push_back(t);
    }
    s.ok({"qvm-features", "dvmpre", "preload-dispvm-max", "0"});
    wait_for_preloaded(s, 0);
    report(state, lat);
}

void BM_StartAppDomain(benchmark::State& state) {
    auto& s = system_under_test();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "green", "startbench"});
    std::vector<double> lat;
    for (auto _ : state) {
        double t = seconds_of([&] { s.ok({"qvm-start", "startbench"}); });
        state.SetIterationTime(t);
        lat.push_back(t);
        s.ok({"qvm-shutdown", "--wait", "startbench"});
    }
    report(state, lat);
}

void BM_DaemonRss(benchmark::State& state) {
    auto& s = system_under_test();
    int n = int(state.range(0)); // running domains, work included
    for (int i = 0; i < n - 1; ++i) {
        auto name = "rss" + std::to_string(i);
        if (s.tool({"qvm-check", name}).code != 0)
            s.ok({"qvm-create", "-t", "tmpl", "-l", "gray", name});
        s.ok({"qvm-start", name});
    }
    for (auto _ : state)
        state.SetIterationTime(seconds_of([&] { s.ok({"qvm-ls"}); }));
    state.counters["domains_running"] = n;
    state.counters["rss_MiB"] = double(rss_kib(s.daemon_pid())) / 1024.0;
}

} // namespace

BENCHMARK(BM_QvmRunTrue)->Iterations(200)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Baseline_NsenterTrue)->Iterations(200)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Baseline_UnshareTrue)->Iterations(200)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DispvmTrueCold)->Iterations(30)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DispvmTruePreloaded)->Iterations(30)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StartAppDomain)->Iterations(30)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DaemonRss)
    ->Arg(1)
    ->Arg(10)
    ->Arg(50)
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
