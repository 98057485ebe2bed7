// The sandbox backend's domain lifecycle against its floor. Needs root, like the backend.
//   Sandbox_CreateDestroy:   SandboxHypervisor::create (returns with init running: overlay
//                            root of a busybox layer, cgroup, seccomp, namespaces) → destroy.
//   Sandbox_CreateExecDestroy: the same, but waits until the guest's /bin/sh has exec'd
//                            `sleep` (its init shows as "sleep" in /proc) before destroying.
//   Unshare_True (baseline): `unshare --mount --pid --net --uts --ipc --fork true`, waited for.
#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/hypervisor/sandbox/sandbox_hypervisor.h>
#include <bulkhead/templates/template_store.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::dom0;

namespace {

template <typename T>
T must(Result<T> r, char const* what) {
    if (!r) {
        std::fprintf(stderr, "bench: %s: %s\n", what, r.error().message().c_str());
        std::abort();
    }
    return std::move(r).value();
}
void must(Result<void> r, char const* what) {
    if (!r) {
        std::fprintf(stderr, "bench: %s: %s\n", what, r.error().message().c_str());
        std::abort();
    }
}

// A busybox template built once for the whole run, removed at exit.
struct Fixture {
    std::string base = must(sys::make_temp_dir("/tmp/bulkhead-bench-sandbox-"), "temp dir");
    std::vector<std::string> layers;
    Fixture() {
        templates::TemplateStore store(base + "/store");
        must(store.create_busybox("bench"), "busybox template");
        layers = must(store.layers("bench"), "layers");
    }
    ~Fixture() { (void)sys::remove_tree(base); }
    DomainSpec spec() const {
        DomainSpec s;
        s.name = "bench";
        s.layers = layers;
        s.volatile_dir = base + "/volatile/bench";
        s.memory_mib = 256;
        s.init_argv = {"/bin/sh", "-c", "exec sleep 1000"};
        return s;
    }
};

Fixture const& fixture() {
    static Fixture f;
    return f;
}

void BM_Sandbox_CreateDestroy(benchmark::State& state) {
    Logger::set_threshold(LogLevel::Warn);
    auto spec = fixture().spec();
    SandboxHypervisor hv;
    for (auto _ : state) {
        auto id = must(hv.create(spec), "create");
        if (must(hv.info(id), "info").state != PowerState::Running)
            std::abort();
        must(hv.destroy(id), "destroy");
        benchmark::DoNotOptimize(must(hv.take_events(), "events"));
    }
}

void BM_Sandbox_CreateExecDestroy(benchmark::State& state) {
    Logger::set_threshold(LogLevel::Warn);
    auto spec = fixture().spec();
    SandboxHypervisor hv;
    for (auto _ : state) {
        auto id = must(hv.create(spec), "create");
        auto comm = "/proc/" + std::to_string(must(hv.init_pid(id), "init pid")) + "/comm";
        while (sys::read_file(comm).value_or("") != "sleep\n")
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        must(hv.destroy(id), "destroy");
        benchmark::DoNotOptimize(must(hv.take_events(), "events"));
    }
}

void BM_Unshare_True(benchmark::State& state) {
    for (auto _ : state) {
        auto out = must(
            sys::run({"unshare", "--mount", "--pid", "--net", "--uts", "--ipc", "--fork", "true"}),
            "unshare");
        if (out.status.code != 0) {
            std::fprintf(stderr, "bench: unshare failed: %s\n", out.err.c_str());
            std::abort();
        }
    }
}

} // namespace

BENCHMARK(BM_Unshare_True)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sandbox_CreateDestroy)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sandbox_CreateExecDestroy)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
