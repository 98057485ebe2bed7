// Transport: opens Channels by (peer domain, port) so dom0 and the agent are written once for
// every backend (SocketTransport in the sandbox and tests, XenTransport on Xen).
// listen() = vchan server (owns the endpoint, one client); connect() = vchan client.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/rpc/channel.h>

#include <chrono>
#include <memory>

namespace bulkhead::rpc {

// A server endpoint waiting for its one client.
class Listener {
public:
    virtual ~Listener() = default;
    // Watch for Readable in the event loop; then call accept().
    virtual int readiness_fd() const = 0;
    // The connected channel, or nullptr when no client has connected yet. Once a channel is
    // returned the listener is spent (one client per server, as libvchan).
    virtual Result<std::unique_ptr<Channel>> accept() = 0;
    virtual DomainId peer_domain() const = 0;
    virtual Port port() const = 0;
};

class Transport {
public:
    virtual ~Transport() = default;
    // This domain's id, as the backend knows it.
    virtual DomainId local_domain() const = 0;
    virtual Result<std::unique_ptr<Listener>> listen(DomainId peer, Port port) = 0;
    // Connects to peer's server on port, retrying until timeout (Errc::Timeout).
    virtual Result<std::unique_ptr<Channel>> connect(DomainId peer, Port port,
                                                     std::chrono::milliseconds timeout) = 0;
};

// Blocks until the listener's client connected or timeout passed (Errc::Timeout).
Result<std::unique_ptr<Channel>> accept_wait(Listener& listener, std::chrono::milliseconds timeout);

} // namespace bulkhead::rpc
