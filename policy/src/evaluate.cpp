// evaluate(): first matching rule wins; no match denies. Qubes 4.2 semantics:
// - the requested target is normalised first (dom0 → @adminvm; a name, uuid or @dispvm:X
//   that does not exist is treated as @default, so a caller cannot probe for domains);
// - @anyvm, @tag: and @type: never match dom0; @dispvm:X / @dispvm:@tag:T also match a
//   plain @dispvm request whose source's default_dispvm is X (or is tagged T);
// - allow hands qrexec the resolved target (target= redirect, @dispvm → @dispvm:<source's
//   default_dispvm>, @adminvm → dom0); autostart=no denies when the target is not running;
// - ask offers every target that the service's rules (for this source and argument) would
//   allow or ask for, later deny rules removing earlier ones, with target= redirects taken
//   as given; @dispvm is resolved at the end, internal domains are never offered, and
//   autostart=no offers running domains only. default_target= preselects, nothing else does.
#include <bulkhead/policy/evaluate.h>

#include <algorithm>
#include <set>

namespace bulkhead::policy {

namespace {

enum class IntendedKind { Default, AdminVM, DispVM, DispVMTemplate, Domain };

struct Intended {
    IntendedKind kind = IntendedKind::Default;
    // Domain: the domain; DispVMTemplate: the template; AdminVM: dom0's entry (may be null).
    DomainInfo const* dom = nullptr;
};

constexpr std::string_view kDispPrefix = "@dispvm:";

bool is_admin(DomainInfo const& d) {
    return d.type == DomainType::AdminVM;
}

bool is_running(DomainInfo const& d) {
    return is_admin(d) || d.power_state == "Running";
}

// The template a plain @dispvm from `src` would use, or nullptr when it has none.
DomainInfo const* default_dispvm(DomainInfo const& src, SystemInfo const& info) {
    if (!src.default_dispvm)
        return nullptr;
    auto const* d = info.find(*src.default_dispvm);
    return d && d->template_for_dispvms ? d : nullptr;
}

bool match_source(Token const& t, DomainInfo const& src, SystemInfo const& info) {
    bool admin = is_admin(src);
    switch (t.kind) {
    case TokenKind::AnyVM:
        return !admin;
    case TokenKind::AdminVM:
        return admin;
    case TokenKind::DispVMTemplate: // a disposable of that template
        return src.type == DomainType::DispVM && src.default_dispvm &&
               *src.default_dispvm == t.value;
    case TokenKind::DispVMTag: {
        if (src.type != DomainType::DispVM || !src.default_dispvm)
            return false;
        auto const* tpl = info.find(*src.default_dispvm);
        return tpl && tpl->has_tag(t.value);
    }
    case TokenKind::Tag:
        return !admin && src.has_tag(t.value);
    case TokenKind::Type:
        return !admin && domain_type_name(src.type) == t.value;
    case TokenKind::Uuid:
        return !src.uuid.empty() && src.uuid == t.value;
    case TokenKind::Name:
        return src.name == t.value;
    case TokenKind::Default:
    case TokenKind::DispVM:
        return false;
    }
    return false;
}

bool match_target(Token const& t, Intended const& it, DomainInfo const& src,
                  SystemInfo const& info) {
    bool dom = it.kind == IntendedKind::Domain;
    switch (t.kind) {
    case TokenKind::AnyVM:
        return it.kind != IntendedKind::AdminVM;
    case TokenKind::AdminVM:
        return it.kind == IntendedKind::AdminVM;
    case TokenKind::Default:
        return it.kind == IntendedKind::Default;
    case TokenKind::DispVM:
        return it.kind == IntendedKind::DispVM;
    case TokenKind::DispVMTemplate:
        if (it.kind == IntendedKind::DispVMTemplate)
            return it.dom->name == t.value;
        if (it.kind == IntendedKind::DispVM) {
            auto const* tpl = default_dispvm(src, info);
            return tpl && tpl->name == t.value;
        }
        return false;
    case TokenKind::DispVMTag:
        if (it.kind == IntendedKind::DispVMTemplate)
            return it.dom->has_tag(t.value);
        if (it.kind == IntendedKind::DispVM) {
            auto const* tpl = default_dispvm(src, info);
            return tpl && tpl->has_tag(t.value);
        }
        return false;
    case TokenKind::Tag:
        return dom && it.dom->has_tag(t.value);
    case TokenKind::Type:
        return dom && domain_type_name(it.dom->type) == t.value;
    case TokenKind::Uuid:
        return (dom || it.kind == IntendedKind::AdminVM) && it.dom && !it.dom->uuid.empty() &&
               it.dom->uuid == t.value;
    case TokenKind::Name:
        return dom && it.dom->name == t.value;
    }
    return false;
}

bool match_argument(Rule const& r, Request const& req) {
    return !r.argument || *r.argument == req.argument;
}

Intended domain_target(DomainInfo const* d) {
    Intended it;
    if (!d)
        return it; // unknown: @default
    it.kind = is_admin(*d) ? IntendedKind::AdminVM : IntendedKind::Domain;
    it.dom = d;
    return it;
}

// The request's target, normalised. Anything invalid or unknown becomes @default.
Intended intended(std::string_view t, SystemInfo const& info) {
    Intended it;
    if (t.empty() || t == "@default")
        return it;
    if (t == "dom0" || t == "@adminvm") {
        it.kind = IntendedKind::AdminVM;
        it.dom = info.find("dom0");
        return it;
    }
    if (t == "@dispvm") {
        it.kind = IntendedKind::DispVM;
        return it;
    }
    if (t.substr(0, kDispPrefix.size()) == kDispPrefix) {
        auto const* d = info.find(t.substr(kDispPrefix.size()));
        if (d && d->template_for_dispvms && !is_admin(*d)) {
            it.kind = IntendedKind::DispVMTemplate;
            it.dom = d;
        }
        return it;
    }
    if (t.substr(0, 5) == "uuid:")
        return domain_target(info.find_uuid(t.substr(5)));
    if (t[0] == '@')
        return it;
    return domain_target(info.find(t));
}

// Every target a token stands for, as Qubes' expand(): domain names, "@adminvm",
// "@dispvm" (resolved later) and "@dispvm:TEMPLATE".
void expand(Token const& t, SystemInfo const& info, std::vector<std::string>& out) {
    auto named = [&](DomainInfo const* d) {
        if (d)
            out.push_back(is_admin(*d) ? std::string("@adminvm") : d->name);
    };
    switch (t.kind) {
    case TokenKind::AnyVM:
        for (auto const& d : info.domains()) {
            if (is_admin(d))
                continue;
            out.push_back(d.name);
            if (d.template_for_dispvms)
                out.push_back(std::string(kDispPrefix) + d.name);
        }
        out.push_back("@dispvm");
        return;
    case TokenKind::AdminVM:
        out.push_back("@adminvm");
        return;
    case TokenKind::Default:
        return;
    case TokenKind::DispVM:
        out.push_back("@dispvm");
        return;
    case TokenKind::DispVMTemplate: {
        auto const* d = info.find(t.value);
        if (d && d->template_for_dispvms && !is_admin(*d))
            out.push_back(std::string(kDispPrefix) + d->name);
        return;
    }
    case TokenKind::DispVMTag:
        for (auto const& d : info.domains())
            if (d.template_for_dispvms && !is_admin(d) && d.has_tag(t.value))
                out.push_back(std::string(kDispPrefix) + d.name);
        return;
    case TokenKind::Tag:
    case TokenKind::Type:
        for (auto const& d : info.domains()) {
            if (is_admin(d))
                continue;
            bool m =
                t.kind == TokenKind::Tag ? d.has_tag(t.value) : domain_type_name(d.type) == t.value;
            if (m)
                out.push_back(d.name);
        }
        return;
    case TokenKind::Uuid:
        named(info.find_uuid(t.value));
        return;
    case TokenKind::Name:
        named(info.find(t.value));
        return;
    }
}

// An expanded target as qrexec gets it: @adminvm → dom0, @dispvm → @dispvm:<default>;
// empty when it cannot be resolved.
std::string resolve(std::string const& t, DomainInfo const& src, SystemInfo const& info) {
    if (t == "@adminvm")
        return "dom0";
    if (t == "@dispvm") {
        auto const* tpl = default_dispvm(src, info);
        return tpl ? std::string(kDispPrefix) + tpl->name : std::string();
    }
    return t;
}

// The domain behind a resolved target (the template for @dispvm:X).
DomainInfo const* target_domain(std::string_view t, SystemInfo const& info) {
    if (t.substr(0, kDispPrefix.size()) == kDispPrefix)
        t.remove_prefix(kDispPrefix.size());
    return info.find(t);
}

// Whether ask may offer a resolved target.
bool offerable(std::string const& t, bool autostart, SystemInfo const& info) {
    auto const* d = target_domain(t, info);
    if (d && d->internal)
        return false;
    if (autostart)
        return true;
    bool disp = t.substr(0, kDispPrefix.size()) == kDispPrefix;
    return !disp && (t == "dom0" || (d && is_running(*d)));
}

// One concrete target of a target=/default_target= token; empty when there is none.
std::string resolve_token(Token const& t, DomainInfo const& src, SystemInfo const& info) {
    std::vector<std::string> one;
    expand(t, info, one);
    return one.size() == 1 ? resolve(one[0], src, info) : std::string();
}

Decision ask(Policy const& policy, Rule const& rule, Request const& req, DomainInfo const& src,
             SystemInfo const& info) {
    Action const& a = rule.action;
    std::set<std::string> raw;
    std::vector<std::string> buf;
    if (a.target) {
        expand(*a.target, info, buf);
        raw.insert(buf.begin(), buf.end());
    } else {
        // Later rules first, so that a deny removes what only later rules would grant.
        auto const& idx = policy.rules_for(req.service);
        for (auto i = idx.rbegin(); i != idx.rend(); ++i) {
            Rule const& r = policy.rules()[*i];
            if (!match_argument(r, req) || !match_source(r.source, src, info))
                continue;
            buf.clear();
            bool deny = r.action.kind == ActionKind::Deny;
            expand(!deny && r.action.target ? *r.action.target : r.target, info, buf);
            for (auto& s : buf) {
                if (deny)
                    raw.erase(s);
                else
                    raw.insert(std::move(s));
            }
        }
    }
    std::set<std::string> targets;
    for (auto const& t : raw) {
        std::string r = resolve(t, src, info);
        if (!r.empty() && offerable(r, a.autostart, info))
            targets.insert(std::move(r));
    }
    if (targets.empty())
        return Deny{true};
    Ask out;
    out.targets.assign(targets.begin(), targets.end());
    if (a.default_target) {
        std::string def = resolve_token(*a.default_target, src, info);
        if (targets.count(def))
            out.default_target = std::move(def);
    }
    out.user = a.user;
    out.autostart = a.autostart;
    out.notify = a.notify;
    return out;
}

Decision allow(Action const& a, Intended const& it, DomainInfo const& src, SystemInfo const& info) {
    std::string target;
    if (a.target) {
        target = resolve_token(*a.target, src, info);
    } else {
        switch (it.kind) {
        case IntendedKind::Default:
            break; // neither caller nor policy names a target
        case IntendedKind::AdminVM:
            target = "dom0";
            break;
        case IntendedKind::DispVM:
            target = resolve("@dispvm", src, info);
            break;
        case IntendedKind::DispVMTemplate:
            target = std::string(kDispPrefix) + it.dom->name;
            break;
        case IntendedKind::Domain:
            target = it.dom->name;
            break;
        }
    }
    if (target.empty())
        return Deny{true};
    if (!a.autostart && target != "dom0") {
        // autostart=no: only a running domain; a new disposable is never running.
        bool disp = target.compare(0, kDispPrefix.size(), kDispPrefix) == 0;
        auto const* d = disp ? nullptr : info.find(target);
        if (!d || !is_running(*d))
            return Deny{a.notify};
    }
    return Allow{std::move(target), a.user, a.autostart, a.notify};
}

bool valid_request_service(std::string_view s) {
    if (s.empty() || s.size() > 64)
        return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    return true;
}

} // namespace

Decision evaluate(Policy const& policy, Request const& req, SystemInfo const& info) {
    if (!valid_request_service(req.service))
        return Deny{true};
    DomainInfo const* src = info.find(req.source == "@adminvm" ? std::string_view("dom0")
                                                               : std::string_view(req.source));
    if (!src)
        return Deny{true};
    Intended it = intended(req.target, info);
    for (uint32_t i : policy.rules_for(req.service)) {
        Rule const& r = policy.rules()[i];
        if (!match_argument(r, req) || !match_source(r.source, *src, info) ||
            !match_target(r.target, it, *src, info))
            continue;
        switch (r.action.kind) {
        case ActionKind::Deny:
            return Deny{r.action.notify};
        case ActionKind::Ask:
            return ask(policy, r, req, *src, info);
        case ActionKind::Allow:
            return allow(r.action, it, *src, info);
        }
    }
    return Deny{true};
}

namespace {
bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}
bool argument_chars(std::string_view argument) {
    return std::all_of(argument.begin(), argument.end(),
                       [](char c) { return name_char(c) || c == '+'; });
}
} // namespace

