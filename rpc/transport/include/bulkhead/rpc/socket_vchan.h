// Socket vchan: the unix-socket stand-in for libxenvchan used by the sandbox backend and
// tests, file-compatible with Qubes' libvchan-socket: a plain stream socket at
// $VCHAN_SOCKET_DIR/vchan.<server domid>.<client domid>.<port>.sock, no handshake.
// The peer id comes from the path, which dom0 controls (each domain sees only its own dir).
#pragma once

#include <bulkhead/base/unique_fd.h>
#include <bulkhead/rpc/transport.h>

#include <string>

namespace bulkhead::rpc {

// One connected socket; EOF → Errc::Closed, EAGAIN → 0.
class SocketChannel final : public Channel {
public:
    SocketChannel(UniqueFd fd, DomainId peer, Port port);
    Result<size_t> read(std::span<std::byte> buf) override;
    Result<size_t> write(std::span<std::byte const> buf) override;
    int readiness_fd() const override { return m_fd.get(); }
    uint32_t watch_events(WantWrite want) const override;
    Result<void> acknowledge() override { return {}; }
    DomainId peer_domain() const override { return m_peer; }
    Port port() const override { return m_port; }

private:
    UniqueFd m_fd;
    DomainId m_peer;
    Port m_port;
};

class SocketTransport final : public Transport {
public:
    // dir = socket directory, local = this domain's id. Ignores SIGPIPE process-wide so a
    // vanished peer shows up as Errc::Closed.
    SocketTransport(std::string dir, DomainId local);
    // From the environment, as libvchan-socket: VCHAN_SOCKET_DIR (default /var/run/vchan)
    // and VCHAN_DOMAIN (required: Errc::Invalid when missing or not a number).
    static Result<SocketTransport> from_env();

    // vchan.<server>.<client>.<port>.sock inside dir.
    static std::string socket_path(std::string const& dir, DomainId server, DomainId client,
                                   Port port);

    DomainId local_domain() const override { return m_local; }
    std::string const& dir() const { return m_dir; }
    // Creates the socket file (replacing a stale one); the file is removed on accept/destroy.
    Result<std::unique_ptr<Listener>> listen(DomainId peer, Port port) override;
    // Connects, retrying while the file is missing or refuses, until timeout.
    Result<std::unique_ptr<Channel>> connect(DomainId peer, Port port,
                                             std::chrono::milliseconds timeout) override;

private:
    std::string m_dir;
    DomainId m_local;
};

} // namespace bulkhead::rpc
