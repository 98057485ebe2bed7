#include <bulkhead/dom0/firewall/rule.h>

#include <bulkhead/base/text.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cstring>

namespace bulkhead::dom0::firewall {

namespace {

Error bad(std::string const& what) {
    return Error(Errc::Invalid, "invalid firewall rule: " + what);
}

Result<int> parse_prefix(std::string_view s, int max) {
    auto n = text::parse_u64(s);
    if (!n || *n > static_cast<uint64_t>(max) || s.size() > 3)
        return unexpected(bad("prefix length '" + text::escape(s) + "' out of range"));
    return static_cast<int>(*n);
}

bool is_hostname(std::string_view s) {
    if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '-')
        return false;
    size_t label = 0;
    for (char c : s) {
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok || ++label > 63)
            return false;
    }
    return true;
}

Result<DstHost> parse_dsthost(std::string_view v) {
    DstHost h;
    auto slash = v.find('/');
    std::string addr(v.substr(0, slash));
    std::array<unsigned char, 16> bin{};
    if (::inet_pton(AF_INET, addr.c_str(), bin.data()) == 1) {
        h.kind = DstHost::Kind::Ipv4;
        h.prefix =
            slash == std::string_view::npos ? 32 : TRY(parse_prefix(v.substr(slash + 1), 32));
    } else if (::inet_pton(AF_INET6, addr.c_str(), bin.data()) == 1) {
        h.kind = DstHost::Kind::Ipv6;
        h.prefix =
            slash == std::string_view::npos ? 128 : TRY(parse_prefix(v.substr(slash + 1), 128));
    } else if (slash == std::string_view::npos && is_hostname(v)) {
        h.kind = DstHost::Kind::Hostname;
        for (char c : v)
            h.address += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        return h;
    } else {
        return unexpected(bad("dsthost '" + text::escape(v) +
                              "' is not an IP address, a CIDR network or a host name"));
    }
    // Canonical network: host bits cleared, as nft and Qubes print it.
    size_t bytes = h.kind == DstHost::Kind::Ipv4 ? 4 : 16;
    for (size_t i = 0; i < bytes; ++i) {
        int keep = std::clamp(h.prefix - static_cast<int>(8 * i), 0, 8);
        bin[i] &= static_cast<unsigned char>(0xff00u >> keep);
    }
    char out[INET6_ADDRSTRLEN];
    ::inet_ntop(h.kind == DstHost::Kind::Ipv4 ? AF_INET : AF_INET6, bin.data(), out, sizeof out);
    h.address = out;
    return h;
}

Result<uint16_t> parse_port(std::string_view s) {
    auto n = text::parse_u64(s);
    if (!n || *n < 1 || *n > 65535 || s.size() > 5)
        return unexpected(bad("port '" + text::escape(s) + "' is not in 1..65535"));
    return static_cast<uint16_t>(*n);
}

Result<void> set_field(Rule& r, std::string_view key, std::string_view v, int64_t now,
                       unsigned& seen) {
    static constexpr std::array<std::string_view, 8> kKeys = {
        "action", "dsthost", "proto", "dstports", "icmptype", "specialtarget", "expire", "comment"};
    size_t idx = 0;
    while (idx < kKeys.size() && kKeys[idx] != key)
        ++idx;
    if (idx == kKeys.size())
        return unexpected(bad("unknown field '" + text::escape(key) + "'"));
    if (seen & (1u << idx))
        return unexpected(bad("field '" + std::string(key) + "' given twice"));
    seen |= 1u << idx;
    if (key == "action") {
        if (v == "accept")
            r.action = Action::Accept;
        else if (v == "drop")
            r.action = Action::Drop;
        else
            return unexpected(bad("action must be accept or drop"));
    } else if (key == "dsthost") {
        r.dsthost = TRY(parse_dsthost(v));
    } else if (key == "proto") {
        if (v == "tcp")
            r.proto = Proto::Tcp;
        else if (v == "udp")
            r.proto = Proto::Udp;
        else if (v == "icmp")
            r.proto = Proto::Icmp;
        else
            return unexpected(bad("proto must be tcp, udp or icmp"));
    } else if (key == "dstports") {
        auto dash = v.find('-');
        PortRange p;
        p.first = TRY(parse_port(v.substr(0, dash)));
        p.last = dash == std::string_view::npos ? p.first : TRY(parse_port(v.substr(dash + 1)));
        if (p.last < p.first)
            return unexpected(bad("dstports range '" + text::escape(v) + "' is reversed"));
        r.dstports = p;
    } else if (key == "icmptype") {
        auto n = text::parse_u64(v);
        if (!n || *n > 255 || v.size() > 3)
            return unexpected(bad("icmptype must be 0..255"));
        r.icmptype = static_cast<uint8_t>(*n);
    } else if (key == "specialtarget") {
        if (v != "dns")
            return unexpected(bad("specialtarget must be dns"));
        r.dns = true;
    } else if (key == "expire") {
        bool relative = !v.empty() && v[0] == '+';
        auto n = text::parse_u64(relative ? v.substr(1) : v);
        if (!n || *n > 100000000000ull)
            return unexpected(bad("expire must be a unix time or +SECONDS"));
        r.expire = relative ? now + static_cast<int64_t>(*n) : static_cast<int64_t>(*n);
    } else { // comment
        if (v.size() > 256)
            return unexpected(bad("comment longer than 256 bytes"));
        for (char c : v)
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
                return unexpected(bad("comment must be printable ASCII"));
        r.comment = std::string(v);
    }
    return {};
}

