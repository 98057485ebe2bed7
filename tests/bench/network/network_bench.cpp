// Sandbox networking figures. Needs root. Everything stays in namespaces this run makes.
//   Tcp_AppFirewallNet: 256 MiB app -> sys-firewall -> sys-net -> test host (two routed
//                       hops, each with the generated ruleset: anti-spoofing, a client
//                       chain, masquerade).
//   Tcp_SingleVeth:     the same transfer from a domain plugged straight into the host
//                       namespace (one veth pair, the uplink NAT only): the baseline.
//   Rules_Generate1000: netvm_ruleset text for one client with 1,000 rules.
//   Rules_Replace1000:  nft -f of that table in a running netvm (one transaction),
//                       alternating two different sets so each load really replaces.
// At the end: the chain / single-veth throughput ratio.
#include "net_test_host.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/dom0/firewall/ruleset.h>
#include <bulkhead/dom0/hypervisor/sandbox/sandbox_hypervisor.h>
#include <bulkhead/templates/template_store.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

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

constexpr uint64_t kBytes = 256ull << 20;
constexpr char const* kHost = "10.136.0.1";

std::vector<firewall::Rule> many_rules(int n, int variant) {
    std::vector<firewall::Rule> out;
    for (int i = 0; i < n; ++i) {
        auto text = "action=drop dsthost=10." + std::to_string(variant) + "." +
                    std::to_string(i / 250) + "." + std::to_string(i % 250) +
                    " proto=tcp dstports=" + std::to_string(1000 + i);
        out.push_back(must(firewall::parse_rule(text, 0), "rule"));
    }
    out.push_back(must(firewall::parse_rule("action=accept", 0), "rule"));
    return out;
}

struct World {
    std::string base = must(sys::make_temp_dir("/tmp/bulkhead-bench-net-"), "temp dir");
    testing::NetTestHost host{{8080, 8081}};
    std::unique_ptr<SandboxHypervisor> hv;
    DomId net = 0, fw = 0, app = 0, direct = 0;
    std::vector<std::string> layers;

    World() {
        templates::TemplateStore store(base + "/store");
        must(store.create_busybox("bench"), "busybox template");
        layers = must(store.layers("bench"), "layers");
        SandboxOptions o;
        o.cgroup_name = "bulkhead-bench-net-" + std::to_string(::getpid());
        o.uplink_netns = host.netns();
        o.uplink_dns = {kHost};
        hv = std::make_unique<SandboxHypervisor>(o);
        net = start("net");
        fw = start("fw");
        app = start("app");
        direct = start("direct");
        must(hv->attach_network(net, {0, "10.137.0.2", ""}), "plug net");
        must(hv->attach_network(fw, {net, "10.137.0.3", "10.137.0.2"}), "plug fw");
        must(hv->attach_network(app, {fw, "10.137.0.4", "10.137.0.3"}), "plug app");
        must(hv->attach_network(direct, {0, "10.137.0.5", ""}), "plug direct");
        firewall::NetvmPlan p;
        p.dns = {kHost};
        p.clients = {{vif(fw), "10.137.0.3", many_rules(0, 0)}};
        apply(net, p);
        p.dns.clear();
        p.clients = {{vif(app), "10.137.0.4", many_rules(0, 0)}};
        apply(fw, p);
    }
    ~World() {
        hv.reset();
        (void)sys::remove_tree(base);
    }
    static std::string vif(DomId id) { return "vif" + std::to_string(id) + ".0"; }
    DomId start(std::string const& name) {
        DomainSpec s;
        s.name = name;
        s.layers = layers;
        s.volatile_dir = base + "/volatile/" + name;
        s.memory_mib = 256;
        s.init_argv = {"/bin/sh", "-c", "exec sleep 100000"};
        return must(hv->create(s), "create");
    }
    void apply(DomId netvm, firewall::NetvmPlan const& p) {
        auto r = hv->apply_network_rules(netvm, firewall::netvm_ruleset(p, nullptr));
        if (!r) {
            std::fprintf(stderr, "bench: rules: %s\n", r.error().message().c_str());
            std::abort();
        }
    }
    std::string netns(DomId id) {
        return "/proc/" + std::to_string(must(hv->init_pid(id), "pid")) + "/ns/net";
    }
};

World& world() {
    static World w;
    return w;
}

double g_chain = 0, g_veth = 0;

void tcp(benchmark::State& state, DomId World::*who, double& out) {
    auto& w = world();
    auto ns = w.netns(w.*who);
    double total = 0;
    int n = 0;
    for (auto _ : state) {
        double bps = testing::tcp_throughput(ns, kHost, 8081, kBytes);
        if (bps <= 0) {
            state.SkipWithError("transfer failed");
            return;
        }
        state.SetIterationTime(double(kBytes) / bps);
        total += bps;
        ++n;
    }
    out = total / n;
    state.SetBytesProcessed(int64_t(state.iterations() * kBytes));
    state.counters["MiB/s"] = out / (1 << 20);
}

void Tcp_AppFirewallNet(benchmark::State& state) {
    tcp(state, &World::app, g_chain);
}
void Tcp_SingleVeth(benchmark::State& state) {
    tcp(state, &World::direct, g_veth);
}

void Rules_Generate1000(benchmark::State& state) {
    firewall::NetvmPlan p;
    p.clients = {{"vif4.0", "10.137.0.4", many_rules(1000, 1)}};
    size_t bytes = 0;
    for (auto _ : state) {
        auto text = firewall::netvm_ruleset(p, nullptr);
        bytes = text.size();
        benchmark::DoNotOptimize(text);
    }
    state.counters["text_KiB"] = double(bytes) / 1024;
}

void Rules_Replace1000(benchmark::State& state) {
    auto& w = world();
    std::string text[2];
    for (int v = 0; v < 2; ++v) {
        firewall::NetvmPlan p;
        p.clients = {{World::vif(w.app), "10.137.0.4", many_rules(1000, v + 1)}};
        text[v] = firewall::netvm_ruleset(p, nullptr);
    }
    int i = 0;
    for (auto _ : state) {
        auto r = w.hv->apply_network_rules(w.fw, text[i++ % 2]);
        if (!r) {
            state.SkipWithError(r.error().message().c_str());
            return;
        }
    }
    // Leave the chain open for the throughput runs.
    firewall::NetvmPlan p;
    p.clients = {{World::vif(w.app), "10.137.0.4", many_rules(0, 0)}};
    w.apply(w.fw, p);
}

} // namespace

BENCHMARK(Tcp_AppFirewallNet)->UseManualTime()->Iterations(5)->Unit(benchmark::kMillisecond);
BENCHMARK(Tcp_SingleVeth)->UseManualTime()->Iterations(5)->Unit(benchmark::kMillisecond);
BENCHMARK(Rules_Generate1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(Rules_Replace1000)->Iterations(20)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    Logger::set_threshold(LogLevel::Warn);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    if (g_chain > 0 && g_veth > 0)
        std::printf("ratio app->sys-firewall->sys-net / single veth: %.2f (%.0f vs %.0f MiB/s)\n",
                    g_chain / g_veth, g_chain / (1 << 20), g_veth / (1 << 20));
    benchmark::Shutdown();
    return 0;
}
