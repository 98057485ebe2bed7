// SystemInfo: the domains the policy evaluator knows about (names, types, tags, dispvm
// templates), shaped like Qubes' internal.GetSystemInfo. Built by dom0 from its store or
// parsed from JSON (qrexec-policy --system-info). Trusted (dom0 data), validated anyway.
#pragma once

#include <bulkhead/base/result.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bulkhead::policy {

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

enum class DomainType { AdminVM, AppVM, TemplateVM, DispVM, StandaloneVM };
std::string_view domain_type_name(DomainType t);
std::optional<DomainType> parse_domain_type(std::string_view s);

struct DomainInfo {
    std::string name;
    DomainType type = DomainType::AppVM;
    std::vector<std::string> tags;
    std::optional<std::string> default_dispvm;
    bool template_for_dispvms = false;
    std::string uuid;
    std::string power_state = "Halted";
    bool internal = false;
    std::string icon;

    bool has_tag(std::string_view t) const;
};

class SystemInfo {
public:
    // Adds or replaces a domain (by name).
    void add(DomainInfo d);
    DomainInfo const* find(std::string_view name) const;
    DomainInfo const* find_uuid(std::string_view uuid) const;
    std::vector<DomainInfo> const& domains() const { return m_domains; }

    // {"domains": {"NAME": {"type": ..., "tags": [...], ...}}}; unknown keys are ignored.
    static Result<SystemInfo> from_json(std::string_view text);

private:
    std::vector<DomainInfo> m_domains;
    std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> m_by_name;
    std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> m_by_uuid;
};

// Qubes' domain name rule: [A-Za-z][A-Za-z0-9_.-]*, at most 31 characters.
bool is_valid_domain_name(std::string_view name);

} // namespace bulkhead::policy