Result<void> check(Rule const& r, unsigned seen) {
    if (!(seen & 1u))
        return unexpected(bad("action= is required"));
    if (r.dstports && r.proto != Proto::Tcp && r.proto != Proto::Udp)
        return unexpected(bad("dstports needs proto=tcp or proto=udp"));
    if (r.icmptype && r.proto != Proto::Icmp)
        return unexpected(bad("icmptype needs proto=icmp"));
    if (r.dns && r.dsthost)
        return unexpected(bad("specialtarget=dns and dsthost exclude each other"));
    if (r.dns && r.proto == Proto::Icmp)
        return unexpected(bad("specialtarget=dns needs proto tcp or udp"));
    return {};
}

} // namespace

Result<Rule> parse_rule_words(std::vector<std::string> const& words, int64_t now) {
    Rule r;
    unsigned seen = 0;
    if (words.empty())
        return unexpected(bad("empty rule"));
    for (auto const& w : words) {
        auto eq = w.find('=');
        if (eq == std::string::npos)
            return unexpected(bad("'" + text::escape(w) + "' is not key=value"));
        TRY(set_field(r, std::string_view(w).substr(0, eq), std::string_view(w).substr(eq + 1), now,
                      seen));
    }
    TRY(check(r, seen));
    return r;
}

Result<Rule> parse_rule(std::string_view text, int64_t now) {
    if (text.size() > 4096)
        return unexpected(bad("longer than 4096 bytes"));
    std::vector<std::string> words;
    std::string_view rest = text::trim(text);
    while (!rest.empty()) {
        if (rest.starts_with("comment=")) { // the comment takes the rest of the line
            words.emplace_back(rest);
            break;
        }
        auto sp = rest.find(' ');
        words.emplace_back(rest.substr(0, sp));
        rest = sp == std::string_view::npos ? std::string_view() : text::trim(rest.substr(sp));
    }
    return parse_rule_words(words, now);
}

std::string format_rule(Rule const& r) {
    std::string out = r.action == Action::Accept ? "action=accept" : "action=drop";
    if (r.dsthost) {
        out += " dsthost=" + r.dsthost->address;
        if (r.dsthost->kind == DstHost::Kind::Ipv4 && r.dsthost->prefix != 32)
            out += "/" + std::to_string(r.dsthost->prefix);
        if (r.dsthost->kind == DstHost::Kind::Ipv6 && r.dsthost->prefix != 128)
            out += "/" + std::to_string(r.dsthost->prefix);
    }
    static constexpr char const* kProto[] = {"", "tcp", "udp", "icmp"};
    if (r.proto != Proto::Any)
        out += std::string(" proto=") + kProto[static_cast<int>(r.proto)];
    if (r.dstports) {
        out += " dstports=" + std::to_string(r.dstports->first);
        if (r.dstports->last != r.dstports->first)
            out += "-" + std::to_string(r.dstports->last);
    }
    if (r.icmptype)
        out += " icmptype=" + std::to_string(*r.icmptype);
    if (r.dns)
        out += " specialtarget=dns";
    if (r.expire)
        out += " expire=" + std::to_string(*r.expire);
    if (!r.comment.empty())
        out += " comment=" + r.comment;
    return out;
}

std::vector<std::string> default_rules() {
    return {"action=accept"};
}

bool operator==(DstHost const& a, DstHost const& b) {
    return a.kind == b.kind && a.address == b.address && a.prefix == b.prefix;
}
bool operator==(PortRange const& a, PortRange const& b) {
    return a.first == b.first && a.last == b.last;
}
bool operator==(Rule const& a, Rule const& b) {
    return a.action == b.action && a.dsthost == b.dsthost && a.proto == b.proto &&
           a.dstports == b.dstports && a.icmptype == b.icmptype && a.dns == b.dns &&
           a.expire == b.expire && a.comment == b.comment;
}

} // namespace bulkhead::dom0::firewall
