// evaluate(): first matching rule wins; no match denies. Qubes 4.2 semantics for target
// resolution (@dispvm via the source's default_dispvm, target= redirects) and for the set
// of targets an `ask` offers (every target the service's rules would allow or ask for).
#include <bulkhead/policy/evaluate.h>

#include <algorithm>
#include <set>

namespace bulkhead::policy {

namespace {

enum class IntendedKind { Default, AdminVM, DispVM, DispVMTemplate, Domain };

struct Intended {
    IntendedKind kind = IntendedKind::Default;
    DomainInfo const* dom = nullptr; // Domain: the domain; DispVMTemplate: the template
};

bool match_source(Token const& t, DomainInfo const& src, SystemInfo const& info) {
    bool admin = src.type == DomainType::AdminVM;
    switch (t.kind) {
    case TokenKind::AnyVM: return !admin;
    case TokenKind::AdminVM: return admin;
    case TokenKind::DispVMTemplate:
        return src.type == DomainType::DispVM && src.default_dispvm && *src.default_dispvm == t.value;
    case TokenKind::DispVMTag: {
        if (src.type != DomainType::DispVM || !src.default_dispvm)
            return false;
        auto const* tpl = info.find(*src.default_dispvm);
        return tpl && tpl->has_tag(t.value);
    }
    case TokenKind::Tag: return src.has_tag(t.value);
    case TokenKind::Type: return domain_type_name(src.type) == t.value;
    case TokenKind::Uuid: return !src.uuid.empty() && src.uuid == t.value;
    case TokenKind::Name: return src.name == t.value;
    case TokenKind::Default:
    case TokenKind::DispVM: return false;
    }
    return false;
}

bool match_target(Token const& t, Intended const& it) {
    bool dom = it.kind == IntendedKind::Domain;
    switch (t.kind) {
    case TokenKind::AnyVM: return it.kind != IntendedKind::AdminVM;
    case TokenKind::AdminVM: return it.kind == IntendedKind::AdminVM;
    case TokenKind::Default: return it.kind == IntendedKind::Default;
    case TokenKind::DispVM: return it.kind == IntendedKind::DispVM;
    case TokenKind::DispVMTemplate:
        return it.kind == IntendedKind::DispVMTemplate && it.dom->name == t.value;
    case TokenKind::DispVMTag:
        return it.kind == IntendedKind::DispVMTemplate && it.dom->has_tag(t.value);
    case TokenKind::Tag: return dom && it.dom->has_tag(t.value);
    case TokenKind::Type: return dom && domain_type_name(it.dom->type) == t.value;
    case TokenKind::Uuid: return dom && !it.dom->uuid.empty() && it.dom->uuid == t.value;
    case TokenKind::Name: return dom && it.dom->name == t.value;
    }
    return false;
}

bool match_argument(Rule const& r, Request const& req) {
    return !r.argument || *r.argument == req.argument;
}

// The request's target as Qubes' IntendedTarget; nullopt = invalid (deny).
std::optional<Intended> intended(std::string_view t, SystemInfo const& info) {
    Intended it;
    if (t.empty() || t == "@default")
        return it;
    if (t == "dom0" || t == "@adminvm") {
        it.kind = IntendedKind::AdminVM;
        return it;
    }
    if (t == "@dispvm") {
        it.kind = IntendedKind::DispVM;
        return it;
    }
    if (t.substr(0, 8) == "@dispvm:") {
        auto const* d = info.find(t.substr(8));
        if (!d || !d->template_for_dispvms)
            return std::nullopt;
        it.kind = IntendedKind::DispVMTemplate;
        it.dom = d;
        return it;
    }
    DomainInfo const* d = nullptr;
    if (t.substr(0, 5) == "uuid:")
        d = info.find_uuid(t.substr(5));
    else if (t[0] != '@')
        d = info.find(t);
    if (!d)
        return std::nullopt;
    if (d->type == DomainType::AdminVM) {
        it.kind = IntendedKind::AdminVM;
        return it;
    }
    it.kind = IntendedKind::Domain;
    it.dom = d;
    return it;
}

std::optional<std::string> source_dispvm(DomainInfo const& src, SystemInfo const& info) {
    if (!src.default_dispvm)
        return std::nullopt;
    auto const* d = info.find(*src.default_dispvm);
    if (!d || !d->template_for_dispvms)
        return std::nullopt;
    return "@dispvm:" + d->name;
}

// A single concrete target named by a redirect/default_target token; nullopt if none.
std::optional<std::string> resolve_token(Token const& t, DomainInfo const& src,
                                         SystemInfo const& info) {
    switch (t.kind) {
    case TokenKind::AdminVM: return std::string("dom0");
    case TokenKind::DispVM: return source_dispvm(src, info);
    case TokenKind::DispVMTemplate: {
        auto const* d = info.find(t.value);
        if (!d || !d->template_for_dispvms)
            return std::nullopt;
        return "@dispvm:" + d->name;
    }
    case TokenKind::Name: {
        auto const* d = info.find(t.value);
        if (!d)
            return std::nullopt;
        return d->type == DomainType::AdminVM ? std::string("dom0") : d->name;
    }
    case TokenKind::Uuid: {
        auto const* d = info.find_uuid(t.value);
        if (!d)
            return std::nullopt;
        return d->type == DomainType::AdminVM ? std::string("dom0") : d->name;
    }
    default: return std::nullopt;
    }
}

std::string intended_text(Intended const& it, DomainInfo const& src, SystemInfo const& info) {
    switch (it.kind) {
    case IntendedKind::AdminVM: return "dom0";
    case IntendedKind::DispVM: return source_dispvm(src, info).value_or("");
    case IntendedKind::DispVMTemplate: return "@dispvm:" + it.dom->name;
    case IntendedKind::Domain: return it.dom->name;
    case IntendedKind::Default: return "";
    }
    return "";
}

// Every concrete target a rule's target token stands for (Qubes' expand()).
void expand(Token const& t, DomainInfo const& src, SystemInfo const& info,
            std::vector<std::string>& out) {
    switch (t.kind) {
    case TokenKind::AnyVM:
        for (auto const& d : info.domains()) {
            if (d.type != DomainType::AdminVM)
                out.push_back(d.name);
            if (d.template_for_dispvms)
                out.push_back("@dispvm:" + d.name);
        }
        if (auto dv = source_dispvm(src, info))
            out.push_back(*dv);
        return;
    case TokenKind::DispVMTag:
        for (auto const& d : info.domains())
            if (d.template_for_dispvms && d.has_tag(t.value))
                out.push_back("@dispvm:" + d.name);
        return;
    case TokenKind::Tag:
    case TokenKind::Type:
        for (auto const& d : info.domains()) {
            bool m = t.kind == TokenKind::Tag ? d.has_tag(t.value)
                                              : domain_type_name(d.type) == t.value;
            if (m)
                out.push_back(d.type == DomainType::AdminVM ? std::string("dom0") : d.name);
        }
        return;
    case TokenKind::Default: return;
    default:
        if (auto r = resolve_token(t, src, info))
            out.push_back(*r);
        return;
    }
}

bool offerable(std::string const& target, SystemInfo const& info) {
    std::string_view name = target;
    if (name.substr(0, 8) == "@dispvm:")
        name.remove_prefix(8);
    auto const* d = info.find(name);
    return !d || !d->internal;
}

Decision ask(Policy const& policy, Rule const& rule, Request const& req, DomainInfo const& src,
             Intended const& it, SystemInfo const& info) {
    Action const& a = rule.action;
    std::set<std::string> targets;
    std::vector<std::string> buf;
    if (a.target) {
        expand(*a.target, src, info, buf);
        targets.insert(buf.begin(), buf.end());
    } else {
        auto const& idx = policy.rules_for(req.service);
        for (auto i = idx.rbegin(); i != idx.rend(); ++i) {
            Rule const& r = policy.rules()[*i];
            if (!match_argument(r, req) || !match_source(r.source, src, info))
                continue;
            buf.clear();
            Token const& t = (r.action.kind != ActionKind::Deny && r.action.target)
                                 ? *r.action.target
                                 : r.target;
            expand(t, src, info, buf);
            for (auto& s : buf) {
                if (r.action.kind == ActionKind::Deny)
                    targets.erase(s);
                else
                    targets.insert(s);
            }
        }
    }
    Ask out;
    for (auto const& t : targets)
        if (offerable(t, info))
            out.targets.push_back(t);
    if (out.targets.empty())
        return Deny{true};
    std::optional<std::string> def;
    if (a.default_target)
        def = resolve_token(*a.default_target, src, info);
    else if (it.kind != IntendedKind::Default)
        def = intended_text(it, src, info);
    if (def && std::binary_search(out.targets.begin(), out.targets.end(), *def))
        out.default_target = std::move(def);
    out.user = a.user;
    out.autostart = a.autostart;
    out.notify = a.notify;
    return out;
}

} // namespace

Decision evaluate(Policy const& policy, Request const& req, SystemInfo const& info) {
    DomainInfo const* src = info.find(req.source == "@adminvm" ? std::string_view("dom0")
                                                               : std::string_view(req.source));
    if (!src)
        return Deny{true};
    auto it = intended(req.target, info);
    if (!it)
        return Deny{true};
    for (uint32_t i : policy.rules_for(req.service)) {
        Rule const& r = policy.rules()[i];
        if (!match_argument(r, req) || !match_source(r.source, *src, info) ||
            !match_target(r.target, *it))
            continue;
        Action const& a = r.action;
        switch (a.kind) {
        case ActionKind::Deny: return Deny{a.notify};
        case ActionKind::Ask: return ask(policy, r, req, *src, *it, info);
        case ActionKind::Allow: {
            std::optional<std::string> target;
            if (a.target)
                target = resolve_token(*a.target, *src, info);
            else if (it->kind != IntendedKind::Default)
                target = intended_text(*it, *src, info);
            if (!target || target->empty())
                return Deny{true};
            return Allow{std::move(*target), a.user, a.autostart, a.notify};
        }
        }
    }
    return Deny{true};
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
