// Daemon: bulkheadd's wiring. Owns the store, the hypervisor backend, the domain manager,
// the qrexec broker and the admin API server, and implements the interfaces they need
// from each other (ConfigSource, Lifecycle, BrokerHost) on top of the store.
// Threads: main runs the event loop (hypervisor events, agent connections); the admin API
// has a thread per client; the broker a worker per waiting call; one thread waits for
// SIGTERM/SIGINT and stops everything.
#pragma once

#include "dispvm_pool.h"

#include <bulkhead/base/event_loop.h>
#include <bulkhead/dom0/api/api_server.h>
#include <bulkhead/dom0/api/lifecycle.h>
#include <bulkhead/dom0/ask/ask_agent.h>
#include <bulkhead/dom0/broker/broker.h>
#include <bulkhead/dom0/domains/domain_manager.h>
#include <bulkhead/dom0/hypervisor/hypervisor.h>
#include <bulkhead/dom0/store/store.h>
#include <bulkhead/policy/policy.h>
#include <bulkhead/policy/policy_cache.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace bulkhead::dom0 {

class GuiBridge;

struct DaemonOptions {
    std::string root;             // $BULKHEAD_ROOT
    std::string backend = "auto"; // auto | sandbox | xen
    std::string userns = "auto";  // sandbox: auto | on | off (guest ids mapped)
    std::string xen_kernels_dir = "/var/lib/bulkhead/vm-kernels"; // xen: <dir>/<kernel>/
    std::vector<std::string> policy_dirs; // qrexec policy, first basename wins
    std::string agent_dir;                // host dir with bulkhead-agent (shown read-only)
    size_t max_api_clients = 1100;
    std::string ask_agent = "auto";               // auto | none | dialog | script:PATH
    std::chrono::milliseconds ask_timeout{60000}; // no answer by then = deny
    std::string uplink_netns;                     // where sys-net's uplink goes ("" = host)
    std::vector<std::string> uplink_dns;          // upstream resolvers ("" = resolv.conf)
    std::string gui_display; // sandbox: dom0's X display for bulkhead-guid ("" = no GUI)
};

// The answerer for --ask-agent (auto: dialog when a display is set, else none); none = a
// null agent (every ask is denied).
Result<std::unique_ptr<AskAgent>> make_ask_agent(std::string const& spec,
                                                 std::chrono::milliseconds timeout);

class Daemon final : public ConfigSource, public Lifecycle, public BrokerHost {
public:
    static Result<std::unique_ptr<Daemon>> create(DaemonOptions opts);
    ~Daemon() override;

    // Runs until stop() (or SIGTERM/SIGINT when handle_signals was called).
    Result<void> run();
    // Thread-safe: shuts every domain down, stops the API and the loop.
    void stop();

    // ConfigSource
    Result<StartConfig> start_config(std::string const& name) override;
    Result<void> commit_template_layer(std::string const& name, std::string const& dir) override;
    Result<void> forget_disposable(std::string const& name) override;
    Result<NetConfig> net_config(std::string const& name) override;
    Result<std::vector<std::string>> firewall_rules(std::string const& name) override;

    // Lifecycle
    Result<void> start(std::string const& name) override;
    Result<void> shutdown(std::string const& name, bool wait,
                          std::chrono::seconds timeout) override;
    Result<void> kill(std::string const& name) override;
    Result<void> pause(std::string const& name) override;
    Result<void> unpause(std::string const& name) override;
    std::string power_state(std::string const& name) override;
    Result<void> before_remove(std::string const& name) override;
    Result<void> network_changed(std::string const& name) override;
    Result<void> firewall_changed(std::string const& name) override;
    Result<void> check_shutdown(std::string const& name) override;

    // BrokerHost
    policy::Decision decide(std::string const& source, std::string const& target,
                            std::string const& service) override;
    Result<DomId> start_domain(std::string const& name) override;
    std::optional<DomId> running_id(std::string const& name) override;
    Result<std::string> create_dispvm(std::string const& dvm_template) override;
    void destroy_dispvm(std::string const& name) override;
    std::string default_user(std::string const& name) override;
    std::optional<std::string> ask(std::string const& source, std::string const& service,
                                   policy::Ask const& ask) override;
    void agent_lost(std::string const& name) override;

private:
    explicit Daemon(DaemonOptions opts);
    Result<ExtensionReply> extension(admin::Request const& req, PeerCred peer);
    Result<ExtensionReply> handle_run(admin::Run const& run);
    Result<ExtensionReply> handle_import_layer(admin::ImportLayer const& req);
    Result<policy::SystemInfo> system_info();
    // A new halted DispVM record of dvm (resolved and checked by create_dispvm).
    Result<std::string> create_dispvm_record(std::string const& dvm);

    DaemonOptions m_opts;
    Layout m_layout;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<EventLoop> m_loop;
    std::unique_ptr<Hypervisor> m_hv;
    std::unique_ptr<Plumbing> m_plumbing;
    std::unique_ptr<Broker> m_broker;
    std::unique_ptr<GuiBridge> m_gui; // wraps m_broker as the manager's AgentHub
    std::unique_ptr<DomainManager> m_manager;
    std::unique_ptr<ApiServer> m_api;
    std::unique_ptr<DispvmPool> m_pool; // preloaded disposables (preload-dispvm-max)
    std::unique_ptr<AskAgent> m_ask;    // null: every ask is denied
    std::mutex m_stop_mutex;
    bool m_stopped = false;

    policy::PolicyCache m_policy; // reloaded when a file in policy_dirs changes
};

} // namespace bulkhead::dom0
