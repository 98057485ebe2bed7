#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/dom0/broker/plumbing.h>
#include <bulkhead/rpc/socket_vchan.h>

#include <thread>
#include <unistd.h>

namespace bulkhead::dom0 {

std::unique_ptr<rpc::Transport> SocketPlumbing::transport_for(std::string const& domain) {
    return std::make_unique<rpc::SocketTransport>(m_layout.vchan_dir(domain), 0);
}

Result<UniqueFd> SocketPlumbing::dom0_data_server(Endpoint const& domain, rpc::Port port) {
    auto path =
        rpc::SocketTransport::socket_path(m_layout.vchan_dir(domain.name), 0, domain.id, port);
    (void)sys::unlink(path);
    return sys::unix_listen(path, 1);
}

Result<void> SocketPlumbing::route(Endpoint const& source, Endpoint const& target, rpc::Port port,
                                   std::chrono::milliseconds timeout) {
    auto from = rpc::SocketTransport::socket_path(m_layout.vchan_dir(source.name), source.id,
                                                  target.id, port);
    auto to = rpc::SocketTransport::socket_path(m_layout.vchan_dir(target.name), source.id,
                                                target.id, port);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(200);
    for (;;) {
        // lstat, not stat: the source's directory is guest-writable; only a socket it created
        // itself is linked, never a symlink it planted.
        auto st = sys::lstat(from);
        if (st && S_ISSOCK(st->st_mode))
            break;
        if (st)
            return unexpected(Errc::Protocol,
                              "data endpoint of " + source.name + " is not a socket");
        if (std::chrono::steady_clock::now() >= deadline)
            return unexpected(Errc::Timeout, source.name + " did not open its data endpoint");
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(5000));
    }
    (void)sys::unlink(to);
    TRY(sys::link(from, to));
    return {};
}

void SocketPlumbing::unroute(Endpoint const& server, Endpoint const& client, rpc::Port port) {
    (void)sys::unlink(rpc::SocketTransport::socket_path(m_layout.vchan_dir(server.name), server.id,
                                                        client.id, port));
    (void)sys::unlink(rpc::SocketTransport::socket_path(m_layout.vchan_dir(client.name), server.id,
                                                        client.id, port));
}

} // namespace bulkhead::dom0
