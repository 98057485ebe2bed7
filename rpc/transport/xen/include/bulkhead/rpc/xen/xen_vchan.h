// libxenvchan backend: Channels over Xen shared-memory rings + event channels, opened at the
// xenstore paths Qubes' libvchan-xen uses (server: data/vchan/<client>/<port> in its own
// domain dir; client: /local/domain/<server>/data/vchan/<self>/<port>), so Qubes peers interop.
// Peer ids come from Xen (grant/event-channel ownership), never from ring contents.
#pragma once

#include <bulkhead/rpc/transport.h>

#include <cstddef>
#include <memory>
#include <string>

struct libxenvchan;

namespace bulkhead::rpc {

// Owns a struct libxenvchan; every libxenvchan_* call of the project is wrapped here.
class XenChannel final : public Channel {
public:
    XenChannel(libxenvchan* ctrl, DomainId peer, Port port);
    ~XenChannel() override;

    Result<size_t> read(std::span<std::byte> buf) override;
    Result<size_t> write(std::span<std::byte const> buf) override;
    int readiness_fd() const override;
    // The event channel fd reports every change (data, space, close) as Readable.
    uint32_t watch_events(WantWrite want) const override;
    // libxenvchan_wait(), only when the event fd is readable (so it never blocks).
    Result<void> acknowledge() override;
    DomainId peer_domain() const override { return m_peer; }
    Port port() const override { return m_port; }

private:
    libxenvchan* m_ctrl;
    DomainId m_peer;
    Port m_port;
};

class XenTransport final : public Transport {
public:
    // Ring sizes requested by servers (Qubes uses 64 KiB both ways).
    static constexpr size_t default_ring_size = 65536;

    // local = this domain's id (dom0: 0).
    explicit XenTransport(DomainId local, size_t ring_size = default_ring_size);
    // Reads this domain's id from xenstore ("domid"); Errc::Unsupported without Xen.
    static Result<XenTransport> from_xenstore(size_t ring_size = default_ring_size);

    // Whether `server` publishes a vchan server for `self` on port (its ring-ref in
    // xenstore, readable by the client): a poll, for a client that waits without connecting.
    static bool server_published(DomainId server, DomainId self, Port port);
    static std::string server_path(DomainId client, Port port);
    static std::string client_path(DomainId server, DomainId self, Port port);

    DomainId local_domain() const override { return m_local; }
    // libxenvchan_server_init: grants the rings to peer; accept() once peer connected.
    Result<std::unique_ptr<Listener>> listen(DomainId peer, Port port) override;
    // libxenvchan_client_init, retried until the server published its rings or timeout.
    Result<std::unique_ptr<Channel>> connect(DomainId peer, Port port,
                                             std::chrono::milliseconds timeout) override;

private:
    DomainId m_local;
    size_t m_ring_size;
};

} // namespace bulkhead::rpc
