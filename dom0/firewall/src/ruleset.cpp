#include <bulkhead/dom0/firewall/ruleset.h>

#include <algorithm>

namespace bulkhead::dom0::firewall {

namespace {

std::string host_match(DstHost const& h, Resolver const& resolve, Result<void>& status) {
    switch (h.kind) {
    case DstHost::Kind::Ipv4:
        return "ip daddr " + h.address + (h.prefix == 32 ? "" : "/" + std::to_string(h.prefix));
    case DstHost::Kind::Ipv6:
        return "ip6 daddr " + h.address + (h.prefix == 128 ? "" : "/" + std::to_string(h.prefix));
    case DstHost::Kind::Hostname:
        break;
    }
    auto addrs =
        resolve ? resolve(h.address)
                : Result<std::vector<std::string>>(unexpected(Errc::Unsupported, "no resolver"));
    if (!addrs || addrs->empty()) {
        status = unexpected(Errc::NotFound,
                            "dsthost " + h.address + " does not resolve" +
                                (addrs ? std::string() : ": " + addrs.error().message()));
        return {};
    }
    std::sort(addrs->begin(), addrs->end());
    addrs->erase(std::unique(addrs->begin(), addrs->end()), addrs->end());
    std::string set;
    for (auto const& a : *addrs)
        set += (set.empty() ? "" : ", ") + a;
    return "ip daddr { " + set + " }";
}

std::string ports(PortRange const& p) {
    return std::to_string(p.first) + (p.last == p.first ? "" : "-" + std::to_string(p.last));
}

// A chain name from an interface name (nft identifiers: no dots needed).
std::string chain_of(std::string const& vif) {
    std::string out = "client_";
    for (char c : vif)
        out += (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
    return out;
}

} // namespace

std::string address_for_qid(int64_t qid) {
    auto q = static_cast<uint64_t>(qid) & 0xffff;
    return "10.137." + std::to_string(q >> 8) + "." + std::to_string(q & 0xff);
}

Result<std::vector<std::string>> client_statements(std::vector<Rule> const& rules, int64_t now,
                                                   Resolver const& resolve) {
    std::vector<std::string> out;
    for (auto const& r : rules) {
        if (r.expire && *r.expire <= now)
            continue;
        std::vector<std::string> m;
        Result<void> status = {};
        if (r.dsthost)
            m.push_back(host_match(*r.dsthost, resolve, status));
        TRY(status);
        if (r.dns) {
            m.push_back(std::string("ct original ip daddr { ") + kDnsPrimary + ", " +
                        kDnsSecondary + " }");
            if (r.proto == Proto::Tcp)
                m.push_back("tcp dport 53");
            else if (r.proto == Proto::Udp)
                m.push_back("udp dport 53");
            else
                m.push_back("meta l4proto { tcp, udp } th dport 53");
        }
        char const* proto = r.proto == Proto::Tcp    ? "tcp"
                            : r.proto == Proto::Udp  ? "udp"
                            : r.proto == Proto::Icmp ? "icmp"
                                                     : nullptr;
        if (proto && r.dstports)
            m.push_back(std::string(proto) + " dport " + ports(*r.dstports));
        else if (proto && !r.dns)
            m.push_back(std::string("meta l4proto ") + proto);
        if (r.icmptype)
            m.push_back("icmp type " + std::to_string(*r.icmptype));
        if (r.expire)
            m.push_back("meta time < " + std::to_string(*r.expire));
        m.push_back(r.action == Action::Accept ? "accept" : "drop");
        std::string line;
        for (auto const& part : m)
            line += (line.empty() ? "" : " ") + part;
        out.push_back(std::move(line));
    }
    out.push_back("drop"); // default after the list
    return out;
}

std::string netvm_ruleset(NetvmPlan const& plan, Resolver const& resolve,
                          std::vector<std::string>* errors) {
    auto clients = plan.clients;
    std::sort(clients.begin(), clients.end(),
              [](Client const& a, Client const& b) { return a.vif < b.vif; });
    std::string t = kTableName;
    std::string s;
    // Create-if-missing, delete, define: one transaction that replaces the whole table.
    s += "table inet " + t + "\ndelete table inet " + t + "\ntable inet " + t + " {\n";

    // Anti-spoofing: a client's packets carry its own address, or they are dropped (as is
    // anything from an interface that is not a known client's, and all of IPv6).
    s += "\tchain antispoof {\n\t\ttype filter hook prerouting priority raw; policy accept;\n";
    for (auto const& c : clients)
        s += "\t\tiifname \"" + c.vif + "\" ip saddr " + c.address + " accept\n";
    s += "\t\tiifname \"vif*\" drop\n\t}\n";

    // The netvm itself answers clients only for ICMP and its own connections.
    s += "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
         "\t\tiifname \"vif*\" ct state established,related accept\n"
         "\t\tiifname \"vif*\" meta l4proto icmp accept\n"
         "\t\tiifname \"vif*\" drop\n\t}\n";

    s += "\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n"
         "\t\tct state established,related accept\n"
         "\t\tiifname \"vif*\" oifname \"vif*\" drop\n";
    for (auto const& c : clients)
        s += "\t\tiifname \"" + c.vif + "\" jump " + chain_of(c.vif) + "\n";
    s += "\t}\n";
    for (auto const& c : clients) {
        s += "\tchain " + chain_of(c.vif) + " {\n";
        auto body = client_statements(c.rules, plan.now, resolve);
        if (!body) {
            if (errors)
                errors->push_back(c.vif + ": " + body.error().message());
            body = std::vector<std::string>{"drop"};
        }
        for (auto const& line : *body)
            s += "\t\t" + line + "\n";
        s += "\t}\n";
    }

    if (!plan.dns.empty()) {
        std::string const& d1 = plan.dns[0];
        std::string const& d2 = plan.dns.size() > 1 ? plan.dns[1] : plan.dns[0];
        auto dnat = [&](std::string const& prefix) {
            return "\t\t" + prefix + "ip daddr " + kDnsPrimary +
                   " meta l4proto { tcp, udp } th dport 53 dnat ip to " + d1 + "\n" + "\t\t" +
                   prefix + "ip daddr " + kDnsSecondary +
                   " meta l4proto { tcp, udp } th dport 53 dnat ip to " + d2 + "\n";
        };
        s += "\tchain dns_clients {\n\t\ttype nat hook prerouting priority dstnat; policy "
             "accept;\n" +
             dnat("iifname \"vif*\" ") + "\t}\n";
        s += "\tchain dns_local {\n\t\ttype nat hook output priority -100; policy accept;\n" +
             dnat("") + "\t}\n";
    }
    if (!plan.uplink.empty())
        s += "\tchain uplink_nat {\n\t\ttype nat hook postrouting priority srcnat; policy "
             "accept;\n\t\toifname \"" +
             plan.uplink + "\" masquerade\n\t}\n";
    s += "}\n";
    return s;
}

} // namespace bulkhead::dom0::firewall
