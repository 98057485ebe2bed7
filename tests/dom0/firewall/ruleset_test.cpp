// The netvm ruleset: exact statements per rule, the table's shape, and the generated text
// loaded by the real nft in a private network namespace (atomic replacement included).
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/firewall/ruleset.h>

#include <catch2/catch.hpp>

using namespace bulkhead;
using namespace bulkhead::dom0::firewall;

namespace {
std::vector<Rule> rules(std::vector<std::string> const& texts) {
    std::vector<Rule> out;
    for (auto const& t : texts)
        out.push_back(parse_rule(t, 1000).value());
    return out;
}
Resolver fake_resolver() {
    return [](std::string const& host) -> Result<std::vector<std::string>> {
        if (host == "web.test")
            return std::vector<std::string>{"192.0.2.20", "192.0.2.10", "192.0.2.20"};
        return unexpected(Errc::NotFound, "unknown host");
    };
}
NetvmPlan sample_plan() {
    NetvmPlan p;
    p.dns = {"10.136.0.1"};
    p.now = 1000;
    p.clients.push_back(
        {"vif7.0", "10.137.0.7",
         rules({"action=drop proto=tcp dstports=25", "action=accept specialtarget=dns",
                "action=accept dsthost=web.test proto=tcp dstports=80-443",
                "action=accept dsthost=10.0.0.0/8 expire=5000",
                "action=accept proto=icmp icmptype=8"})});
    p.clients.push_back({"vif3.0", "10.137.0.3", rules({"action=accept"})});
    return p;
}
// Runs nft in a fresh network namespace: the script loads `first`, then `second`, then
// lists the ruleset.
sys::RunOutput nft_in_netns(std::string const& first, std::string const& second = "") {
    auto dir = "/tmp/bh-nft-" + std::to_string(::getpid());
    REQUIRE(sys::mkdir_p(dir));
    REQUIRE(sys::write_file_atomic(dir + "/a.nft", first));
    REQUIRE(sys::write_file_atomic(dir + "/b.nft", second));
    auto script = "nft -f " + dir + "/a.nft || exit 3; " +
                  (second.empty() ? "" : "nft -f " + dir + "/b.nft && exit 4; ") +
                  "nft list table inet bulkhead";
    auto r = sys::run({"unshare", "--net", "sh", "-c", script});
    (void)sys::remove_tree(dir);
    REQUIRE(r);
    return *r;
}
} // namespace

TEST_CASE("ruleset: one statement per rule, default drop last") {
    auto body = client_statements(sample_plan().clients[0].rules, 1000, fake_resolver());
    REQUIRE(body);
    std::vector<std::string> want = {
        "tcp dport 25 drop",
        "ct original ip daddr { 10.139.1.1, 10.139.1.2 } meta l4proto { tcp, udp } th dport 53 "
        "accept",
        "ip daddr { 192.0.2.10, 192.0.2.20 } tcp dport 80-443 accept",
        "ip daddr 10.0.0.0/8 meta time < 5000 accept",
        "meta l4proto icmp icmp type 8 accept",
        "drop"};
    CHECK(*body == want);
    // Expired rules are left out; a host name that does not resolve is an error.
    auto later = client_statements(sample_plan().clients[0].rules, 6000, fake_resolver());
    REQUIRE(later);
    CHECK(later->size() == 5);
    auto unresolved =
        client_statements(rules({"action=accept dsthost=nowhere.test"}), 0, fake_resolver());
    CHECK(!unresolved);
}

TEST_CASE("ruleset: table shape (replace idiom, anti-spoofing, DNS, masquerade)") {
    std::vector<std::string> errors;
    auto text = netvm_ruleset(sample_plan(), fake_resolver(), &errors);
    CHECK(errors.empty());
    CHECK(text.starts_with(
        "table inet bulkhead\ndelete table inet bulkhead\ntable inet bulkhead {\n"));
    auto has = [&](std::string const& s) { return text.find(s) != std::string::npos; };
    CHECK(has("iifname \"vif3.0\" ip saddr 10.137.0.3 accept\n"));
    CHECK(has("iifname \"vif7.0\" ip saddr 10.137.0.7 accept\n"));
    CHECK(has("iifname \"vif*\" drop\n"));
    CHECK(text.find("vif3.0\" jump") < text.find("vif7.0\" jump")); // sorted
    CHECK(has("ip daddr 10.139.1.1 meta l4proto { tcp, udp } th dport 53 dnat ip to 10.136.0.1"));
    CHECK(has("ip daddr 10.139.1.2 meta l4proto { tcp, udp } th dport 53 dnat ip to 10.136.0.1"));
    CHECK(has("oifname \"eth0\" masquerade"));
    // No uplink DNS: no DNAT; no uplink: no masquerade; an unresolvable name: drop all.
    auto p = sample_plan();
    p.dns.clear();
    p.uplink.clear();
    p.clients[1].rules = rules({"action=accept dsthost=nowhere.test", "action=accept"});
    errors.clear();
    text = netvm_ruleset(p, fake_resolver(), &errors);
    CHECK(!has("dnat"));
    CHECK(!has("masquerade"));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("vif3.0: dsthost nowhere.test does not resolve") == 0);
    CHECK(has("\tchain client_vif3_0 {\n\t\tdrop\n\t}\n"));
    CHECK(address_for_qid(5) == "10.137.0.5");
    CHECK(address_for_qid(300) == "10.137.1.44");
}

TEST_CASE("ruleset: nft loads it, and a failing replacement keeps the old table", "[root]") {
    auto text = netvm_ruleset(sample_plan(), fake_resolver());
    auto r = nft_in_netns(text);
    INFO(r.err);
    REQUIRE(r.status.code == 0);
    CHECK(r.out.find("tcp dport 25 drop") != std::string::npos);
    CHECK(r.out.find("dnat ip to 10.136.0.1") != std::string::npos);
    // The same table again, then a broken one: the second load fails as a whole.
    auto broken = text;
    broken.replace(broken.find("tcp dport 25 drop"), 17, "tcp dport 25 dorp");
    r = nft_in_netns(text, broken);
    INFO(r.err);
    REQUIRE(r.status.code == 0);
    CHECK(r.out.find("tcp dport 25 drop") != std::string::npos);
    CHECK(r.out.find("client_vif7_0") != std::string::npos);
}
