// One firewall rule of a domain, in Qubes' text form ("action=accept dsthost=10.0.0.0/8
// proto=tcp dstports=80-443 comment=web"). Callers: the store (validates and keeps the
// canonical text), qvm-firewall (parses what the user typed), the ruleset generator.
// Input text is untrusted user text: parse_rule is the only way in.
#pragma once

#include <bulkhead/base/result.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::dom0::firewall {

enum class Action { Accept, Drop };
enum class Proto { Any, Tcp, Udp, Icmp };

struct DstHost {
    enum class Kind { Ipv4, Ipv6, Hostname };
    Kind kind = Kind::Ipv4;
    std::string address; // canonical address (no prefix) or lower-case hostname
    int prefix = 32;     // Ipv4: 0..32, Ipv6: 0..128; Hostname: unused
};

struct PortRange {
    uint16_t first = 0;
    uint16_t last = 0;
};

struct Rule {
    Action action = Action::Accept;
    std::optional<DstHost> dsthost;
    Proto proto = Proto::Any;
    std::optional<PortRange> dstports; // tcp/udp only
    std::optional<uint8_t> icmptype;   // icmp only
    bool dns = false;                  // specialtarget=dns
    std::optional<int64_t> expire;     // unix time after which the rule no longer applies
    std::string comment;               // printable, at most 256 bytes; always last
};

// Parses one rule. `now` turns "expire=+N" (seconds from now) into an absolute time.
// Fields are space-separated key=value; comment= takes the rest of the text.
Result<Rule> parse_rule(std::string_view text, int64_t now);
// As parse_rule, from separate key=value words (qvm-firewall's arguments).
Result<Rule> parse_rule_words(std::vector<std::string> const& words, int64_t now);
// The canonical text (fields in Qubes' order); parse_rule(format_rule(r)) == r.
std::string format_rule(Rule const& r);

// A domain's list when it never had one set (and what `qvm-firewall reset` stores).
std::vector<std::string> default_rules();

bool operator==(DstHost const& a, DstHost const& b);
bool operator==(PortRange const& a, PortRange const& b);
bool operator==(Rule const& a, Rule const& b);

} // namespace bulkhead::dom0::firewall
