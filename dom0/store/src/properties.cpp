#include <bulkhead/dom0/store/properties.h>

#include <bulkhead/base/text.h>

#include <array>

namespace bulkhead::dom0 {

namespace {
constexpr unsigned bit(Klass k) {
    return 1u << static_cast<unsigned>(k);
}
constexpr unsigned kAll = bit(Klass::AdminVM) | bit(Klass::TemplateVM) | bit(Klass::AppVM) |
                          bit(Klass::DispVM) | bit(Klass::StandaloneVM);
constexpr unsigned kQubes = kAll & ~bit(Klass::AdminVM);
constexpr unsigned kTemplated = bit(Klass::TemplateVM) | bit(Klass::AppVM) | bit(Klass::DispVM);

constexpr std::array<PropDef, 19> kProps = {{
    {"name", PropType::String, kAll, true},
    {"klass", PropType::String, kAll, true},
    {"qid", PropType::Int, kAll, true},
    {"uuid", PropType::String, kAll, true},
    {"label", PropType::Label, kAll},
    {"template", PropType::Domain, kTemplated},
    {"netvm", PropType::Domain, kQubes},
    {"provides_network", PropType::Bool, kQubes},
    {"memory", PropType::Int, kQubes},
    {"maxmem", PropType::Int, kQubes},
    {"vcpus", PropType::Int, kQubes},
    {"default_dispvm", PropType::Domain, kAll},
    {"template_for_dispvms", PropType::Bool, kQubes},
    {"default_user", PropType::String, kQubes},
    {"autostart", PropType::Bool, kQubes},
    {"kernel", PropType::String, kQubes},
    {"virt_mode", PropType::VirtMode, kQubes},
    {"qrexec_timeout", PropType::Int, kQubes},
    {"shutdown_timeout", PropType::Int, kQubes},
}};

constexpr std::array<PropDef, 6> kGlobals = {{
    {"clockvm", PropType::Domain, kAll},
    {"default_dispvm", PropType::Domain, kAll},
    {"default_kernel", PropType::String, kAll},
    {"default_netvm", PropType::Domain, kAll},
    {"default_template", PropType::Domain, kAll},
    {"updatevm", PropType::Domain, kAll},
}};
} // namespace

std::span<PropDef const> property_defs() {
    return kProps;
}
std::span<PropDef const> global_defs() {
    return kGlobals;
}

Result<PropDef const*> find_property(Klass k, std::string_view name) {
    for (auto const& p : kProps)
        if (p.name == name && (p.classes & bit(k)))
            return &p;
    return unexpected(Errc::NotFound, "no such property: " + text::escape(name));
}

std::vector<std::string> property_names(Klass k) {
    std::vector<std::string> out;
    for (auto const& p : kProps)
        if (p.classes & bit(k))
            out.emplace_back(p.name);
    return out;
}

Result<PropDef const*> find_global(std::string_view name) {
    for (auto const& p : kGlobals)
        if (p.name == name)
            return &p;
    return unexpected(Errc::NotFound, "no such global property: " + text::escape(name));
}

Result<void> validate_domain_name(std::string_view name, bool is_new) {
    auto bad = [&](std::string_view why) {
        return unexpected(Errc::Invalid,
                          "invalid domain name '" + text::escape(name) + "': " + std::string(why));
    };
    if (name.empty() || name.size() > 31)
        return bad("must be 1 to 31 characters");
    char c0 = name[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z')))
        return bad("must start with a letter");
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok)
            return bad("only letters, digits, '_', '.' and '-' are allowed");
    }
    if (name == "none" || name == "default")
        return bad("reserved name");
    if (name.size() >= 3 && name.substr(name.size() - 3) == "-dm")
        return bad("may not end in '-dm'");
    if (is_new && name == "dom0")
        return bad("dom0 is the admin domain");
    return {};
}

bool bool_value(std::string_view v) {
    return v == "True";
}

Result<std::string> canonical_value(PropType t, std::string_view prop, std::string_view value) {
    auto bad = [&](std::string_view want) {
        return unexpected(Errc::Invalid, "property '" + std::string(prop) + "': invalid value '" +
                                             text::escape(value) + "' (" + std::string(want) + ")");
    };
    switch (t) {
    case PropType::Int: {
        auto n = text::parse_u64(value);
        if (!n || *n > 1000000000ull)
            return bad("expected a non-negative integer");
        return std::to_string(*n);
    }
    case PropType::Bool:
        if (value == "True" || value == "true" || value == "1" || value == "yes" || value == "on")
            return std::string("True");
        if (value == "False" || value == "false" || value == "0" || value == "no" ||
            value == "off" || value.empty())
            return std::string("False");
        return bad("expected True or False");
    case PropType::Label:
        if (!find_label(value))
            return bad("expected one of red orange yellow green gray blue purple black");
        return std::string(value);
    case PropType::VirtMode:
        if (value != "pvh" && value != "pv" && value != "hvm")
            return bad("expected pvh, pv or hvm");
        return std::string(value);
    case PropType::Domain:
        if (value.empty() || value == "none" || value == "None")
            return std::string();
        return std::string(value);
    case PropType::String:
        if (value.size() > 256 || !text::is_valid_utf8(value))
            return bad("expected UTF-8 text of at most 256 bytes");
        for (char c : value)
            if (static_cast<unsigned char>(c) < 0x20)
                return bad("control characters are not allowed");
        return std::string(value);
    }
    return bad("unknown type");
}

} // namespace bulkhead::dom0
