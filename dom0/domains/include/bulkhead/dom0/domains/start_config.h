// StartConfig: what the domain manager needs to know to start one domain, read from the
// store by the daemon (ConfigSource) so the manager never touches SQLite itself.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/dom0/hypervisor/hypervisor.h>

#include <chrono>
#include <string>
#include <vector>

namespace bulkhead::dom0 {

struct StartConfig {
    std::string name;
    std::string uuid;
    std::string klass;               // AppVM, TemplateVM, DispVM, StandaloneVM
    std::vector<std::string> layers; // layer directories, lowest first
    // Volatile: root resets every start (AppVM, DispVM). CommitOnHalt: a TemplateVM; what
    // changed in its root becomes a new top layer when it halts cleanly, so its app domains
    // see the change at their next start. Persistent: a StandaloneVM's own root.
    enum class Root { Volatile, CommitOnHalt, Persistent };
    Root root = Root::Volatile;
    bool disposable = false; // keeps nothing: no private volume
    uint64_t memory_mib = 400;
    uint64_t maxmem_mib = 4000;
    uint32_t vcpus = 2;
    std::string kernel;
    VirtMode virt_mode = VirtMode::Pvh;
    std::chrono::seconds qrexec_timeout{60};
    std::chrono::seconds shutdown_timeout{60};
    std::string default_user = "user";
};

// A domain's network settings (read again at every plug: `netvm` may change while it runs).
struct NetConfig {
    std::string netvm;             // "" = no network device at all
    std::string address;           // its own IPv4 address (10.137.x.y, from its qid)
    bool provides_network = false; // may be a netvm; with no netvm of its own: the uplink
};

class ConfigSource {
public:
    virtual ~ConfigSource() = default;
    // Defaults (no network, Qubes' default rule list) for sources that know nothing of it.
    virtual Result<NetConfig> net_config(std::string const& /*name*/) { return NetConfig{}; }
    // The domain's firewall rules in canonical text (dom0/firewall), first match wins.
    virtual Result<std::vector<std::string>> firewall_rules(std::string const& /*name*/) {
        return std::vector<std::string>{"action=accept"};
    }
    virtual Result<StartConfig> start_config(std::string const& name) = 0;
    // A TemplateVM halted cleanly: its root changes (a directory dom0 made) become its new
    // top layer.
    virtual Result<void> commit_template_layer(std::string const& name, std::string const& dir) = 0;
    // A disposable ended: forget it.
    virtual Result<void> forget_disposable(std::string const& name) = 0;
};

} // namespace bulkhead::dom0
