// File copy and open-in-disposable on the sandbox backend, each beside its baseline in the
// same run:
//   qvm-copy-to-vm of 1 GiB (one file) and of 10,000 small files from work to personal,
//     against `tar -c | tar -x` of the same data through a pipe on this machine;
//   qvm-open-in-dvm from the call to the viewer having started (the viewer records the
//     time and exits at once), cold and with a preloaded disposable.
#include "system.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <thread>

using bulkhead::testing::System;
namespace sys = bulkhead::sys;

namespace {

constexpr char const* kPolicy = "qubes.Filecopy * work personal allow\n"
                                "qubes.OpenInVM * @anyvm @dispvm allow\n";

System& system_under_test() {
    static std::unique_ptr<System> s = [] {
        auto sys = std::make_unique<System>(kPolicy);
        sys->make_template();
        // The disposables' viewer appends the time it started (/proc/uptime, 10 ms steps:
        // the sandbox shares the host's kernel clock) to the file; it comes back as the edit.
        sys->ok({"qvm-template", "import-layer", "tmpl",
                 sys->make_layer_dir("etc/bulkhead/open-command",
                                     "/bin/sh /etc/bulkhead/bench-viewer\n")});
        sys->ok({"qvm-template", "import-layer", "tmpl",
                 sys->make_layer_dir("etc/bulkhead/bench-viewer",
                                     "cut -d' ' -f1 /proc/uptime >> \"$1\"\n")});
        sys->ok({"qvm-create", "-t", "tmpl", "-l", "blue", "work"});
        sys->ok({"qvm-create", "-t", "tmpl", "-l", "green", "personal"});
        for (auto const* dvm : {"dvm", "dvmpre"})
            sys->ok(
                {"qvm-create", "-t", "tmpl", "-l", "red", "-P", "template_for_dispvms=True", dvm});
        sys->ok({"qvm-start", "work"});
        sys->ok({"qvm-start", "personal"});
        // personal accepts the 10,000-file copy (its own setting; default cap 2,048).
        sys->ok({"qvm-run", "-p", "-u", "root", "personal",
                 "mkdir -p /rw/config && echo 'max_files = 20000' > "
                 "/rw/config/bulkhead-filecopy.conf"});
        // The same data in work and on the host (for the tar baseline), same disk.
        sys->ok({"qvm-run", "-p", "work",
                 "dd if=/dev/urandom of=seed bs=1M count=1 2>/dev/null &&"
                 " mkdir big small && for i in $(seq 1024); do cat seed; done > big/big &&"
                 " i=0; while [ $i -lt 10000 ]; do head -c 1024 seed > small/f$i; "
                 "i=$((i+1)); done"});
        return sys;
    }();
    return *s;
}

std::string host_data() {
    static std::string dir = [] {
        auto s = system_under_test().root() + "/appvms/work/home/user";
        return s;
    }();
    return dir;
}

double seconds_of(auto fn) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void report(benchmark::State& state, std::vector<double> v, uint64_t bytes) {
    std::sort(v.begin(), v.end());
    if (v.empty())
        return;
    state.counters["p50_ms"] = v[v.size() / 2] * 1e3;
    if (bytes)
        state.counters["MiB_per_s"] = double(bytes) / double(1u << 20) / v[v.size() / 2];
}

void copy_to_personal(benchmark::State& state, std::string const& what, uint64_t bytes) {
    auto& s = system_under_test();
    std::vector<double> v;
    for (auto _ : state) {
        double t = seconds_of([&] {
            s.ok({"qvm-run", "-p", "work", "qvm-copy-to-vm personal " + what});
        });
        state.SetIterationTime(t);
        v.push_back(t);
        s.ok({"qvm-run", "-p", "personal", "rm -rf ~/QubesIncoming"});
    }
    report(state, v, bytes);
}

void tar_pipe(benchmark::State& state, std::string const& what, uint64_t bytes) {
    auto src = host_data();
    auto dst = sys::make_temp_dir("/var/tmp/bulkhead-bench-tar-").value();
    std::vector<double> v;
    for (auto _ : state) {
        // tar then sync, as the unpacker syncs before confirming.
        double t = seconds_of([&] {
            auto r = sys::run({"/bin/sh", "-c",
                               "tar -C '" + src + "' -cf - " + what + " | tar -C '" + dst +
                                   "' -xf - && sync -f '" + dst + "'"});
            if (!r || r->status.code != 0)
                throw std::runtime_error("tar pipe failed");
        });
        state.SetIterationTime(t);
        v.push_back(t);
        (void)sys::remove_tree(dst + "/" + what);
    }
    (void)sys::remove_tree(dst);
    report(state, v, bytes);
}

void BM_QvmCopyToVm_1GiB(benchmark::State& state) {
    copy_to_personal(state, "big", uint64_t(1) << 30);
}
void BM_Baseline_TarPipe_1GiB(benchmark::State& state) {
    tar_pipe(state, "big", uint64_t(1) << 30);
}
void BM_QvmCopyToVm_10kFiles(benchmark::State& state) {
    copy_to_personal(state, "small", 10000u * 1024u);
}
void BM_Baseline_TarPipe_10kFiles(benchmark::State& state) {
    tar_pipe(state, "small", 10000u * 1024u);
}

double uptime() {
    return std::strtod(sys::read_file("/proc/uptime").value_or("0").c_str(), nullptr);
}

// Call → viewer started: the viewer appends its start time to the file it was given, which
// comes back as the edit. call_ms: the whole call (the disposable destroyed after).
// Waits (up to 10 s) until a preloaded disposable is ready.
void wait_for_preloaded(System& s) {
    for (int i = 0; i < 200; ++i) {
        if (s.ok({"qvm-ls", "--raw-data", "--fields", "class,state"}).find("DispVM|Paused") !=
            std::string::npos)
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("no preloaded disposable within 10 s");
}

void open_in_dvm(benchmark::State& state, std::string const& dvm, bool preloaded) {
    auto& s = system_under_test();
    s.ok({"qvm-prefs", "work", "default_dispvm", dvm});
    std::vector<double> v;
    for (auto _ : state) {
        if (preloaded)
            wait_for_preloaded(s); // the pool refills after a quiet second
        s.ok({"qvm-run", "-p", "work", "echo doc > doc.txt"});
        double t0 = uptime();
        auto total = seconds_of([&] {
            s.ok({"qvm-run", "-p", "work", "qvm-open-in-dvm doc.txt"});
        });
        auto started = s.ok({"qvm-run", "-p", "work", "tail -n 1 doc.txt"});
        auto at = std::strtod(started.c_str(), nullptr);
        double t = at > t0 ? at - t0 : total;
        state.SetIterationTime(t);
        v.push_back(t);
        state.counters["call_ms"] = total * 1e3;
    }
    report(state, v, 0);
}

void BM_OpenInDvmCold(benchmark::State& state) {
    open_in_dvm(state, "dvm", false);
}

void BM_OpenInDvmPreloaded(benchmark::State& state) {
    auto& s = system_under_test();
    s.ok({"qvm-features", "dvmpre", "preload-dispvm-max", "1"});
    open_in_dvm(state, "dvmpre", true);
    s.ok({"qvm-features", "dvmpre", "preload-dispvm-max", "0"});
}

} // namespace

BENCHMARK(BM_QvmCopyToVm_1GiB)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Baseline_TarPipe_1GiB)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_QvmCopyToVm_10kFiles)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Baseline_TarPipe_10kFiles)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenInDvmCold)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenInDvmPreloaded)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
