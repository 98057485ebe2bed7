// DomainManager against a scripted hypervisor: a slow or stuck backend create must not
// hold the manager (qvm-ls, other domains' starts), and a domain that dies before its
// create returns is reported, never left "running".
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/dom0/domains/domain_manager.h>

#include <catch2/catch.hpp>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::dom0;
using namespace std::chrono_literals;

namespace {

class ScriptedHypervisor final : public Hypervisor {
public:
    std::mutex m;
    std::condition_variable cv;
    bool release_slow = false;
    bool die_at_create = false; // the event for an id is queued before create returns
    DomId next = 1;
    std::vector<HypervisorEvent> events;
    DomainManager* manager = nullptr;

    std::string_view backend_name() const override { return "scripted"; }
    Result<DomId> create(DomainSpec const& spec) override {
        std::unique_lock lock(m);
        DomId id = next++;
        if (spec.name == "slow")
            cv.wait(lock, [&] { return release_slow; });
        if (die_at_create) {
            events.push_back({id, HypervisorEvent::Kind::Crashed, 1});
            lock.unlock();
            manager->on_hypervisor_events(); // the event loop runs before we return
        }
        return id;
    }
    Result<void> shutdown(DomId) override { return {}; }
    Result<void> destroy(DomId id) override {
        {
            std::lock_guard lock(m);
            events.push_back({id, HypervisorEvent::Kind::Destroyed, 0});
        }
        manager->on_hypervisor_events();
        return {};
    }
    Result<void> pause(DomId) override { return {}; }
    Result<void> unpause(DomId) override { return {}; }
    Result<DomainInfo> info(DomId id) override { return DomainInfo{id, "", {}, 0}; }
    Result<std::vector<DomainInfo>> list() override { return std::vector<DomainInfo>{}; }
    Result<void> set_memory_target(DomId, uint64_t) override { return {}; }
    int event_fd() const override { return -1; }
    Result<std::vector<HypervisorEvent>> take_events() override {
        std::lock_guard lock(m);
        return std::exchange(events, {});
    }
};

struct Config final : ConfigSource {
    std::string base;
    Result<StartConfig> start_config(std::string const& name) override {
        StartConfig c;
        c.name = name;
        c.layers = {base + "/layer"};
        c.qrexec_timeout = 5s;
        return c;
    }
    Result<void> commit_template_layer(std::string const&, std::string const&) override {
        return {};
    }
    Result<void> forget_disposable(std::string const&) override { return {}; }
};

struct Hub final : AgentHub {
    Result<void> attach(std::string const&, DomId, std::chrono::steady_clock::time_point) override {
        return {};
    }
    void detach(std::string const&) override {}
};

struct Fixture {
    std::string base = sys::make_temp_dir("/tmp/bulkhead-dm-test-").value();
    ScriptedHypervisor hv;
    Config config;
    Hub hub;
    DomainManager dm{hv, config, hub, Layout(base), base + "/agent"};
    Fixture() {
        config.base = base;
        hv.manager = &dm;
    }
    ~Fixture() { (void)sys::remove_tree(base); }
};

} // namespace

TEST_CASE("a stuck backend create holds neither the manager nor other domains", "[domains]") {
    Fixture fx;
    auto slow = std::async(std::launch::async, [&] { return fx.dm.start("slow"); });
    for (int i = 0; i < 200 && fx.dm.power_state("slow") != "Transient"; ++i)
        std::this_thread::sleep_for(5ms);
    REQUIRE(fx.dm.power_state("slow") == "Transient");

    // While "slow" is inside create(): queries answer, and "slow" is not killable yet.
    auto t0 = std::chrono::steady_clock::now();
    CHECK(fx.dm.power_state("work") == "Halted");
    CHECK_FALSE(fx.dm.running_id("slow").has_value());
    auto k = fx.dm.kill("slow");
    REQUIRE_FALSE(k.has_value());
    CHECK(k.error().code() == Errc::Busy);
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);

    {
        std::lock_guard lock(fx.hv.m);
        fx.hv.release_slow = true;
    }
    fx.hv.cv.notify_all();
    auto id = slow.get();
    REQUIRE(id.has_value());
    CHECK(fx.dm.power_state("slow") == "Running");
    CHECK(fx.dm.running_id("slow") == *id);
    REQUIRE(fx.dm.kill("slow").has_value());
    CHECK(fx.dm.power_state("slow") == "Halted");
}

TEST_CASE("a domain that dies before its create returns is reported, not left running",
          "[domains]") {
    Fixture fx;
    fx.hv.die_at_create = true;
    auto r = fx.dm.start("work");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == Errc::Closed);
    CHECK(fx.dm.power_state("work") == "Halted");
    CHECK(fx.dm.running_names().empty());
    fx.hv.die_at_create = false;
    auto again = fx.dm.start("work"); // the name is free again
    REQUIRE(again.has_value());
    CHECK(fx.dm.power_state("work") == "Running");
}
