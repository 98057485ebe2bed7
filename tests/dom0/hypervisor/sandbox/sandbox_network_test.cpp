// Sandbox networking through the Hypervisor calls alone: app -> fw -> net -> a test "host"
// namespace (NetTestHost), with the rulesets dom0/firewall generates. No outside address
// is ever used; clients run inside the domains' network namespaces (tcp_get).
#include "net_test_host.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/firewall/ruleset.h>
#include <bulkhead/dom0/hypervisor/sandbox/sandbox_hypervisor.h>
#include <bulkhead/templates/template_store.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::dom0;
using bulkhead::testing::NetTestHost;
using bulkhead::testing::tcp_get;

namespace {

struct Net {
    std::string base = sys::make_temp_dir("/tmp/bulkhead-net-test-").value();
    std::vector<std::string> layers;
    NetTestHost host{{8080, 8082}};
    std::unique_ptr<SandboxHypervisor> hv;

    Net() {
        templates::TemplateStore store(base + "/store");
        REQUIRE(store.create_busybox("fixture").has_value());
        layers = store.layers("fixture").value();
        SandboxOptions o;
        o.cgroup_name = "bulkhead-net-test-" + std::to_string(::getpid());
        o.uplink_netns = host.netns();
        o.uplink_dns = {"10.136.0.1"};
        hv = std::make_unique<SandboxHypervisor>(o);
    }
    ~Net() {
        hv.reset();
        (void)sys::remove_tree(base);
    }
    DomId start(std::string const& name) {
        DomainSpec s;
        s.name = name;
        s.layers = layers;
        s.volatile_dir = base + "/volatile/" + name;
        s.memory_mib = 128;
        s.init_argv = {"/bin/sh", "-c", "while :; do sleep 1000; done"};
        auto id = hv->create(s);
        INFO((id ? "" : id.error().message()));
        REQUIRE(id);
        return *id;
    }
    std::string netns(DomId id) {
        return "/proc/" + std::to_string(hv->init_pid(id).value()) + "/ns/net";
    }
    std::string in(DomId id, std::string const& cmd) {
        auto r = sys::run({"nsenter", "--net=" + netns(id), "--", "sh", "-c", cmd});
        REQUIRE(r);
        return r->out + r->err;
    }
    void attach(DomId id, DomId backend, std::string const& addr, std::string const& gw) {
        auto r = hv->attach_network(id, {backend, addr, gw});
        INFO((r ? "" : r.error().message()));
        REQUIRE(r);
    }
    void rules(DomId netvm, firewall::NetvmPlan const& plan) {
        std::vector<std::string> errors;
        auto text = firewall::netvm_ruleset(plan, nullptr, &errors);
        REQUIRE(errors.empty());
        auto r = hv->apply_network_rules(netvm, text);
        INFO((r ? "" : r.error().message()));
        REQUIRE(r);
    }
};

std::vector<firewall::Rule> parse(std::vector<std::string> const& texts) {
    std::vector<firewall::Rule> out;
    for (auto const& t : texts)
        out.push_back(firewall::parse_rule(t, 0).value());
    return out;
}

constexpr char const* kNet = "10.137.0.2";
constexpr char const* kFw = "10.137.0.3";
constexpr char const* kApp = "10.137.0.4";
constexpr char const* kHost = "10.136.0.1";

} // namespace

