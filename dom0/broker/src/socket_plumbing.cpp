#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/dom0/broker/plumbing.h>
#include <bulkhead/rpc/socket_vchan.h>

#include <thread>
#include <unistd.h>

namespace bulkhead::dom0 {
namespace {

// A second name for a dom0 data server, where no domain can reach it.
std::string private_link(Layout const& layout, Endpoint const& domain, rpc::Port port) {
    return layout.run_dir() + "/dom0-calls/" + domain.name + "." + std::to_string(domain.id) + "." +
           std::to_string(port) + ".sock";
}

} // namespace

std::unique_ptr<rpc::Transport> SocketPlumbing::transport_for(std::string const& domain) {
    return std::make_unique<rpc::SocketTransport>(m_layout.vchan_dir(domain), 0);
}

Result<UniqueFd> SocketPlumbing::dom0_data_server(Endpoint const& domain, rpc::Port port) {
    auto path =
        rpc::SocketTransport::socket_path(m_layout.vchan_dir(domain.name), 0, domain.id, port);
    (void)sys::unlink(path);
    auto fd = TRY(sys::unix_listen(path, 1));
    // The domain's agent may run as an unprivileged (user-namespace) uid: let it connect.
    // The directory is the domain's own; no other domain sees it.
    TRY(sys::chmod(path, 0666));
    auto link = private_link(m_layout, domain, port);
    TRY(sys::mkdir_p(m_layout.run_dir() + "/dom0-calls", 0700));
    (void)sys::unlink(link);
    TRY(sys::link(path, link));
    return fd;
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
    // The target's agent (another id range under a user namespace) must be able to connect.
    TRY(sys::chmod(to, 0666));
    return {};
}

void SocketPlumbing::unroute(Endpoint const& server, Endpoint const& client, rpc::Port port) {
    if (server.id == 0) {
        // A dom0 call: a caller still waiting for the agent's connection (the domain died
        // before it took the call) is woken by an empty one, so it fails at once. A caller
        // that accepted already has closed its listener: refused, nothing happens.
        auto link = private_link(m_layout, client, port);
        (void)sys::unix_connect(link, SOCK_CLOEXEC | SOCK_NONBLOCK);
        (void)sys::unlink(link);
    }
    (void)sys::unlink(rpc::SocketTransport::socket_path(m_layout.vchan_dir(server.name), server.id,
                                                        client.id, port));
    (void)sys::unlink(rpc::SocketTransport::socket_path(m_layout.vchan_dir(client.name), server.id,
                                                        client.id, port));
}

} // namespace bulkhead::dom0
