// Lifecycle: what the admin API asks of the daemon for power operations. Implemented by
// the daemon (dom0/daemon); the API server calls it from its client threads.
// Names passed in have been checked to exist in the store.
#pragma once

#include <bulkhead/base/result.h>

#include <chrono>
#include <string>

namespace bulkhead::dom0 {

class Lifecycle {
public:
    virtual ~Lifecycle() = default;
    // All thread-safe; may block until done. Power state names as Qubes: Halted,
    // Transient, Running, Paused, Halting, Dying.
    virtual Result<void> start(std::string const& name) = 0;
    virtual Result<void> shutdown(std::string const& name, bool wait,
                                  std::chrono::seconds timeout) = 0;
    virtual Result<void> kill(std::string const& name) = 0;
    virtual Result<void> pause(std::string const& name) = 0;
    virtual Result<void> unpause(std::string const& name) = 0;
    virtual std::string power_state(std::string const& name) = 0;
    virtual Result<void> before_remove(std::string const& name) = 0; // wipes volumes
    // After the store changed: a running domain's netvm (re-plug it live, starting the new
    // netvm if needed) or its firewall rules (its netvm reloads them). Halted: nothing.
    virtual Result<void> network_changed(std::string const& /*name*/) { return {}; }
    virtual Result<void> firewall_changed(std::string const& /*name*/) { return {}; }
    // Before a shutdown that is not forced: refuses a netvm with running clients (Qubes:
    // "There are other VMs connected to this VM").
    virtual Result<void> check_shutdown(std::string const& /*name*/) { return {}; }
};

} // namespace bulkhead::dom0
