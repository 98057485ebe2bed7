// ApiServer::dispatch: one case per admin request kind, mapped onto Store and Lifecycle.
// Changes Qubes refuses for running domains are refused here (the store has no power state).
#include <bulkhead/dom0/api/api_server.h>

#include <bulkhead/base/text.h>

#include <ctime>
#include <set>

namespace bulkhead::dom0 {

namespace {
char const* type_name(PropType t) {
    switch (t) {
    case PropType::String:
        return "str";
    case PropType::Int:
        return "int";
    case PropType::Bool:
        return "bool";
    case PropType::Domain:
        return "vm";
    case PropType::Label:
        return "label";
    case PropType::VirtMode:
        return "virt_mode";
    }
    return "str";
}

void put(admin::Property* out, PropertyValue const& pv) {
    out->set_name(pv.name);
    out->set_value(pv.value);
    out->set_is_default(pv.is_default);
    out->set_type(type_name(pv.type));
}

// Properties whose change needs the domain halted (as Qubes refuses them while running).
bool needs_halted(std::string const& prop) {
    static std::set<std::string> const k = {"template", "provides_network", "virt_mode", "kernel",
                                            "template_for_dispvms"};
    return k.count(prop) > 0;
}
} // namespace

Result<void> ApiServer::require_halted(std::string const& name, std::string_view what) {
    auto state = m_lifecycle.power_state(name);
    if (state != "Halted")
        return unexpected(Errc::Busy, "domain '" + text::escape(name) + "' is " + state +
                                          ": cannot " + std::string(what) + " while it runs");
    return {};
}

// A running domain follows its new netvm at once; if it cannot (the netvm does not start,
// the plug fails), the old value comes back and the domain goes back to its old netvm, so
// the refusal changes nothing (as Qubes refuses the change).
Result<void> ApiServer::replug_or_revert(std::string const& domain, PropertyValue const& before) {
    auto r = m_lifecycle.network_changed(domain);
    if (r)
        return r;
    auto back = before.is_default ? m_store.reset_property(domain, "netvm")
                                  : m_store.set_property(domain, "netvm", before.value);
    if (back)
        (void)m_lifecycle.network_changed(domain);
    return r;
}

Result<admin::Ok> ApiServer::dispatch(admin::Request const& req, PeerCred) {
    admin::Ok ok;
    using R = admin::Request;
    switch (req.kind_case()) {
    case R::kListDomains: {
        for (auto const& d : TRY(m_store.list())) {
            // A disposable may be removed between the list and the read of its properties:
            // it is simply not listed any more.
            auto props = m_store.list_properties(d.name);
            if (!props && props.error().code() == Errc::NotFound)
                continue;
            if (!props)
                return std::move(props).error();
            auto* info = ok.add_domains();
            info->set_name(d.name);
            info->set_klass(std::string(klass_name(d.klass)));
            info->set_qid(d.qid);
            info->set_uuid(d.uuid);
            info->set_state(m_lifecycle.power_state(d.name));
            for (auto const& t : d.tags)
                info->add_tags(t);
            for (auto const& pv : *props) {
                if (pv.name == "label")
                    info->set_label(pv.value);
                else if (pv.name == "template")
                    info->set_template_(pv.value);
                else if (pv.name == "netvm")
                    info->set_netvm(pv.value);
                if (req.list_domains().with_properties())
                    put(info->add_properties(), pv);
            }
        }
        return ok;
    }
    case R::kCreate: {
        auto const& c = req.create();
        CreateSpec spec;
        spec.name = c.name();
        spec.klass = TRY(parse_klass(c.klass().empty() ? "AppVM" : c.klass()));
        spec.label = c.label();
        for (auto const& [k, v] : c.properties())
            spec.properties[k] = v;
        if (!c.template_().empty())
            spec.properties["template"] = c.template_();
        TRY(m_store.create(spec));
        return ok;
    }
    case R::kRemove: {
        auto const& name = req.remove().name();
        TRY(m_store.get(name));
        TRY(m_store.check_removable(name));
        TRY(require_halted(name, "remove it"));
        TRY(m_lifecycle.before_remove(name));
        TRY(m_store.remove(name));
        return ok;
    }
    case R::kClone: {
        TRY(m_store.clone(req.clone().source(), req.clone().name()));
        return ok;
    }
    case R::kPropertyGet:
        put(ok.add_properties(),
            TRY(m_store.get_property(req.property_get().domain(), req.property_get().name())));
        return ok;
    case R::kPropertySet: {
        auto const& p = req.property_set();
        auto before = TRY(m_store.get_property(p.domain(), p.name()));
        if (needs_halted(p.name()))
            TRY(require_halted(p.domain(), "change " + p.name()));
        TRY(m_store.set_property(p.domain(), p.name(), p.value()));
        if (p.name() == "netvm")
            TRY(replug_or_revert(p.domain(), before));
        return ok;
    }
    case R::kPropertyReset: {
        auto const& p = req.property_reset();
        auto before = TRY(m_store.get_property(p.domain(), p.name()));
        if (needs_halted(p.name()))
            TRY(require_halted(p.domain(), "change " + p.name()));
        TRY(m_store.reset_property(p.domain(), p.name()));
        if (p.name() == "netvm")
            TRY(replug_or_revert(p.domain(), before));
        return ok;
    }
    case R::kPropertyList:
        for (auto const& pv : TRY(m_store.list_properties(req.property_list().domain())))
            put(ok.add_properties(), pv);
        return ok;
    case R::kTagsList:
        for (auto const& t : TRY(m_store.list_tags(req.tags_list().domain())))
            ok.add_tags(t);
        return ok;
    case R::kTagAdd:
        TRY(m_store.add_tag(req.tag_add().domain(), req.tag_add().tag()));
        return ok;
    case R::kTagRemove:
        TRY(m_store.remove_tag(req.tag_remove().domain(), req.tag_remove().tag()));
        return ok;
    case R::kFeaturesList:
        for (auto const& [k, v] : TRY(m_store.list_features(req.features_list().domain())))
            (*ok.mutable_features())[k] = v;
        return ok;
    case R::kFeatureGet:
        ok.set_value(TRY(m_store.get_feature(req.feature_get().domain(), req.feature_get().key())));
        return ok;
    case R::kFeatureSet:
        TRY(m_store.set_feature(req.feature_set().domain(), req.feature_set().key(),
                                req.feature_set().value()));
        return ok;
    case R::kFeatureRemove:
        TRY(m_store.remove_feature(req.feature_remove().domain(), req.feature_remove().key()));
        return ok;
    case R::kGlobalGet:
        ok.set_value(TRY(m_store.get_global(req.global_get().name())));
        return ok;
    case R::kGlobalSet:
        TRY(m_store.set_global(req.global_set().name(), req.global_set().value()));
        return ok;
    case R::kGlobalList:
        for (auto const& pv : TRY(m_store.list_globals()))
            put(ok.add_properties(), pv);
        return ok;
    case R::kFirewallGet:
        for (auto const& r : TRY(m_store.firewall_rules(req.firewall_get().domain())))
            ok.add_rules(r);
        return ok;
    case R::kFirewallSet: {
        auto const& f = req.firewall_set();
        std::vector<std::string> rules(f.rules().begin(), f.rules().end());
        for (auto const& r : TRY(m_store.set_firewall_rules(f.domain(), rules, ::time(nullptr))))
            ok.add_rules(r);
        TRY(m_lifecycle.firewall_changed(f.domain()));
        return ok;
    }
    case R::kStart:
        TRY(m_store.get(req.start().name()));
        TRY(m_lifecycle.start(req.start().name()));
        return ok;
    case R::kShutdown: {
        auto const& s = req.shutdown();
        TRY(m_store.get(s.name()));
        uint32_t t = s.timeout_seconds();
        if (t == 0) {
            auto pv = m_store.get_property(s.name(), "shutdown_timeout");
            t = pv ? static_cast<uint32_t>(std::stoul(pv->value)) : 60;
        }
        if (!s.force())
            TRY(m_lifecycle.check_shutdown(s.name()));
        TRY(m_lifecycle.shutdown(s.name(), s.wait(), std::chrono::seconds(t)));
        return ok;
    }
    case R::kKill:
        TRY(m_store.get(req.kill().name()));
        TRY(m_lifecycle.kill(req.kill().name()));
        return ok;
    case R::kPause:
        TRY(m_store.get(req.pause().name()));
        TRY(m_lifecycle.pause(req.pause().name()));
        return ok;
    case R::kUnpause:
        TRY(m_store.get(req.unpause().name()));
        TRY(m_lifecycle.unpause(req.unpause().name()));
        return ok;
    default:
        return unexpected(Errc::Unsupported, "unsupported admin request");
    }
}

} // namespace bulkhead::dom0
