// DomainManager's network half: plugging domains into their netvm (or the uplink) through
// the Hypervisor, and each netvm's ruleset (dom0/firewall) regenerated and loaded whole
// whenever one of its clients, their rules or its own link changes.
#include <bulkhead/base/log.h>
#include <bulkhead/dom0/domains/domain_manager.h>
#include <bulkhead/dom0/firewall/host_resolver.h>
#include <bulkhead/dom0/firewall/ruleset.h>

#include <ctime>
#include <utility>

namespace bulkhead::dom0 {
namespace {

Logger const log{"domains.net"};

// dsthost names are resolved by dom0 when the ruleset is made (IPv4 only), under the network
// lock: bounded in time and cached, so a dead DNS server cannot hold every plug behind it.
firewall::HostResolver& dsthost_resolver() {
    static firewall::HostResolver resolver({});
    return resolver;
}

std::string vif_of(DomId id) {
    return "vif" + std::to_string(id) + ".0";
}

} // namespace

Result<void> DomainManager::plug(std::string const& name, DomId id) {
    std::lock_guard net_lock(m_net_mutex);
    auto cfg = TRY(m_config.net_config(name));
    NetState st;
    st.address = cfg.address;
    if (!cfg.netvm.empty()) {
        DomId backend = kNoDomId;
        std::string gateway;
        {
            std::lock_guard lock(m_mutex);
            auto it = m_live.find(cfg.netvm);
            if (it != m_live.end() && it->second.state != State::Halting) {
                backend = it->second.id;
                gateway = it->second.net.address;
            }
        }
        if (backend == kNoDomId || gateway.empty())
            return unexpected(Errc::Invalid,
                              "netvm " + cfg.netvm + " of " + name + " is not running");
        TRY_CTX(m_hv.attach_network(id, {backend, cfg.address, gateway}),
                "plugging " + name + " into " + cfg.netvm);
        st.netvm = cfg.netvm;
        st.backend = backend;
        st.plugged = true;
    } else if (cfg.provides_network) {
        auto info = TRY_CTX(m_hv.attach_network(id, {0, cfg.address, ""}),
                            "plugging " + name + " into the uplink");
        st.uplink = true;
        st.plugged = true;
        st.dns = info.dns;
        if (st.dns.empty())
            LOG_WARN(log, "no upstream DNS resolver for the uplink; DNS of its clients fails",
                     {"domain", name});
    }
    NetState prev;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_live.find(name);
        if (it == m_live.end() || it->second.id != id)
            return unexpected(Errc::Closed, "domain " + name + " exited while plugging");
        prev = std::exchange(it->second.net, st);
    }
    // Moved from another netvm (attach replaced the link): that one forgets it.
    if (prev.plugged && !prev.netvm.empty() && prev.netvm != st.netvm)
        if (auto r = refresh_rules(prev.netvm); !r)
            LOG_WARN(log, "old netvm's rules", {"netvm", prev.netvm},
                     {"error", r.error().message()});
    if (st.plugged)
        LOG_INFO(log, "plugged", {"domain", name},
                 {"netvm", st.uplink ? std::string("(uplink)") : st.netvm},
                 {"address", st.address});
    if (!st.netvm.empty())
        TRY(refresh_rules(st.netvm));
    if (!cfg.provides_network)
        return {};
    TRY(refresh_rules(name));
    // A netvm that (re)starts takes its running clients back, with their rules.
    // Clients still plugged into this very instance (its own netvm changed) keep their link.
    std::vector<std::pair<std::string, DomId>> others;
    {
        std::lock_guard lock(m_mutex);
        for (auto const& [n, live] : m_live)
            if (n != name && live.id != kNoDomId && live.state != State::Halting &&
                !(live.net.plugged && live.net.netvm == name && live.net.backend == id))
                others.emplace_back(n, live.id);
    }
    for (auto const& [n, other_id] : others) {
        auto other = m_config.net_config(n);
        if (!other || other->netvm != name)
            continue;
        if (auto r = plug(n, other_id); !r)
            LOG_WARN(log, "re-plugging a client failed", {"domain", n}, {"netvm", name},
                     {"error", r.error().message()});
    }
    return {};
}

