// The Daemon's ConfigSource and policy half: what the manager and the broker read from the
// store (start configuration, system info, policy), disposables and template layers.
#include "daemon.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>
#include <bulkhead/dom0/firewall/ruleset.h>

#include <random>
#include <sys/stat.h>
#include <thread>

namespace bulkhead::dom0 {
namespace {

Logger const log{"daemon"};

std::string prop(Store& store, std::string const& name, std::string const& key,
                 std::string fallback = "") {
    auto v = store.get_property(name, key);
    return v ? v->value : fallback;
}

uint64_t prop_u64(Store& store, std::string const& name, std::string const& key, uint64_t dflt) {
    auto v = text::parse_u64(prop(store, name, key));
    return v ? *v : dflt;
}

} // namespace

Result<StartConfig> Daemon::start_config(std::string const& name) {
    auto rec = TRY(m_store->get(name));
    StartConfig cfg;
    cfg.name = rec.name;
    cfg.uuid = rec.uuid;
    cfg.klass = std::string(klass_name(rec.klass));
    switch (rec.klass) {
    case Klass::AdminVM:
        return unexpected(Errc::Invalid, "dom0 cannot be started");
    case Klass::TemplateVM:
        cfg.root = StartConfig::Root::CommitOnHalt;
        break;
    case Klass::StandaloneVM:
        cfg.root = StartConfig::Root::Persistent;
        break;
    case Klass::DispVM:
        cfg.disposable = true;
        break;
    case Klass::AppVM:
        break;
    }
    for (auto const& id : TRY(m_store->layer_stack(name)))
        cfg.layers.push_back(m_layout.layer_dir(id));
    cfg.memory_mib = prop_u64(*m_store, name, "memory", 400);
    cfg.maxmem_mib = prop_u64(*m_store, name, "maxmem", 4000);
    cfg.vcpus = uint32_t(prop_u64(*m_store, name, "vcpus", 2));
    cfg.kernel = prop(*m_store, name, "kernel");
    cfg.qrexec_timeout = std::chrono::seconds(prop_u64(*m_store, name, "qrexec_timeout", 60));
    cfg.shutdown_timeout = std::chrono::seconds(prop_u64(*m_store, name, "shutdown_timeout", 60));
    cfg.default_user = prop(*m_store, name, "default_user", "user");
    auto vm = prop(*m_store, name, "virt_mode", "pvh");
    cfg.virt_mode = vm == "pv" ? VirtMode::Pv : vm == "hvm" ? VirtMode::Hvm : VirtMode::Pvh;
    return cfg;
}

Result<NetConfig> Daemon::net_config(std::string const& name) {
    auto rec = TRY(m_store->get(name));
    NetConfig net;
    if (rec.klass == Klass::AdminVM)
        return net;
    net.netvm = TRY(m_store->get_property(name, "netvm")).value;
    net.provides_network = TRY(m_store->get_property(name, "provides_network")).value == "True";
    net.address = firewall::address_for_qid(rec.qid);
    return net;
}

Result<std::vector<std::string>> Daemon::firewall_rules(std::string const& name) {
    return m_store->firewall_rules(name);
}

Result<void> Daemon::commit_template_layer(std::string const& name, std::string const& dir) {
    auto layers = TRY(m_store->layers(name));
    std::string id =
        name + "." + std::to_string(m_store->generation()) + "." + std::to_string(::time(nullptr));
    TRY(sys::rename(dir, m_layout.layer_dir(id)));
    layers.push_back(id);
    TRY(m_store->set_layers(name, layers));
    LOG_INFO(log, "template layer committed", {"template", name}, {"layer", id});
    return {};
}

Result<void> Daemon::forget_disposable(std::string const& name) {
    (void)m_manager->wipe(name);
    auto r = m_store->remove(name);
    if (!r && r.error().code() != Errc::NotFound)
        return r;
    return {};
}

Result<std::string> Daemon::create_dispvm(std::string const& dvm_template) {
    std::string dvm = dvm_template;
    if (dvm.empty() || dvm == "default") {
        dvm = TRY(m_store->get_global("default_dispvm"));
        if (dvm.empty())
            return unexpected(Errc::Invalid, "no default disposable template (default_dispvm)");
    }
    auto tmpl = TRY(m_store->get_property(dvm, "template_for_dispvms"));
    if (tmpl.value != "True")
        return unexpected(Errc::Invalid, dvm + " is not a disposable template "
                                               "(template_for_dispvms is not set)");
    // A preloaded one (already running) when the pool has one; else a cold one, started
    // by the caller.
    if (m_pool)
        if (auto name = m_pool->take(dvm))
            return *name;
    return create_dispvm_record(dvm);
}

Result<std::string> Daemon::create_dispvm_record(std::string const& dvm) {
    auto label = TRY(m_store->get_property(dvm, "label"));
    static std::mutex rng_mutex;
    static std::mt19937 rng{std::random_device{}()};
    for (int tries = 0; tries < 100; ++tries) {
        int n;
        {
            std::lock_guard lock(rng_mutex);
            n = std::uniform_int_distribution<int>(0, 9999)(rng);
        }
        CreateSpec spec;
        spec.name = "disp" + std::to_string(n);
        spec.klass = Klass::DispVM;
        spec.label = label.value;
        spec.properties["template"] = dvm;
        auto rec = m_store->create(spec);
        if (rec)
            return rec->name;
        if (rec.error().code() != Errc::Exists)
            return unexpected(rec.error());
    }
    return unexpected(Errc::Limit, "no free disposable name");
}

void Daemon::destroy_dispvm(std::string const& name) {
    // Never blocks the caller (it may be the event loop): the kill waits for the exit event.
    std::thread([this, name] {
        if (m_manager->power_state(name) != "Halted")
            (void)m_manager->kill(name);
        else
            (void)forget_disposable(name);
    }).detach();
}

std::string Daemon::default_user(std::string const& name) {
    return prop(*m_store, name, "default_user", "user");
}

Result<policy::SystemInfo> Daemon::system_info() {
    policy::SystemInfo info;
    for (auto const& rec : TRY(m_store->list())) {
        policy::DomainInfo d;
        d.name = rec.name;
        d.type = *policy::parse_domain_type(klass_name(rec.klass));
        d.tags.assign(rec.tags.begin(), rec.tags.end());
        auto dd = prop(*m_store, rec.name, "default_dispvm");
        if (!dd.empty())
            d.default_dispvm = dd;
        d.template_for_dispvms = prop(*m_store, rec.name, "template_for_dispvms") == "True";
        d.uuid = rec.uuid;
        d.power_state = m_manager->power_state(rec.name);
        auto internal = rec.features.find("internal");
        d.internal =
            internal != rec.features.end() && !internal->second.empty() && internal->second != "0";
        info.add(std::move(d));
    }
    return info;
}

policy::Decision Daemon::decide(std::string const& source, std::string const& target,
                                std::string const& service) {
    std::string error;
    auto pol = m_policy.current(error);
    if (!pol)
        return policy::Deny{true};
    auto info = system_info();
    if (!info) {
        LOG_ERROR(log, "system info", {"error", info.error().message()});
        return policy::Deny{true};
    }
    return policy::evaluate(*pol, policy::make_request(source, target, service), *info);
}

} // namespace bulkhead::dom0
