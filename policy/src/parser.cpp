// Line parser for qrexec policy v5: `service +arg source target action [key=value...]`,
// `!include`, `!include-dir`, `!include-service`. Problems are collected, never thrown.
#include "parse_context.h"

#include <bulkhead/base/text.h>
#include <bulkhead/policy/evaluate.h>

#include <algorithm>

namespace bulkhead::policy {

std::string Token::text() const {
    switch (kind) {
    case TokenKind::AnyVM:
        return "@anyvm";
    case TokenKind::AdminVM:
        return "@adminvm";
    case TokenKind::Default:
        return "@default";
    case TokenKind::DispVM:
        return "@dispvm";
    case TokenKind::DispVMTemplate:
        return "@dispvm:" + value;
    case TokenKind::DispVMTag:
        return "@dispvm:@tag:" + value;
    case TokenKind::Tag:
        return "@tag:" + value;
    case TokenKind::Type:
        return "@type:" + value;
    case TokenKind::Uuid:
        return "uuid:" + value;
    case TokenKind::Name:
        return value;
    }
    return value;
}

std::string Problem::text() const {
    return file + ":" + std::to_string(line) + ": " + message;
}

namespace detail {
using namespace bulkhead::text;
namespace {

enum class Role { Source, Target, Redirect, DefaultTarget };

char const* role_name(Role r) {
    switch (r) {
    case Role::Source:
        return "source";
    case Role::Target:
        return "target";
    case Role::Redirect:
        return "target=";
    case Role::DefaultTarget:
        return "default_target=";
    }
    return "";
}

bool valid_tag(std::string_view t) {
    if (t.empty())
        return false;
    for (char c : t)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    return true;
}

bool valid_uuid(std::string_view u) {
    if (u.size() != 36)
        return false;
    for (size_t i = 0; i < u.size(); ++i) {
        char c = u[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

// Parses a token for a role; returns the error message on failure.
std::optional<Token> parse_token(std::string_view s, Role role, std::string& err) {
    Token t;
    auto only = [&](bool ok, char const* what) -> std::optional<Token> {
        if (!ok) {
            err = std::string(what) + " is not valid as " + role_name(role);
            return std::nullopt;
        }
        return t;
    };
    bool src = role == Role::Source, tgt = role == Role::Target;
    if (s == "@anyvm") {
        t.kind = TokenKind::AnyVM;
        return only(src || tgt, "@anyvm");
    }
    if (s == "@adminvm" || s == "dom0") {
        t.kind = TokenKind::AdminVM;
        return t;
    }
    if (s == "@default") {
        t.kind = TokenKind::Default;
        return only(tgt, "@default");
    }
    if (s == "@dispvm") {
        t.kind = TokenKind::DispVM;
        return only(!src, "@dispvm");
    }
    if (starts_with(s, "@dispvm:@tag:")) {
        t.kind = TokenKind::DispVMTag;
        t.value = std::string(s.substr(13));
        if (!valid_tag(t.value)) {
            err = "invalid tag in '" + std::string(s) + "'";
            return std::nullopt;
        }
        return only(src || tgt, "@dispvm:@tag:");
    }
    if (starts_with(s, "@dispvm:")) {
        t.kind = TokenKind::DispVMTemplate;
        t.value = std::string(s.substr(8));
        if (!is_valid_domain_name(t.value)) {
            err = "invalid domain name in '" + std::string(s) + "'";
            return std::nullopt;
        }
        return t;
    }
    if (starts_with(s, "@tag:")) {
        t.kind = TokenKind::Tag;
        t.value = std::string(s.substr(5));
        if (!valid_tag(t.value)) {
            err = "invalid tag in '" + std::string(s) + "'";
            return std::nullopt;
        }
        return only(src || tgt, "@tag:");
    }
    if (starts_with(s, "@type:")) {
        t.kind = TokenKind::Type;
        t.value = std::string(s.substr(6));
        if (!parse_domain_type(t.value)) {
            err = "unknown domain type in '" + std::string(s) + "'";
            return std::nullopt;
        }
        return only(src || tgt, "@type:");
    }
    if (starts_with(s, "uuid:")) {
        t.kind = TokenKind::Uuid;
        t.value = std::string(s.substr(5));
        if (!valid_uuid(t.value)) {
            err = "invalid uuid in '" + std::string(s) + "'";
            return std::nullopt;
        }
        return t;
    }
    if (!s.empty() && s[0] == '@') {
        err = "invalid keyword '" + escape(s) + "'";
        return std::nullopt;
    }
    if (!is_valid_domain_name(s)) {
        err = "invalid " + std::string(role_name(role)) + " '" + escape(s) + "'";
        return std::nullopt;
    }
    t.kind = TokenKind::Name;
    t.value = std::string(s);
    return t;
}

bool parse_action(std::vector<std::string> const& w, size_t first, Action& a, std::string& err) {
    std::string_view name = w[first];
    if (name == "allow")
        a.kind = ActionKind::Allow;
    else if (name == "deny")
        a.kind = ActionKind::Deny;
    else if (name == "ask")
        a.kind = ActionKind::Ask;
    else {
        err = "invalid action '" + escape(name) + "'";
        return false;
    }
    a.notify = a.kind == ActionKind::Deny;
    std::vector<std::string> seen;
    for (size_t i = first + 1; i < w.size(); ++i) {
        auto eq = w[i].find('=');
        if (eq == std::string::npos) {
            err = "invalid action parameter '" + escape(w[i]) + "' (expected key=value)";
            return false;
        }
        std::string key = w[i].substr(0, eq), value = w[i].substr(eq + 1);
        for (auto const& s : seen)
            if (s == key) {
                err = "duplicate parameter '" + escape(key) + "'";
                return false;
            }
        seen.push_back(key);
        bool is_deny = a.kind == ActionKind::Deny, is_ask = a.kind == ActionKind::Ask;
        auto yesno = [&](bool& out) {
            if (value == "yes")
                out = true;
            else if (value == "no")
                out = false;
            else {
                err = "invalid value for " + key + "= (expected yes or no)";
                return false;
            }
            return true;
        };
        if (key == "notify") {
            if (!yesno(a.notify))
                return false;
        } else if (key == "autostart" && !is_deny) {
            if (!yesno(a.autostart))
                return false;
        } else if (key == "user" && !is_deny) {
            if (value.size() > 64 || !valid_service_argument(value) ||
                value.find('+') != std::string::npos) {
                err = "invalid user '" + escape(value) + "'";
                return false;
            }
            a.user = value;
        } else if (key == "target" && !is_deny) {
            auto t = parse_token(value, Role::Redirect, err);
            if (!t)
                return false;
            a.target = *t;
        } else if (key == "default_target" && is_ask) {
            auto t = parse_token(value, Role::DefaultTarget, err);
            if (!t)
                return false;
            a.default_target = *t;
        } else {
            err = "invalid parameter '" + escape(key) + "' for action " + std::string(name);
            return false;
        }
    }
    return true;
}

// Absolute paths as given, relative ones against the policy directory.
std::string resolve(ParseContext const& ctx, std::string const& path) {
    if (!path.empty() && path[0] == '/')
        return path;
    return ctx.include_base + "/" + path;
}

} // namespace

void parse_text_into(ParseContext& ctx, std::string_view text, std::string const& file,
                     std::optional<ServiceScope> const& scope) {
    uint32_t lineno = 0;
    size_t pos = 0;
    ctx.out->reserve_rules(size_t(std::count(text.begin(), text.end(), '\n')) + 1);
    auto problem = [&](std::string msg) {
        ctx.problems->push_back(Problem{file, lineno, std::move(msg)});
    };
    while (pos <= text.size()) {
        size_t nl = text.find('\n', pos);
        std::string_view raw =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        ++lineno;
        if (raw.find('\0') != std::string_view::npos) {
            problem("NUL byte in line");
            continue;
        }
        std::string_view line = trim(raw);
        if (line.empty() || line[0] == '#')
            continue;
        auto w = split_ws(line);
        if (w[0][0] == '!') {
            if (scope) {
                problem("directives are not allowed in a !include-service file");
                continue;
            }
            auto target = [&](size_t idx) {
                if (ctx.include_base.empty()) {
                    problem(w[0] + " is not allowed here (text without a policy directory)");
                    return std::string();
                }
                return resolve(ctx, w[idx]);
            };
            if (w[0] == "!include" || w[0] == "!include-dir") {
                if (w.size() != 2) {
                    problem(w[0] + " takes exactly one path");
                    continue;
                }
                std::string p = target(1);
                if (p.empty())
                    continue;
                if (w[0] == "!include")
                    include_file(ctx, p, file, lineno, std::nullopt);
                else
                    include_dir(ctx, p, file, lineno);
            } else if (w[0] == "!include-service") {
                if (w.size() != 4) {
                    problem("!include-service takes SERVICE ARGUMENT PATH");
                    continue;
                }
                ServiceScope sc;
                if (w[1] != "*" && !valid_service_name(w[1])) {
                    problem("invalid service '" + escape(w[1]) + "'");
                    continue;
                }
                sc.service = w[1];
                if (w[2] != "*") {
                    if (w[2][0] != '+' || !valid_service_argument(w[2].substr(1))) {
                        problem("invalid argument '" + escape(w[2]) + "'");
                        continue;
                    }
                    sc.argument = w[2].substr(1);
                }
                if (sc.service == "*" && sc.argument) {
                    problem("only * argument is allowed with * service");
                    continue;
                }
                std::string p = target(3);
                if (!p.empty())
                    include_file(ctx, p, file, lineno, sc);
            } else {
                problem("invalid directive '" + escape(w[0]) + "'");
            }
            continue;
        }
        Rule r;
        r.file = file;
        r.line = lineno;
        size_t first = 0;
        if (scope) {
            r.service = scope->service;
            r.argument = scope->argument;
            if (w.size() < 3) {
                problem("wrong number of fields (expected: source target action [params])");
                continue;
            }
        } else {
            if (w.size() < 5) {
                problem("wrong number of fields (expected: service argument source target "
                        "action [params])");
                continue;
            }
            if (w[0] != "*" && !valid_service_name(w[0])) {
                problem("invalid service '" + escape(w[0]) + "'");
                continue;
            }
            r.service = w[0];
            if (w[1] != "*") {
                if (w[1][0] != '+' || !valid_service_argument(w[1].substr(1))) {
                    problem("invalid argument '" + escape(w[1]) + "' (expected * or +ARGUMENT)");
                    continue;
                }
                r.argument = w[1].substr(1);
            }
            if (r.service == "*" && r.argument) {
                problem("only * argument is allowed with * service");
                continue;
            }
            first = 2;
        }
        std::string err;
        auto src = parse_token(w[first], Role::Source, err);
        if (!src) {
            problem(err);
            continue;
        }
        auto tgt = parse_token(w[first + 1], Role::Target, err);
        if (!tgt) {
            problem(err);
            continue;
        }
        r.source = *src;
        r.target = *tgt;
        if (!parse_action(w, first + 2, r.action, err)) {
            problem(err);
            continue;
        }
        if (r.target.kind == TokenKind::Default && r.action.kind == ActionKind::Allow &&
            !r.action.target) {
            problem("allow action for @default rule must specify target=");
            continue;
        }
        ctx.out->append_rule(std::move(r));
    }
}

std::string check_file_name(std::string_view name) {
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return "invalid policy file name '" + escape(name) +
                   "' (allowed: [0-9a-z_.-], ending in .policy)";
    return {};
}

bool is_ignored_file_name(std::string_view name) {
    return name.empty() || name[0] == '.' || name.size() <= 7 ||
           name.substr(name.size() - 7) != ".policy";
}

} // namespace detail
} // namespace bulkhead::policy
