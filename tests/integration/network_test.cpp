// Networking end to end on the sandbox backend (issue 7): a real bulkheadd whose uplink
// goes into a namespace this test makes (NetTestHost: TCP servers on 8080/8082 and a DNS
// server at 10.136.0.1), sys-net and sys-firewall as netvms, app domains reached with the
// real qvm-* tools and busybox inside the domains. No outside address is ever used.
#include "net_test_host.h"
#include "system.h"

#include <catch2/catch.hpp>

using bulkhead::testing::NetTestHost;
using bulkhead::testing::System;

namespace {

// What a domain sees of host:port through its netvms ("" when it cannot connect).
std::string fetch(System& s, std::string const& domain, int port) {
    auto r = s.tool(
        {"qvm-run", "-p", domain, "nc -w 2 10.136.0.1 " + std::to_string(port) + " </dev/null"});
    return r.out;
}

std::string interfaces(System& s, std::string const& domain) {
    return s.ok({"qvm-run", "-p", domain,
                 "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '"});
}

} // namespace

TEST_CASE("network: netvm chain, rules, DNS, live re-plug, netvm restart", "[integration]") {
    NetTestHost host({8080, 8082});
    System s("", {"--uplink-netns", host.netns(), "--uplink-dns", "10.136.0.1"});
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "-P", "provides_network=True", "sys-net"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "green", "--property", "provides_network=True",
          "--property", "netvm=sys-net", "sys-firewall"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "-P", "netvm=sys-firewall", "work"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "black", "offline"});

    // netvm '': no device but lo.
    CHECK(s.ok({"qvm-prefs", "offline", "netvm"}) == "\n");
    CHECK(interfaces(s, "offline") == "lo ");

    // Starting work starts its netvm chain first.
    s.ok({"qvm-start", "work"});
    auto running = s.ok({"qvm-ls", "--raw-list", "--running"});
    CHECK(running.find("sys-net") != std::string::npos);
    CHECK(running.find("sys-firewall") != std::string::npos);
    CHECK(interfaces(s, "work") == "eth0 lo ");
    CHECK(s.ok({"qvm-run", "-p", "work", "ip -o -4 addr show dev eth0 | awk '{print $4}'"})
              .find("10.137.0.") == 0);
    CHECK(fetch(s, "work", 8080) == "port 8080\n");
    CHECK(fetch(s, "work", 8082) == "port 8082\n");
    // DNS: the agent wrote the virtual pair; sys-net forwards to the host's resolver.
    CHECK(s.ok({"qvm-run", "-p", "work", "cat /etc/resolv.conf"}) ==
          "nameserver 10.139.1.1\nnameserver 10.139.1.2\n");
    auto dns = s.tool({"qvm-run", "-p", "work", "nslookup -type=a web.test"});
    INFO(dns.out << dns.err);
    CHECK(dns.out.find(bulkhead::testing::kDnsAnswer) != std::string::npos);

    // A drop rule for one port: that port blocked, the other still works (DNS too).
    s.ok({"qvm-firewall", "work", "add", "--before", "0", "action=drop", "proto=tcp",
          "dstports=8082"});
    CHECK(fetch(s, "work", 8082) == "");
    CHECK(fetch(s, "work", 8080) == "port 8080\n");
    // Default drop after the list: only DNS and 8080 allowed.
    s.ok({"qvm-firewall", "work", "del", "action=accept"});
    s.ok({"qvm-firewall", "work", "add", "action=accept", "specialtarget=dns"});
    s.ok({"qvm-firewall", "work", "add", "action=accept", "dsthost=10.136.0.0/24", "proto=tcp",
          "dstports=8080"});
    CHECK(fetch(s, "work", 8080) == "port 8080\n");
    CHECK(fetch(s, "work", 8082) == "");
    CHECK(s.tool({"qvm-run", "-p", "work", "nslookup -type=a web.test"})
              .out.find(bulkhead::testing::kDnsAnswer) != std::string::npos);

    // Live re-plug: straight onto sys-net (the rules follow: sys-net enforces them now),
    // then no network at all, then back behind sys-firewall.
    s.ok({"qvm-prefs", "work", "netvm", "sys-net"});
    CHECK(fetch(s, "work", 8080) == "port 8080\n");
    CHECK(fetch(s, "work", 8082) == "");
    s.ok({"qvm-prefs", "work", "netvm", ""});
    CHECK(interfaces(s, "work") == "lo ");
    s.ok({"qvm-prefs", "work", "netvm", "sys-firewall"});
    CHECK(fetch(s, "work", 8080) == "port 8080\n");

    // sys-firewall restarts: work is plugged in again and its rules are back. As in Qubes,
    // a netvm with running clients shuts down only with --force.
    auto refused = s.tool({"qvm-shutdown", "--wait", "sys-firewall"});
    CHECK(refused.code == 1);
    CHECK(refused.err.find("connected to this VM: work") != std::string::npos);
    s.ok({"qvm-shutdown", "--wait", "--force", "sys-firewall"});
    CHECK(interfaces(s, "work") == "lo ");
    s.ok({"qvm-start", "sys-firewall"});
    CHECK(interfaces(s, "work") == "eth0 lo ");
    CHECK(fetch(s, "work", 8080) == "port 8080\n");
    CHECK(fetch(s, "work", 8082) == "");

    // A netvm in use cannot be removed, nor lose provides_network.
    CHECK(s.tool({"qvm-remove", "-f", "sys-firewall"}).code != 0);
    CHECK(s.tool({"qvm-prefs", "sys-net", "provides_network", "False"}).code != 0);
    // A netvm loop is refused.
    CHECK(s.tool({"qvm-prefs", "sys-net", "netvm", "sys-firewall"}).code == 1);
}
