// Firewall rules: Qubes' fields, validation, canonical text (round trip), expiry.
#include <bulkhead/dom0/firewall/rule.h>

#include <catch2/catch.hpp>

using namespace bulkhead::dom0::firewall;

namespace {
std::string canon(std::string const& text) {
    auto r = parse_rule(text, 1000);
    INFO(text << (r ? "" : " -> " + r.error().message()));
    REQUIRE(r);
    auto again = parse_rule(format_rule(*r), 1000);
    REQUIRE(again);
    CHECK(*again == *r);
    return format_rule(*r);
}
std::string error_of(std::string const& text) {
    auto r = parse_rule(text, 1000);
    INFO(text);
    REQUIRE(!r);
    return r.error().message();
}
} // namespace

TEST_CASE("firewall rules: every Qubes field, canonical order") {
    CHECK(canon("action=accept") == "action=accept");
    CHECK(canon("action=drop") == "action=drop");
    CHECK(canon("proto=tcp dstports=443 dsthost=93.184.216.34 action=accept") ==
          "action=accept dsthost=93.184.216.34 proto=tcp dstports=443");
    CHECK(canon("action=accept dsthost=10.1.2.3/8") == "action=accept dsthost=10.0.0.0/8");
    CHECK(canon("action=accept dsthost=10.1.2.3/32") == "action=accept dsthost=10.1.2.3");
    CHECK(canon("action=drop dsthost=2001:DB8::1") == "action=drop dsthost=2001:db8::1");
    CHECK(canon("action=drop dsthost=2001:db8::1/32") == "action=drop dsthost=2001:db8::/32");
    CHECK(canon("action=accept dsthost=Example.ORG") == "action=accept dsthost=example.org");
    CHECK(canon("action=accept proto=udp dstports=1000-2000") ==
          "action=accept proto=udp dstports=1000-2000");
    CHECK(canon("action=accept proto=tcp dstports=80-80") == "action=accept proto=tcp dstports=80");
    CHECK(canon("action=accept proto=icmp icmptype=8") == "action=accept proto=icmp icmptype=8");
    CHECK(canon("action=accept specialtarget=dns") == "action=accept specialtarget=dns");
    CHECK(canon("action=accept specialtarget=dns proto=udp") ==
          "action=accept proto=udp specialtarget=dns");
    CHECK(canon("action=accept expire=+60") == "action=accept expire=1060");
    CHECK(canon("action=accept expire=5000") == "action=accept expire=5000");
    CHECK(canon("action=drop comment=no  web, please = thanks") ==
          "action=drop comment=no  web, please = thanks");
    CHECK(canon("  action=accept   proto=tcp  ") == "action=accept proto=tcp");
}

TEST_CASE("firewall rules: refusals name the problem") {
    CHECK(error_of("").find("empty") != std::string::npos);
    CHECK(error_of("proto=tcp").find("action= is required") != std::string::npos);
    CHECK(error_of("action=reject").find("accept or drop") != std::string::npos);
    CHECK(error_of("action=accept action=drop").find("twice") != std::string::npos);
    CHECK(error_of("action=accept frob=1").find("unknown field") != std::string::npos);
    CHECK(error_of("action=accept tcp").find("key=value") != std::string::npos);
    CHECK(error_of("action=accept proto=sctp").find("tcp, udp or icmp") != std::string::npos);
    CHECK(error_of("action=accept dstports=80").find("needs proto") != std::string::npos);
    CHECK(error_of("action=accept proto=icmp dstports=80").find("needs proto") !=
          std::string::npos);
    CHECK(error_of("action=accept proto=tcp icmptype=8").find("needs proto=icmp") !=
          std::string::npos);
    CHECK(error_of("action=accept proto=tcp dstports=0").find("1..65535") != std::string::npos);
    CHECK(error_of("action=accept proto=tcp dstports=65536").find("1..65535") != std::string::npos);
    CHECK(error_of("action=accept proto=tcp dstports=90-80").find("reversed") != std::string::npos);
    CHECK(error_of("action=accept proto=tcp dstports=-80").find("1..65535") != std::string::npos);
    CHECK(error_of("action=accept proto=icmp icmptype=256").find("0..255") != std::string::npos);
    CHECK(error_of("action=accept dsthost=10.0.0.0/33").find("prefix") != std::string::npos);
    CHECK(error_of("action=accept dsthost=1.2.3.4.5/8").find("dsthost") != std::string::npos);
    CHECK(error_of("action=accept dsthost=a..b").find("dsthost") != std::string::npos);
    CHECK(error_of("action=accept dsthost=a;b").find("dsthost") != std::string::npos);
    CHECK(error_of("action=accept dsthost=\"x\"").find("dsthost") != std::string::npos);
    CHECK(error_of("action=accept specialtarget=ntp").find("dns") != std::string::npos);
    CHECK(error_of("action=accept specialtarget=dns dsthost=1.1.1.1").find("exclude") !=
          std::string::npos);
    CHECK(error_of("action=accept expire=soon").find("expire") != std::string::npos);
    CHECK(error_of("action=accept comment=tab\there").find("printable") != std::string::npos);
}

TEST_CASE("firewall rules: words as qvm-firewall passes them") {
    auto r = parse_rule_words({"action=accept", "proto=tcp", "dstports=22", "comment=ssh out"}, 0);
    REQUIRE(r);
    CHECK(format_rule(*r) == "action=accept proto=tcp dstports=22 comment=ssh out");
    CHECK(default_rules() == std::vector<std::string>{"action=accept"});
}
