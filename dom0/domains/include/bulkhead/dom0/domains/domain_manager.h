// DomainManager: runs domains. Owns the running set (name ↔ id ↔ state), starts domains
// through the Hypervisor from a StartConfig, waits for their agent through the AgentHub,
// and reacts to hypervisor events (cleanup, disposable removal, template layer commit).
// Thread-safe: the admin API's threads and the broker call it; the daemon's event loop
// feeds it hypervisor events (on_hypervisor_events). Blocking calls never run on the loop.
// Trusts dom0 only.
//
// Power states as Qubes names them:
//   Halted ──start──▶ Transient ──agent HELLO──▶ Running ◀─pause/unpause─▶ Paused
//   Running ──shutdown──▶ Halting ──exit event──▶ Halted      any ──kill──▶ Halted
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/dom0/domains/agent_hub.h>
#include <bulkhead/dom0/domains/layout.h>
#include <bulkhead/dom0/domains/start_config.h>
#include <bulkhead/dom0/hypervisor/hypervisor.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bulkhead::dom0 {

class DomainManager {
public:
    DomainManager(Hypervisor& hv, ConfigSource& config, AgentHub& hub, Layout layout,
                  std::string agent_dir);
    ~DomainManager();
    DomainManager(DomainManager const&) = delete;

    // Starts a halted domain and waits until its agent answered (Running), or fails and
    // leaves it Halted. Starting a running domain succeeds at once; a Transient one waits.
    Result<DomId> start(std::string const& name);
    Result<void> shutdown(std::string const& name, bool wait, std::chrono::seconds timeout);
    Result<void> kill(std::string const& name);
    Result<void> pause(std::string const& name);
    Result<void> unpause(std::string const& name);
    // Halted, Transient, Running, Paused, Halting.
    std::string power_state(std::string const& name) const;
    std::optional<DomId> running_id(std::string const& name) const; // Running or Paused
    std::optional<std::string> name_of(DomId id) const;
    std::vector<std::string> running_names() const;
    // Removes the domain's volumes (it must be halted).
    Result<void> wipe(std::string const& name);
    // Stops everything (daemon exit): shutdown, then kill what is left after timeout.
    void shutdown_all(std::chrono::seconds timeout);

    // Networking (network.cpp). A running domain's netvm changed: unplug it, refresh the
    // old netvm's rules, plug it into the new one (started first if halted). Halted: nothing.
    Result<void> network_changed(std::string const& name);
    // A domain's firewall rules changed: its netvm's ruleset is generated and loaded again.
    Result<void> firewall_changed(std::string const& name);
    // Domains plugged into `netvm` that are running (not halting), sorted.
    std::vector<std::string> connected_clients(std::string const& netvm) const;

    // Event loop: drain the hypervisor's events (watch hv.event_fd()).
    void on_hypervisor_events();
    // The agent's control connection of a running domain died: kill it (fail closed).
    void on_agent_lost(std::string const& name);

private:
    enum class State { Transient, Running, Paused, Halting };
    static constexpr DomId kNoDomId = ~DomId{0}; // reserved: create() not returned yet
    struct NetState {
        std::string netvm;   // the netvm it is plugged into ("" = none / the uplink)
        DomId backend = 0;   // that netvm's id when plugged (a restarted netvm has another)
        std::string address; // its own address
        bool plugged = false;
        bool uplink = false;          // plugged into dom0's side (a sys-net)
        std::vector<std::string> dns; // uplink: the upstream resolvers its DNAT uses
    };
    struct Live {
        DomId id = 0;
        State state = State::Transient;
        StartConfig config;
        NetState net;
    };

    Result<DomainSpec> make_spec(StartConfig const& cfg);
    void cleanup_locked(std::string const& name, Live const& live, bool clean_exit,
                        std::unique_lock<std::mutex>& lock);
    Result<void> commit_template(StartConfig const& cfg);
    std::string upper_dir(std::string const& name) const;
    // network.cpp: plug a created domain (its netvm already running), then, if it provides
    // network, load its ruleset and plug its running clients again (a netvm restart).
    Result<void> plug(std::string const& name, DomId id);
    Result<void> refresh_rules(std::string const& netvm);

    Hypervisor& m_hv;
    ConfigSource& m_config;
    AgentHub& m_hub;
    Layout m_layout;
    std::string m_agent_dir;
    std::recursive_mutex m_net_mutex; // one network change at a time; taken before m_mutex
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::map<std::string, Live> m_live;
    std::map<DomId, std::string> m_by_id;
    int m_starting = 0;              // creates in flight (without m_mutex)
    std::set<DomId> m_orphan_events; // ids that died before their create recorded them
};

} // namespace bulkhead::dom0
