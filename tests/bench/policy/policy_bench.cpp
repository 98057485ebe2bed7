// Benchmarks for policy/: evaluate() over a generated 1,000-rule policy (250 services with
// four rules each, the last 40 of them `*` rules, a mix of names, tags, types, @dispvm and
// @default) against 64 domains, and Policy::parse_text of that policy.
// Baseline: a std::unordered_map lookup of the same requests (precomputed keys, i.e. an ideal
// decision cache), so the report can give evaluate()'s cost as a ratio.
#include <bulkhead/policy/evaluate.h>
#include <bulkhead/policy/policy.h>
#include <bulkhead/policy/system_info.h>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

using namespace bulkhead::policy;

namespace {

constexpr int kServices = 250;
constexpr int kDomains = 64;

std::string dom(int i) {
    return "vm" + std::to_string(i);
}

std::string const& policy_text() {
    static std::string const text = [] {
        std::string s = "# generated: 1000 rules\n";
        for (int i = 0; i < kServices - 10; ++i) {
            std::string svc = "bench.Service" + std::to_string(i);
            s += svc + " +arg" + std::to_string(i % 7) + " " + dom(i % kDomains) + " " +
                 dom((i + 1) % kDomains) + " allow user=root\n";
            s += svc + " * @tag:t" + std::to_string(i % 5) + " @type:TemplateVM deny notify=no\n";
            s += svc + " * @anyvm @dispvm allow\n";
            s += svc + " * @anyvm @tag:t" + std::to_string(i % 3) +
                 " ask default_target=" + dom(i % kDomains) + "\n";
        }
        for (int i = 0; i < 10; ++i) {
            s += "* * " + dom(i) + " @default allow target=" + dom(i + 1) + "\n";
            s += "* * @tag:t" + std::to_string(i % 5) + " " + dom(i + 2) + " allow\n";
            s += "* * @anyvm @adminvm deny\n";
            s += "* * @anyvm @anyvm deny notify=no\n";
        }
        return s;
    }();
    return text;
}

Policy const& policy() {
    static Policy const p = [] {
        auto r = Policy::parse_text(policy_text(), "bench.policy");
        if (!r || r->rules().size() != 1000)
            std::abort();
        return std::move(*r);
    }();
    return p;
}

SystemInfo const& info() {
    static SystemInfo const si = [] {
        SystemInfo s;
        DomainInfo d0;
        d0.name = "dom0";
        d0.type = DomainType::AdminVM;
        d0.power_state = "Running";
        s.add(d0);
        for (int i = 0; i < kDomains; ++i) {
            DomainInfo d;
            d.name = dom(i);
            d.type = i % 8 == 0 ? DomainType::TemplateVM : DomainType::AppVM;
            d.tags = {"t" + std::to_string(i % 5)};
            d.default_dispvm = "dvm";
            d.power_state = i % 2 ? "Running" : "Halted";
            s.add(d);
        }
        DomainInfo dvm;
        dvm.name = "dvm";
        dvm.template_for_dispvms = true;
        s.add(dvm);
        return s;
    }();
    return si;
}

// allow, deny and no-match requests across all services (no ask: see BM_EvaluateAsk).
std::vector<Request> const& requests() {
    static std::vector<Request> const reqs = [] {
        std::vector<Request> out;
        for (int i = 0; i < 1024; ++i) {
            int svc = (i * 37) % (kServices + 20); // some services have no rules of their own
            std::string name = "bench.Service" + std::to_string(svc);
            switch (i % 4) {
            case 0: // the specific allow rule
                out.push_back(make_request(dom(svc % kDomains), dom((svc + 1) % kDomains),
                                           name + "+arg" + std::to_string(svc % 7)));
                break;
            case 1:
                out.push_back(make_request(dom(i % kDomains), "@dispvm", name));
                break;
            case 2:
                out.push_back(make_request(dom(i % kDomains), "dom0", name + "+x"));
                break;
            default:
                out.push_back(make_request(dom(i % kDomains), dom(8), name));
                break;
            }
        }
        return out;
    }();
    return reqs;
}

void BM_Evaluate(benchmark::State& state) {
    auto const& p = policy();
    auto const& si = info();
    auto const& reqs = requests();
    size_t i = 0, allows = 0;
    for (auto _ : state) {
        Decision d = evaluate(p, reqs[i++ & 1023], si);
        allows += std::holds_alternative<Allow>(d);
        benchmark::DoNotOptimize(d);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["allow_share"] = double(allows) / double(state.iterations());
}
BENCHMARK(BM_Evaluate);

// ask decisions: the whole rule list of the service is scanned and expanded.
void BM_EvaluateAsk(benchmark::State& state) {
    auto const& p = policy();
    auto const& si = info();
    std::vector<Request> reqs;
    for (int i = 0; i < 64; ++i)
        reqs.push_back(make_request(dom(i % kDomains), dom(i % 3 + 5), // tagged t(i % 3)
                                    "bench.Service" + std::to_string(i)));
    size_t i = 0, asks = 0;
    for (auto _ : state) {
        Decision d = evaluate(p, reqs[i++ & 63], si);
        asks += std::holds_alternative<Ask>(d);
        benchmark::DoNotOptimize(d);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["ask_share"] = double(asks) / double(state.iterations());
}
BENCHMARK(BM_EvaluateAsk);

// Baseline: the same requests answered from a hash map of precomputed decisions.
void BM_BaselineUnorderedMap(benchmark::State& state) {
    auto const& reqs = requests();
    std::unordered_map<std::string, int> table;
    std::vector<std::string> keys;
    for (auto const& r : reqs) {
        std::string k = r.source + '\0' + r.target + '\0' + r.service + '+' + r.argument;
        table.emplace(k, int(k.size() & 3));
        keys.push_back(std::move(k));
    }
    size_t i = 0;
    for (auto _ : state) {
        auto it = table.find(keys[i++ & 1023]);
        benchmark::DoNotOptimize(it);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BaselineUnorderedMap);

void BM_Parse1000Rules(benchmark::State& state) {
    auto const& text = policy_text();
    for (auto _ : state) {
        auto p = Policy::parse_text(text, "bench.policy");
        benchmark::DoNotOptimize(p);
    }
    state.SetItemsProcessed(state.iterations() * 1000);
    state.SetBytesProcessed(state.iterations() * int64_t(text.size()));
}
BENCHMARK(BM_Parse1000Rules)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
