// Plumbing: the backend-specific half of qrexec connections, so the broker is written
// once. Sandbox (SocketPlumbing): socket vchan files in per-domain directories that dom0
// controls; a VM-to-VM data connection is made by linking the source's server socket into
// the target's directory. Xen: libxenvchan endpoints need no routing.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/dom0/domains/layout.h>
#include <bulkhead/rpc/transport.h>

#include <atomic>
#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace bulkhead::dom0 {

struct Endpoint {
    std::string name;
    rpc::DomainId id = 0;
};

class Plumbing {
public:
    virtual ~Plumbing() = default;
    // dom0's transport towards one domain (its control connection, dom0-side data servers).
    virtual std::unique_ptr<rpc::Transport> transport_for(std::string const& domain) = 0;
    // A listening endpoint for a data connection the domain's agent will open to dom0
    // (qvm-run): a file descriptor to hand to the caller, accept()ing exactly one client.
    virtual Result<UniqueFd> dom0_data_server(Endpoint const& domain, rpc::Port port) = 0;
    // The source created its data server for (target, port): make it reachable from the
    // target. Waits for the source to create it until timeout.
    virtual Result<void> route(Endpoint const& source, Endpoint const& target, rpc::Port port,
                               std::chrono::milliseconds timeout) = 0;
    // The connection ended: remove what route()/dom0_data_server() made. For a dom0 data
    // server (server id 0) whose caller still waits for the agent, also make that wait end.
    virtual void unroute(Endpoint const& server, Endpoint const& client, rpc::Port port) = 0;
};

class SocketPlumbing final : public Plumbing {
public:
    explicit SocketPlumbing(Layout layout)
        : m_layout(std::move(layout)) {}
    std::unique_ptr<rpc::Transport> transport_for(std::string const& domain) override;
    Result<UniqueFd> dom0_data_server(Endpoint const& domain, rpc::Port port) override;
    Result<void> route(Endpoint const& source, Endpoint const& target, rpc::Port port,
                       std::chrono::milliseconds timeout) override;
    void unroute(Endpoint const& server, Endpoint const& client, rpc::Port port) override;

private:
    Layout m_layout;
};

// Xen (libxenvchan): nothing to route between domains; dom0's calls get a relay thread each
// between dom0's vchan server and the listening socket handed to the caller.
class XenPlumbing final : public Plumbing {
public:
    explicit XenPlumbing(Layout layout);
    ~XenPlumbing() override;
    std::unique_ptr<rpc::Transport> transport_for(std::string const& domain) override;
    Result<UniqueFd> dom0_data_server(Endpoint const& domain, rpc::Port port) override;
    Result<void> route(Endpoint const& source, Endpoint const& target, rpc::Port port,
                       std::chrono::milliseconds timeout) override;
    void unroute(Endpoint const& server, Endpoint const& client, rpc::Port port) override;

private:
    struct Relay {
        rpc::DomainId domain = 0;
        rpc::Port port = 0;
        UniqueFd cancel; // readable: the call ended
        std::thread thread;
        std::atomic<bool> finished{false};
    };
    Layout m_layout;
    std::mutex m_mutex;
    std::list<std::shared_ptr<Relay>> m_relays;
};

} // namespace bulkhead::dom0