bool valid_service_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), name_char);
}

bool valid_service_argument(std::string_view argument) {
    return argument.size() <= 64 && argument_chars(argument);
}

bool valid_service_call(std::string_view service_and_arg) {
    auto plus = service_and_arg.find('+');
    if (plus == std::string_view::npos)
        return valid_service_name(service_and_arg);
    // A longer argument than a policy file can name is still a call: only '*' rules match it.
    return valid_service_name(service_and_arg.substr(0, plus)) &&
           argument_chars(service_and_arg.substr(plus + 1));
}

Request make_request(std::string source, std::string target, std::string_view service_and_arg) {
    Request r;
    auto plus = service_and_arg.find('+');
    r.service = std::string(service_and_arg.substr(0, plus));
    if (plus != std::string_view::npos)
        r.argument = std::string(service_and_arg.substr(plus + 1));
    r.source = std::move(source);
    r.target = std::move(target);
    return r;
}

std::string format_decision(Decision const& d) {
    auto yn = [](bool b) { return b ? "yes" : "no"; };
    auto user = [](std::string const& u) { return u.empty() ? std::string("DEFAULT") : u; };
    if (auto const* a = std::get_if<Allow>(&d))
        return "allow target=" + a->target + " user=" + user(a->user) +
               " autostart=" + yn(a->autostart) + " notify=" + yn(a->notify);
    if (auto const* n = std::get_if<Deny>(&d))
        return std::string("deny notify=") + yn(n->notify);
    auto const& k = std::get<Ask>(d);
    std::string targets;
    for (auto const& t : k.targets) {
        if (!targets.empty())
            targets += ',';
        targets += t;
    }
    return "ask default_target=" + k.default_target.value_or("-") + " targets=" + targets +
           " user=" + user(k.user) + " autostart=" + yn(k.autostart) + " notify=" + yn(k.notify);
}

} // namespace bulkhead::policy
