// SystemInfo: domain table with name and uuid indexes; from_json for Qubes' system-info shape.
#include <bulkhead/base/text.h>
#include <bulkhead/policy/json.h>
#include <bulkhead/policy/system_info.h>

#include <algorithm>

namespace bulkhead::policy {

namespace {
constexpr std::string_view kTypeNames[] = {"AdminVM", "AppVM", "TemplateVM", "DispVM",
                                           "StandaloneVM"};
}

std::string_view domain_type_name(DomainType t) {
    return kTypeNames[static_cast<int>(t)];
}

std::optional<DomainType> parse_domain_type(std::string_view s) {
    for (int i = 0; i < 5; ++i)
        if (kTypeNames[i] == s)
            return static_cast<DomainType>(i);
    return std::nullopt;
}

bool DomainInfo::has_tag(std::string_view t) const {
    return std::find(tags.begin(), tags.end(), t) != tags.end();
}

bool is_valid_domain_name(std::string_view name) {
    return text::is_domain_name(name);
}

void SystemInfo::add(DomainInfo d) {
    if (auto it = m_by_name.find(d.name); it != m_by_name.end()) {
        auto& old = m_domains[it->second];
        if (!old.uuid.empty())
            m_by_uuid.erase(old.uuid);
        if (!d.uuid.empty())
            m_by_uuid[d.uuid] = it->second;
        old = std::move(d);
        return;
    }
    size_t idx = m_domains.size();
    m_by_name.emplace(d.name, idx);
    if (!d.uuid.empty())
        m_by_uuid[d.uuid] = idx;
    m_domains.push_back(std::move(d));
}

DomainInfo const* SystemInfo::find(std::string_view name) const {
    auto it = m_by_name.find(name);
    return it == m_by_name.end() ? nullptr : &m_domains[it->second];
}

DomainInfo const* SystemInfo::find_uuid(std::string_view uuid) const {
    auto it = m_by_uuid.find(uuid);
    return it == m_by_uuid.end() ? nullptr : &m_domains[it->second];
}

Result<SystemInfo> SystemInfo::from_json(std::string_view text) {
    auto doc = TRY_CTX(JsonValue::parse(text), "system info");
    using K = JsonValue::Kind;
    auto bad = [](std::string what) {
        return unexpected(Errc::Invalid, "system info: " + std::move(what));
    };
    if (!doc.is(K::Object))
        return bad("top level is not an object");
    auto const* domains = doc.find("domains");
    if (!domains || !domains->is(K::Object))
        return bad("\"domains\" object missing");
    SystemInfo info;
    for (auto const& member : domains->members()) {
        std::string const& name = member.first; // no structured binding: lambdas use v
        JsonValue const& v = member.second;
        if (!is_valid_domain_name(name))
            return bad("invalid domain name");
        if (!v.is(K::Object))
            return bad(name + ": not an object");
        DomainInfo d;
        d.name = name;
        auto const* type = v.find("type");
        if (!type || !type->is(K::String))
            return bad(name + ": \"type\" missing");
        auto t = parse_domain_type(type->as_string());
        if (!t)
            return bad(name + ": unknown type");
        d.type = *t;
        if (auto const* tags = v.find("tags")) {
            if (!tags->is(K::Array))
                return bad(name + ": \"tags\" is not an array");
            for (auto const& tag : tags->items()) {
                if (!tag.is(K::String))
                    return bad(name + ": tag is not a string");
                d.tags.push_back(tag.as_string());
            }
        }
        if (auto const* dd = v.find("default_dispvm")) {
            if (dd->is(K::String))
                d.default_dispvm = dd->as_string();
            else if (!dd->is(K::Null))
                return bad(name + ": \"default_dispvm\" is not a string or null");
        }
        auto flag = [&](char const* key, bool& out) -> bool {
            auto const* f = v.find(key);
            if (!f)
                return true;
            if (!f->is(K::Bool))
                return false;
            out = f->as_bool();
            return true;
        };
        if (!flag("template_for_dispvms", d.template_for_dispvms) || !flag("internal", d.internal))
            return bad(name + ": flag is not a boolean");
        auto str = [&](char const* key, std::string& out) -> bool {
            auto const* f = v.find(key);
            if (!f || f->is(K::Null))
                return true;
            if (!f->is(K::String))
                return false;
            out = f->as_string();
            return true;
        };
        if (!str("uuid", d.uuid) || !str("power_state", d.power_state) || !str("icon", d.icon))
            return bad(name + ": field is not a string");
        if (!d.uuid.empty() && info.find_uuid(d.uuid))
            return bad(name + ": duplicate uuid");
        info.add(std::move(d));
    }
    return info;
}

} // namespace bulkhead::policy
