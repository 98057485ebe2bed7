// DomainManager's network half against a recording hypervisor (no root, no namespaces):
// the netvm chain starts first and is plugged in order, each netvm gets its ruleset with
// its clients' rules, firewall and netvm changes reach the running netvm, a netvm that
// restarts takes its clients back, and a failed plug fails the start.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/dom0/domains/domain_manager.h>

#include <catch2/catch.hpp>

#include <map>
#include <mutex>

using namespace bulkhead;
using namespace bulkhead::dom0;
using namespace std::chrono_literals;

namespace {

class RecordingHypervisor final : public Hypervisor {
public:
    std::mutex m;
    DomId next = 1;
    std::map<DomId, std::string> names;
    std::vector<std::string> log;             // "create x", "attach x->y gw", "detach x"
    std::map<std::string, std::string> rules; // netvm name -> last ruleset
    std::vector<HypervisorEvent> events;
    DomainManager* manager = nullptr;
    bool fail_attach = false;

    std::string name(DomId id) { return id == 0 ? "dom0" : names.at(id); }
    std::string_view backend_name() const override { return "recording"; }
    Result<DomId> create(DomainSpec const& spec) override {
        std::lock_guard lock(m);
        names[next] = spec.name;
        log.push_back("create " + spec.name);
        return next++;
    }
    Result<void> shutdown(DomId id) override { return destroy(id); }
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
    Result<NetworkLinkInfo> attach_network(DomId id, NetworkLink const& link) override {
        std::lock_guard lock(m);
        if (fail_attach)
            return unexpected(Errc::System, "no veth today");
        log.push_back("attach " + name(id) + "->" + name(link.backend) + " " + link.address +
                      " gw " + link.gateway);
        NetworkLinkInfo info{link.backend == 0 ? "10.136.0.1" : link.gateway, {}};
        if (link.backend == 0)
            info.dns = {"192.0.2.1"};
        return info;
    }
    Result<void> detach_network(DomId id) override {
        std::lock_guard lock(m);
        log.push_back("detach " + name(id));
        return {};
    }
    Result<void> apply_network_rules(DomId netvm, std::string const& text) override {
        std::lock_guard lock(m);
        rules[name(netvm)] = text;
        return {};
    }
    std::vector<std::string> take_log() {
        std::lock_guard lock(m);
        return std::exchange(log, {});
    }
    std::string rules_of(std::string const& netvm) {
        std::lock_guard lock(m);
        return rules[netvm];
    }
};

struct Config final : ConfigSource {
    std::string base;
    std::mutex m;
    std::map<std::string, NetConfig> net;
    std::map<std::string, std::vector<std::string>> fw;
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
    Result<NetConfig> net_config(std::string const& name) override {
        std::lock_guard lock(m);
        return net[name];
    }
    Result<std::vector<std::string>> firewall_rules(std::string const& name) override {
        std::lock_guard lock(m);
        if (!fw.count(name))
            return std::vector<std::string>{"action=accept"};
        return fw[name];
    }
    void set_netvm(std::string const& name, std::string const& netvm) {
        std::lock_guard lock(m);
        net[name].netvm = netvm;
    }
};

struct Hub final : AgentHub {
    Result<void> attach(std::string const&, DomId, std::chrono::steady_clock::time_point) override {
        return {};
    }
    void detach(std::string const&) override {}
};

struct Fixture {
    std::string base = sys::make_temp_dir("/tmp/bulkhead-dm-net-test-").value();
    RecordingHypervisor hv;
    Config config;
    Hub hub;
    DomainManager dm{hv, config, hub, Layout(base), base + "/agent"};
    Fixture() {
        config.base = base;
        hv.manager = &dm;
        config.net["sys-net"] = {"", "10.137.0.2", true};
        config.net["sys-firewall"] = {"sys-net", "10.137.0.3", true};
        config.net["work"] = {"sys-firewall", "10.137.0.4", false};
        config.net["offline"] = {"", "10.137.0.5", false};
        config.fw["work"] = {"action=drop proto=tcp dstports=25", "action=accept"};
    }
    ~Fixture() { (void)sys::remove_tree(base); }
};

bool has(std::string const& text, std::string const& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("network: the netvm chain starts and plugs first, each netvm gets its clients' rules",
          "[domains]") {
    Fixture fx;
    REQUIRE(fx.dm.start("work"));
    CHECK(fx.hv.take_log() ==
          std::vector<std::string>{
              "create sys-net", "attach sys-net->dom0 10.137.0.2 gw ", "create sys-firewall",
              "attach sys-firewall->sys-net 10.137.0.3 gw 10.137.0.2", "create work",
              "attach work->sys-firewall 10.137.0.4 gw 10.137.0.3"});
    auto net = fx.hv.rules_of("sys-net");
    CHECK(has(net, "dnat ip to 192.0.2.1")); // the uplink's resolver
    CHECK(has(net, "iifname \"vif2.0\" ip saddr 10.137.0.3 accept"));
    auto fw = fx.hv.rules_of("sys-firewall");
    CHECK(!has(fw, "dnat")); // behind sys-net: DNS is routed on
    CHECK(has(fw, "iifname \"vif3.0\" ip saddr 10.137.0.4 accept"));
    CHECK(has(fw, "\t\ttcp dport 25 drop\n\t\taccept\n\t\tdrop\n"));

    // netvm '': no device at all, nothing attached.
    REQUIRE(fx.dm.start("offline"));
    CHECK(fx.hv.take_log() == std::vector<std::string>{"create offline"});

    // New rules: sys-firewall reloads.
    fx.config.fw["work"] = {"action=accept specialtarget=dns"};
    REQUIRE(fx.dm.firewall_changed("work"));
    CHECK(has(fx.hv.rules_of("sys-firewall"), "th dport 53 accept\n\t\tdrop\n"));

    // Live re-plug: onto sys-net, then none.
    fx.config.set_netvm("work", "sys-net");
    REQUIRE(fx.dm.network_changed("work"));
    CHECK(fx.hv.take_log() ==
          std::vector<std::string>{"detach work", "attach work->sys-net 10.137.0.4 gw 10.137.0.2"});
    CHECK(!has(fx.hv.rules_of("sys-firewall"), "vif3.0"));
    CHECK(has(fx.hv.rules_of("sys-net"), "iifname \"vif3.0\" ip saddr 10.137.0.4 accept"));
    fx.config.set_netvm("work", "");
    REQUIRE(fx.dm.network_changed("work"));
    CHECK(fx.hv.take_log() == std::vector<std::string>{"detach work"});
    CHECK(!has(fx.hv.rules_of("sys-net"), "vif3.0"));
    REQUIRE(fx.dm.network_changed("work")); // nothing plugged: nothing to do
    CHECK(fx.hv.take_log().empty());
    fx.config.set_netvm("work", "sys-firewall");
    REQUIRE(fx.dm.network_changed("work"));
    CHECK(fx.hv.take_log() ==
          std::vector<std::string>{"attach work->sys-firewall 10.137.0.4 gw 10.137.0.3"});
}

TEST_CASE("network: a restarted netvm takes its running clients back with their rules",
          "[domains]") {
    Fixture fx;
    REQUIRE(fx.dm.start("work"));
    REQUIRE(fx.dm.kill("sys-firewall"));
    CHECK(fx.dm.connected_clients("sys-firewall").empty()); // halted
    fx.hv.take_log();
    REQUIRE(fx.dm.start("sys-firewall"));
    CHECK(fx.dm.connected_clients("sys-firewall") == std::vector<std::string>{"work"});
    CHECK(fx.dm.connected_clients("sys-net") == std::vector<std::string>{"sys-firewall"});
    CHECK(fx.dm.connected_clients("work").empty());
    CHECK(fx.hv.take_log() ==
          std::vector<std::string>{"create sys-firewall",
                                   "attach sys-firewall->sys-net 10.137.0.3 gw 10.137.0.2",
                                   "attach work->sys-firewall 10.137.0.4 gw 10.137.0.3"});
    auto fw = fx.hv.rules_of("sys-firewall");
    CHECK(has(fw, "iifname \"vif3.0\" ip saddr 10.137.0.4 accept"));
    CHECK(has(fw, "tcp dport 25 drop"));
    // sys-firewall moves to another uplink netvm live: its own client keeps its link.
    fx.config.net["sys-net2"] = {"", "10.137.0.9", true};
    fx.config.set_netvm("sys-firewall", "sys-net2");
    REQUIRE(fx.dm.network_changed("sys-firewall"));
    CHECK(fx.hv.take_log() ==
          std::vector<std::string>{"create sys-net2", "attach sys-net2->dom0 10.137.0.9 gw ",
                                   "attach sys-firewall->sys-net2 10.137.0.3 gw 10.137.0.9"});
    CHECK(has(fx.hv.rules_of("sys-firewall"), "tcp dport 25 drop"));
    CHECK(has(fx.hv.rules_of("sys-net2"), "iifname \"vif4.0\" ip saddr 10.137.0.3 accept"));
    CHECK(!has(fx.hv.rules_of("sys-net"), "vif4.0")); // the old netvm forgot it
    // A halted domain's netvm change waits for its next start.
    REQUIRE(fx.dm.kill("work"));
    fx.hv.take_log();
    REQUIRE(fx.dm.network_changed("work"));
    CHECK(fx.hv.take_log().empty());
}

TEST_CASE("network: a plug that fails fails the start and leaves the domain halted", "[domains]") {
    Fixture fx;
    fx.hv.fail_attach = true;
    auto r = fx.dm.start("sys-net");
    REQUIRE(!r);
    CHECK(has(r.error().message(), "network"));
    CHECK(has(r.error().message(), "no veth today"));
    CHECK(fx.dm.power_state("sys-net") == "Halted");
}
