// Policy: a parsed qrexec policy v5 (Qubes 4.1+ `*.policy` syntax), rules in file order and
// pre-split by service name for evaluation. Built by the dom0 broker and qrexec-policy from
// dom0-owned files; a file with any error yields no Policy at all (never a partial one).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/policy/system_info.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bulkhead::policy {

enum class TokenKind {
    AnyVM,          // @anyvm: every domain except dom0
    AdminVM,        // @adminvm / dom0
    Default,        // @default (target only)
    DispVM,         // @dispvm (target only): a new disposable of the source's default_dispvm
    DispVMTemplate, // @dispvm:NAME
    DispVMTag,      // @dispvm:@tag:T
    Tag,            // @tag:T
    Type,           // @type:T
    Uuid,           // uuid:U
    Name,           // literal domain name
};

struct Token {
    TokenKind kind = TokenKind::Name;
    std::string value; // name / tag / type / uuid; empty for keywords
    std::string text() const;
};

enum class ActionKind { Allow, Deny, Ask };

struct Action {
    ActionKind kind = ActionKind::Deny;
    std::optional<Token> target;         // allow/ask target=
    std::optional<Token> default_target; // ask default_target=
    std::string user;                    // empty: DEFAULT
    bool autostart = true;
    bool notify = false; // deny defaults to true
};

struct Rule {
    std::string service;                 // "*" for any
    std::optional<std::string> argument; // nullopt = "*"; "" = bare "+"
    Token source;
    Token target;
    Action action;
    std::string file;
    uint32_t line = 0;
};

// One problem found while loading: "FILE:LINE: message".
struct Problem {
    std::string file;
    uint32_t line = 0;
    std::string message;
    std::string text() const;
};

class Policy {
public:
    // Loads every *.policy in the directories, merged by basename (first directory holding a
    // basename wins), in sorted basename order. Any problem → error listing all of them.
    static Result<Policy> load(std::vector<std::string> const& dirs);
    // Same, but returns the policy and the problems separately (lint wants all of them).
    static Policy load_collect(std::vector<std::string> const& dirs, std::vector<Problem>& out);
    // Parses one file's text. `name` is used in messages; relative !include paths resolve
    // against `include_base` (empty: includes are an error).
    static Result<Policy> parse_text(std::string_view text, std::string const& name = "<text>",
                                     std::string const& include_base = {});

    std::vector<Rule> const& rules() const { return m_rules; }
    // Indices of rules that may match `service` (its own rules and `*` rules, file order).
    std::vector<uint32_t> const& rules_for(std::string_view service) const;

    // Internal: parse into this policy (used by the loader).
    void append_rule(Rule r) { m_rules.push_back(std::move(r)); }
    // Capacity hint for `more` rules (bounded; keeps geometric growth).
    void reserve_rules(size_t more) {
        size_t want = m_rules.size() + std::min<size_t>(more, 4096);
        if (want > m_rules.capacity())
            m_rules.reserve(std::max(want, 2 * m_rules.capacity()));
    }
    void finish();

private:
    std::vector<Rule> m_rules;
    std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>>
        m_by_service;
    std::vector<uint32_t> m_wildcard;
};

Result<Policy> problems_to_error(Policy p, std::vector<Problem> const& problems);

} // namespace bulkhead::policy
