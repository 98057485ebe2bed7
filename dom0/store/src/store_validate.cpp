// Checks that need the database: references to other domains, chains and loops,
// and what still refers to a domain before it is removed.
#include "store_impl.h"

#include <bulkhead/base/text.h>

#include <set>

namespace bulkhead::dom0 {

namespace {
std::string q(std::string const& s) {
    return "'" + text::escape(s) + "'";
}
} // namespace

Result<void> StoreImpl::validate_property(DomainRecord const& rec, PropDef const& def,
                                          std::string const& value) {
    std::string const prop(def.name);
    if (def.type == PropType::Int) {
        if ((prop == "vcpus" || prop == "memory" || prop == "maxmem") && value == "0")
            return unexpected(Errc::Invalid, "property '" + prop + "' must be at least 1");
    }
    if (prop == "provides_network" && !bool_value(value)) {
        for (auto const& other : TRY(all())) {
            auto nd = find_property(other.klass, "netvm");
            if (!nd || other.name == rec.name)
                continue;
            if (TRY(effective(other, **nd)).value == rec.name)
                return unexpected(Errc::Busy, "domain " + q(rec.name) + " is the netvm of " +
                                                  q(other.name) + "; it must provide network");
        }
    }
    if (prop == "template_for_dispvms" && !bool_value(value)) {
        for (auto const& other : TRY(all())) {
            for (auto const* ref : {"default_dispvm", "template"}) {
                if (std::string(ref) == "template" && other.klass != Klass::DispVM)
                    continue;
                auto d = find_property(other.klass, ref);
                if (d && other.name != rec.name && TRY(effective(other, **d)).value == rec.name)
                    return unexpected(Errc::Busy, "domain " + q(rec.name) + " is used as " + ref +
                                                      " of " + q(other.name));
            }
        }
    }
    if (def.type != PropType::Domain)
        return {};
    if (value.empty()) {
        if (prop == "template" && rec.klass != Klass::TemplateVM)
            return unexpected(Errc::Invalid,
                              std::string(klass_name(rec.klass)) + " requires a template");
        return {};
    }
    if (value == rec.name)
        return unexpected(Errc::Invalid, "property '" + prop + "' of " + q(rec.name) +
                                             " cannot refer to the domain itself");
    auto target = TRY(need(value));
    if (prop == "netvm") {
        auto pn = TRY(effective(target, *TRY(find_property(target.klass, "provides_network"))));
        if (!bool_value(pn.value))
            return unexpected(Errc::Invalid, "domain " + q(value) +
                                                 " does not provide network "
                                                 "(provides_network is False)");
        // Follow the chain from the target: reaching rec is a loop.
        std::set<std::string> seen{rec.name};
        DomainRecord cur = target;
        for (;;) {
            if (seen.count(cur.name))
                return unexpected(Errc::Invalid, "netvm loop: " + q(rec.name) + " -> " + q(value) +
                                                     " leads back to " + q(cur.name));
            seen.insert(cur.name);
            auto nd = find_property(cur.klass, "netvm");
            if (!nd)
                break;
            auto next = TRY(effective(cur, **nd)).value;
            if (next.empty())
                break;
            auto n = TRY(find(next));
            if (!n)
                break;
            cur = std::move(*n);
        }
    } else if (prop == "template") {
        if (rec.klass == Klass::DispVM) {
            auto tfd = find_property(target.klass, "template_for_dispvms");
            if (target.klass != Klass::AppVM || !tfd ||
                !bool_value(TRY(effective(target, **tfd)).value))
                return unexpected(Errc::Invalid, "template " + q(value) +
                                                     " of a DispVM must be an AppVM with "
                                                     "template_for_dispvms True");
        } else if (target.klass != Klass::TemplateVM) {
            return unexpected(Errc::Invalid, "template " + q(value) + " is a " +
                                                 std::string(klass_name(target.klass)) +
                                                 ", not a TemplateVM");
        }
        if (rec.klass == Klass::TemplateVM) {
            std::set<std::string> seen{rec.name};
            DomainRecord cur = target;
            for (;;) {
                if (seen.count(cur.name))
                    return unexpected(Errc::Invalid, "template loop: " + q(rec.name) + " -> " +
                                                         q(value) + " leads back to " +
                                                         q(cur.name));
                seen.insert(cur.name);
                auto next = cur.properties.count("template") ? cur.properties.at("template") : "";
                if (next.empty())
                    break;
                auto n = TRY(find(next));
                if (!n)
                    break;
                cur = std::move(*n);
            }
        }
    } else if (prop == "default_dispvm") {
        auto tfd = find_property(target.klass, "template_for_dispvms");
        if (!tfd || !bool_value(TRY(effective(target, **tfd)).value))
            return unexpected(Errc::Invalid, "domain " + q(value) +
                                                 " cannot be default_dispvm: "
                                                 "template_for_dispvms is False");
    }
    return {};
}

Result<void> StoreImpl::validate_reset(DomainRecord const& rec, PropDef const& def) {
    DomainRecord copy = rec;
    copy.properties.erase(std::string(def.name));
    auto v = TRY(effective(copy, def));
    if (def.type == PropType::Domain && v.value == rec.name)
        return {}; // a default never refers to itself in use
    return validate_property(copy, def, v.value);
}

Result<void> StoreImpl::validate_global(PropDef const& def, std::string const& value) {
    if (def.type != PropType::Domain || value.empty())
        return {};
    std::string const prop(def.name);
    auto target = TRY(need(value));
    if (prop == "default_template" && target.klass != Klass::TemplateVM)
        return unexpected(Errc::Invalid, "default_template " + q(value) + " is not a TemplateVM");
    if (prop == "default_netvm") {
        auto pn = find_property(target.klass, "provides_network");
        if (!pn || !bool_value(TRY(effective(target, **pn)).value))
            return unexpected(Errc::Invalid, "domain " + q(value) +
                                                 " does not provide network "
                                                 "(provides_network is False)");
    }
    if (prop == "default_dispvm") {
        auto tfd = find_property(target.klass, "template_for_dispvms");
        if (!tfd || !bool_value(TRY(effective(target, **tfd)).value))
            return unexpected(Errc::Invalid, "domain " + q(value) +
                                                 " cannot be default_dispvm: "
                                                 "template_for_dispvms is False");
    }
    return {};
}

Result<void> StoreImpl::check_references(std::string const& name) {
    for (auto const& d : global_defs())
        if (d.type == PropType::Domain && TRY(global(std::string(d.name))) == name)
            return unexpected(Errc::Busy, "domain " + q(name) + " is in use: global property " +
                                              std::string(d.name));
    for (auto const& other : TRY(all())) {
        if (other.name == name)
            continue;
        for (auto const* ref : {"template", "netvm", "default_dispvm"}) {
            auto it = other.properties.find(ref);
            if (it != other.properties.end() && it->second == name)
                return unexpected(Errc::Busy, "domain " + q(name) + " is in use: " + ref + " of " +
                                                  q(other.name));
        }
    }
    return {};
}

} // namespace bulkhead::dom0