TEST_CASE("sandbox network: none, a chain, rules, DNS, spoofing, re-plug, netvm restart",
          "[root]") {
    Net n;
    auto in_uplink = [&](std::string const& cmd) {
        auto r = sys::run({"nsenter", "--net=" + n.host.netns(), "--", "sh", "-c", cmd});
        REQUIRE(r);
        return r->out;
    };
    // (A new namespace inherits the host's IPv4 settings: start from "not a router".)
    in_uplink("sysctl -q -w net.ipv4.ip_forward=0");
    REQUIRE(in_uplink("sysctl -n net.ipv4.ip_forward") == "0\n");
    auto solo = n.start("solo");
    auto net = n.start("net");
    auto fw = n.start("fw");
    auto app = n.start("app");

    // netvm '': lo only.
    CHECK(n.in(solo, "ip -o link | cut -d: -f2 | tr -d ' '") == "lo\n");

    auto vif = [](DomId id) { return "vif" + std::to_string(id) + ".0"; };
    n.attach(net, 0, kNet, "");
    n.attach(fw, net, kFw, kNet);
    n.attach(app, fw, kApp, kFw);
    firewall::NetvmPlan net_plan;
    net_plan.dns = {kHost};
    net_plan.clients = {{vif(fw), kFw, parse({"action=accept"})}};
    n.rules(net, net_plan);
    firewall::NetvmPlan fw_plan;
    fw_plan.clients = {{vif(app), kApp,
                        parse({"action=drop proto=tcp dstports=8082",
                               "action=accept specialtarget=dns", "action=accept proto=tcp"})}};
    n.rules(fw, fw_plan);

    CHECK(n.in(app, "ip -o -4 addr show dev eth0 | awk '{print $4}'") ==
          std::string(kApp) + "/32\n");
    CHECK(n.in(app, "ip route show default") == "default via " + std::string(kFw) + " dev eth0 \n");
    // app -> fw -> net -> host: allowed port works, the dropped one does not.
    CHECK(tcp_get(n.netns(app), kHost, 8080) == "port 8080\n");
    CHECK(tcp_get(n.netns(app), kHost, 8082) == "");
    CHECK(tcp_get(n.netns(fw), kHost, 8082) == "port 8082\n"); // fw's own rules: accept
    // DNS through the netvms: 10.139.1.1 is routed on by fw and DNATed by net to the host.
    auto dns = n.in(app, "busybox nslookup -type=a web.test 10.139.1.1");
    INFO(dns);
    CHECK(dns.find(testing::kDnsAnswer) != std::string::npos);
    CHECK(n.host.dns_queries() >= 1);
    // A source address that is not the client's own is dropped by its netvm.
    CHECK(tcp_get(n.netns(app), kHost, 8080, "10.137.0.99") == "");
    CHECK(tcp_get(n.netns(fw), kHost, 8080, kApp) == ""); // fw posing as app at net
    CHECK(tcp_get(n.netns(app), kHost, 8080, kApp) == "port 8080\n");

    // Re-plug live: app straight onto net (no rules there for it yet: anti-spoofing drops
    // everything from an unknown vif), then with rules, then unplugged.
    n.attach(app, net, kApp, kNet);
    CHECK(tcp_get(n.netns(app), kHost, 8080, "", 700) == "");
    net_plan.clients.push_back({vif(app), kApp, parse({"action=accept"})});
    n.rules(net, net_plan);
    CHECK(tcp_get(n.netns(app), kHost, 8082) == "port 8082\n");
    REQUIRE(n.hv->detach_network(app));
    CHECK(n.in(app, "ip -o link | cut -d: -f2 | tr -d ' '") == "lo\n");
    REQUIRE(n.hv->detach_network(app)); // twice: fine

    // fw restarts: a new fw, app plugged again, its rules applied again.
    n.attach(app, fw, kApp, kFw);
    REQUIRE(n.hv->destroy(fw));
    CHECK(n.in(app, "ip -o link | cut -d: -f2 | tr -d ' '") == "lo\n"); // pair gone with fw
    auto fw2 = n.start("fw");
    n.attach(fw2, net, kFw, kNet);
    net_plan.clients = {{vif(fw2), kFw, parse({"action=accept"})}};
    n.rules(net, net_plan);
    n.attach(app, fw2, kApp, kFw);
    fw_plan.clients[0].vif = vif(app);
    n.rules(fw2, fw_plan);
    CHECK(tcp_get(n.netns(app), kHost, 8080) == "port 8080\n");
    CHECK(tcp_get(n.netns(app), kHost, 8082) == "");

    // ICMP falls under the default drop until a rule allows echo requests.
    auto ping = "busybox ping -c 1 -W 1 " + std::string(kHost) + " >/dev/null 2>&1 && echo ok";
    CHECK(n.in(app, ping) == "");
    fw_plan.clients[0].rules.push_back(
        firewall::parse_rule("action=accept proto=icmp icmptype=8", 0).value());
    n.rules(fw2, fw_plan);
    CHECK(n.in(app, ping) == "ok\n");
    // An expiring rule stops applying on time, with no reload (meta time in the kernel).
    auto now = static_cast<int64_t>(::time(nullptr));
    auto saved = fw_plan.clients[0].rules;
    fw_plan.clients[0].rules.insert(
        fw_plan.clients[0].rules.begin(),
        firewall::parse_rule("action=accept proto=tcp dstports=8082 expire=+2", now).value());
    fw_plan.now = now;
    n.rules(fw2, fw_plan);
    CHECK(tcp_get(n.netns(app), kHost, 8082) == "port 8082\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(3100));
    CHECK(tcp_get(n.netns(app), kHost, 8082, "", 700) == "");
    fw_plan.clients[0].rules = saved;

    // A broken ruleset is refused and the old one stays.
    auto bad = n.hv->apply_network_rules(fw2, "table inet bulkhead {\n\tchain x { frob }\n}\n");
    CHECK(!bad);
    CHECK(tcp_get(n.netns(app), kHost, 8082) == "");
    CHECK(tcp_get(n.netns(app), kHost, 8080) == "port 8080\n");

    // The backend closing gives the uplink namespace back as it found it (forwarding off, as
    // set at the start): no longer a router, no NAT table of ours.
    CHECK(in_uplink("sysctl -n net.ipv4.ip_forward") == "1\n");
    CHECK(in_uplink("nft list tables").find("bulkhead_uplink") != std::string::npos);
    n.hv.reset();
    CHECK(in_uplink("sysctl -n net.ipv4.ip_forward") == "0\n");
    CHECK(in_uplink("nft list tables").find("bulkhead_uplink") == std::string::npos);
}