Result<void> DomainManager::refresh_rules(std::string const& netvm) {
    std::lock_guard net_lock(m_net_mutex);
    firewall::NetvmPlan plan;
    DomId backend = kNoDomId;
    struct ClientRef {
        std::string name;
        std::string vif;
        std::string address;
    };
    std::vector<ClientRef> clients;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_live.find(netvm);
        if (it == m_live.end() || it->second.id == kNoDomId)
            return {}; // halted: its rules are made again when it starts
        backend = it->second.id;
        plan.uplink = it->second.net.plugged ? "eth0" : "";
        if (it->second.net.uplink)
            plan.dns = it->second.net.dns;
        for (auto const& [n, live] : m_live)
            if (live.net.plugged && live.net.netvm == netvm && live.id != kNoDomId)
                clients.push_back({n, vif_of(live.id), live.net.address});
    }
    plan.now = ::time(nullptr);
    for (auto const& c : clients) {
        firewall::Client fc{c.vif, c.address, {}};
        auto texts = m_config.firewall_rules(c.name);
        if (!texts) // fail closed: the list's default drop only
            LOG_ERROR(log, "firewall rules unreadable; dropping all", {"domain", c.name},
                      {"error", texts.error().message()});
        for (auto const& t : texts ? *texts : std::vector<std::string>{}) {
            auto rule = firewall::parse_rule(t, plan.now);
            if (!rule) {
                LOG_ERROR(log, "stored firewall rule invalid; dropping all", {"domain", c.name},
                          {"error", rule.error().message()});
                fc.rules.clear();
                break;
            }
            fc.rules.push_back(std::move(*rule));
        }
        plan.clients.push_back(std::move(fc));
    }
    std::vector<std::string> errors;
    auto text = firewall::netvm_ruleset(plan, dsthost_resolver().as_resolver(), &errors);
    for (auto const& e : errors)
        LOG_WARN(log, "firewall rule fails closed", {"netvm", netvm}, {"error", e});
    TRY_CTX(m_hv.apply_network_rules(backend, text), "firewall rules in " + netvm);
    LOG_INFO(log, "rules loaded", {"netvm", netvm}, {"clients", std::to_string(clients.size())});
    return {};
}

Result<void> DomainManager::network_changed(std::string const& name) {
    if (!running_id(name))
        return {}; // halted: the next start plugs it as configured
    // The new netvm is started before the network lock is taken (its own plug takes it).
    auto cfg = TRY(m_config.net_config(name));
    if (!cfg.netvm.empty())
        TRY_CTX(start(cfg.netvm), "starting netvm " + cfg.netvm);
    std::lock_guard net_lock(m_net_mutex);
    DomId id = kNoDomId;
    NetState old;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_live.find(name);
        if (it == m_live.end() || it->second.id == kNoDomId || it->second.state == State::Halting)
            return {}; // halted: the next start plugs it as configured
        id = it->second.id;
        old = it->second.net;
        // Starting the new netvm may already have plugged it there (a netvm that starts
        // takes its clients): nothing left to do.
        auto nv = m_live.find(cfg.netvm);
        if (!cfg.netvm.empty() && old.plugged && old.netvm == cfg.netvm && nv != m_live.end() &&
            nv->second.id == old.backend)
            return {};
    }
    if (old.plugged) {
        TRY_CTX(m_hv.detach_network(id), "unplugging " + name);
        std::lock_guard lock(m_mutex);
        if (auto it = m_live.find(name); it != m_live.end() && it->second.id == id)
            it->second.net = NetState{};
    }
    if (!old.netvm.empty())
        if (auto r = refresh_rules(old.netvm); !r)
            LOG_WARN(log, "old netvm's rules", {"netvm", old.netvm},
                     {"error", r.error().message()});
    return plug(name, id);
}

std::vector<std::string> DomainManager::connected_clients(std::string const& netvm) const {
    std::lock_guard lock(m_mutex);
    auto self = m_live.find(netvm);
    if (self == m_live.end())
        return {};
    std::vector<std::string> out; // m_live is ordered: sorted by name
    for (auto const& [n, live] : m_live)
        if (live.net.plugged && live.net.netvm == netvm && live.net.backend == self->second.id &&
            live.state != State::Halting)
            out.push_back(n);
    return out;
}

Result<void> DomainManager::firewall_changed(std::string const& name) {
    std::string netvm;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_live.find(name);
        if (it == m_live.end() || !it->second.net.plugged)
            return {};
        netvm = it->second.net.netvm;
    }
    if (netvm.empty())
        return {};
    return refresh_rules(netvm);
}

} // namespace bulkhead::dom0
