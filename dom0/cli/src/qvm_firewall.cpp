// qvm-firewall: a domain's firewall rules, as Qubes' tool: list (a table, or --raw rule
// strings), add [--before N] RULE..., del [--rule-no N | RULE...], reset (back to the
// single rule action=accept). Rules are numbered from 0 as in Qubes' listing. The list is
// read, changed here and written back whole; bulkheadd validates it again and its netvm
// loads it at once when the domain runs.
#include "common.h"
#include "tools.h"

#include <bulkhead/base/text.h>
#include <bulkhead/dom0/firewall/rule.h>

#include <cstdio>
#include <ctime>

namespace bulkhead::dom0::cli {

namespace {

std::vector<std::string> row(size_t n, firewall::Rule const& r) {
    auto dash = [](std::string s) { return s.empty() ? std::string("-") : s; };
    std::string host, proto, ports, icmp, expire;
    if (r.dsthost) {
        host = r.dsthost->address;
        bool full =
            r.dsthost->prefix == (r.dsthost->kind == firewall::DstHost::Kind::Ipv6 ? 128 : 32);
        if (r.dsthost->kind != firewall::DstHost::Kind::Hostname && !full)
            host += "/" + std::to_string(r.dsthost->prefix);
    }
    static constexpr char const* kProto[] = {"", "tcp", "udp", "icmp"};
    proto = kProto[static_cast<int>(r.proto)];
    if (r.dstports)
        ports =
            std::to_string(r.dstports->first) +
            (r.dstports->last != r.dstports->first ? "-" + std::to_string(r.dstports->last) : "");
    if (r.icmptype)
        icmp = std::to_string(*r.icmptype);
    if (r.expire)
        expire = std::to_string(*r.expire);
    return {std::to_string(n),    r.action == firewall::Action::Accept ? "accept" : "drop",
            dash(host),           dash(proto),
            dash(ports),          r.dns ? "dns" : "-",
            dash(icmp),           dash(expire),
            dash(safe(r.comment))};
}

} // namespace

int qvm_firewall(int argc, char** argv) {
    Args args(argv[0],
              "[options] VMNAME [list | add [--before N] RULE... | del [--rule-no N] "
              "[RULE...] | reset]",
              "Manage a domain's firewall rules.");
    args.flag("raw", 0, "list: print the rules as raw strings instead of a table")
        .flag("reload", 'r', "ignored; rules are loaded as soon as they change")
        .option("before", 0, "N", "add: insert before rule number N (default: at the end)")
        .option("rule-no", 0, "N", "del: remove rule number N")
        .epilog("RULE: key=value words: action=accept|drop (required), dsthost=IP|CIDR|HOST, "
                "proto=tcp|udp|icmp, dstports=N[-M], icmptype=N, specialtarget=dns, "
                "expire=UNIXTIME|+SECONDS, comment=TEXT. Rules are numbered from 0; "
                "anything after the last rule is dropped.");
    if (auto r = args.parse(argc, argv))
        return *r;
    auto const& pos = args.positionals();
    if (pos.empty())
        return args.usage_error("the following arguments are required: VMNAME");
    std::string cmd = pos.size() > 1 ? pos[1] : "list";
    std::vector<std::string> words(pos.size() > 2 ? pos.begin() + 2 : pos.end(), pos.end());
    if (cmd != "list" && cmd != "add" && cmd != "del" && cmd != "reset")
        return args.usage_error("argument command: invalid choice: '" + safe(cmd) +
                                "' (choose from 'add', 'del', 'list', 'reset')");
    if ((cmd == "list" || cmd == "reset") && !words.empty())
        return args.usage_error("unrecognized arguments: " + safe(words[0]));
    if (cmd == "add" && words.empty())
        return args.usage_error("the following arguments are required: RULE");
    if (cmd == "del" && words.empty() == !args.has("rule-no"))
        return args.usage_error("del needs either --rule-no N or a RULE");
    auto index = [&](std::string const& opt) -> std::optional<size_t> {
        auto n = text::parse_u64(args.value(opt));
        if (!n || *n > 100000)
            return std::nullopt;
        return static_cast<size_t>(*n);
    };
    if (args.has("before") && !index("before"))
        return args.usage_error("argument --before: invalid int value: '" +
                                safe(args.value("before")) + "'");
    if (args.has("rule-no") && !index("rule-no"))
        return args.usage_error("argument --rule-no: invalid int value: '" +
                                safe(args.value("rule-no")) + "'");
    std::optional<firewall::Rule> given;
    if (!words.empty()) {
        auto r = firewall::parse_rule_words(words, ::time(nullptr));
        if (!r)
            return args.usage_error(safe(r.error().message()));
        given = *r;
    }

    int status = 0;
    auto session = Session::open(args, &status);
    if (!session)
        return status;
    admin::Request get;
    get.mutable_firewall_get()->set_domain(pos[0]);
    auto ok = session->call(get);
    if (!ok)
        return 1;
    std::vector<std::string> rules(ok->rules().begin(), ok->rules().end());

    if (cmd == "list") {
        if (args.has("raw")) {
            for (auto const& r : rules)
                std::printf("%s\n", safe(r).c_str());
            return 0;
        }
        std::vector<std::vector<std::string>> table = {{"NO", "ACTION", "HOST", "PROTOCOL",
                                                        "PORT(S)", "SPECIAL TARGET", "ICMP TYPE",
                                                        "EXPIRE", "COMMENT"}};
        for (size_t i = 0; i < rules.size(); ++i) {
            auto r = firewall::parse_rule(rules[i], ::time(nullptr));
            if (!r)
                return args.fail("stored rule " + std::to_string(i) +
                                 " unreadable: " + safe(r.error().message()));
            table.push_back(row(i, *r));
        }
        print_table(table);
        return 0;
    }
    if (cmd == "reset") {
        rules = firewall::default_rules();
    } else if (cmd == "add") {
        size_t at = args.has("before") ? *index("before") : rules.size();
        if (at > rules.size())
            return args.fail("no rule number " + std::to_string(at) + " (the list has " +
                             std::to_string(rules.size()) + ")");
        rules.insert(rules.begin() + static_cast<long>(at), firewall::format_rule(*given));
    } else { // del
        size_t at = rules.size();
        if (args.has("rule-no")) {
            at = *index("rule-no");
        } else {
            auto text = firewall::format_rule(*given);
            for (size_t i = 0; i < rules.size() && at == rules.size(); ++i)
                if (rules[i] == text)
                    at = i;
        }
        if (at >= rules.size())
            return args.fail(args.has("rule-no") ? "no rule number " + std::to_string(at)
                                                 : "rule not found");
        rules.erase(rules.begin() + static_cast<long>(at));
    }
    admin::Request set;
    set.mutable_firewall_set()->set_domain(pos[0]);
    for (auto const& r : rules)
        set.mutable_firewall_set()->add_rules(r);
    return session->call(set) ? 0 : 1;
}

} // namespace bulkhead::dom0::cli
