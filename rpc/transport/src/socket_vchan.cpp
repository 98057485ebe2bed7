#include <bulkhead/rpc/socket_vchan.h>

#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/base/text.h>

#include <cerrno>
#include <thread>

namespace bulkhead::rpc {

namespace {

bool would_block(Error const& e) {
    return e.code() == Errc::System && (e.sys_errno() == EAGAIN || e.sys_errno() == EWOULDBLOCK);
}

class SocketListener final : public Listener {
public:
    SocketListener(UniqueFd fd, std::string path, DomainId peer, Port port)
        : m_fd(std::move(fd))
        , m_path(std::move(path))
        , m_peer(peer)
        , m_port(port) {}
    ~SocketListener() override { remove_file(); }

    int readiness_fd() const override { return m_fd.get(); }
    DomainId peer_domain() const override { return m_peer; }
    Port port() const override { return m_port; }

    Result<std::unique_ptr<Channel>> accept() override {
        if (!m_fd)
            return unexpected(Errc::Busy, "socket vchan: listener already accepted its client");
        auto fd = TRY_CTX(sys::accept(m_fd.get(), SOCK_CLOEXEC | SOCK_NONBLOCK),
                          "socket vchan " + m_path);
        if (!fd)
            return std::unique_ptr<Channel>();
        // One client per server, as libvchan: stop listening and free the name.
        remove_file();
        m_fd.reset();
        return std::unique_ptr<Channel>(
            std::make_unique<SocketChannel>(std::move(fd), m_peer, m_port));
    }

private:
    void remove_file() {
        if (!m_path.empty())
            (void)sys::unlink(m_path);
        m_path.clear();
    }

    UniqueFd m_fd;
    std::string m_path;
    DomainId m_peer;
    Port m_port;
};

} // namespace

SocketChannel::SocketChannel(UniqueFd fd, DomainId peer, Port port)
    : m_fd(std::move(fd))
    , m_peer(peer)
    , m_port(port) {}

Result<size_t> SocketChannel::read(std::span<std::byte> buf) {
    if (buf.empty())
        return size_t(0);
    auto n = sys::read(m_fd.get(), buf);
    if (!n) {
        if (would_block(n.error()))
            return size_t(0);
        if (n.error().code() == Errc::Closed)
            return unexpected(Errc::Closed, "socket vchan: peer reset");
        return std::move(n).error();
    }
    if (*n == 0)
        return unexpected(Errc::Closed, "socket vchan: end of stream");
    return *n;
}

Result<size_t> SocketChannel::write(std::span<std::byte const> buf) {
    if (buf.empty())
        return size_t(0);
    auto n = sys::write(m_fd.get(), buf);
    if (!n) {
        if (would_block(n.error()))
            return size_t(0);
        if (n.error().code() == Errc::Closed)
            return unexpected(Errc::Closed, "socket vchan: peer closed");
        return std::move(n).error();
    }
    return *n;
}

uint32_t SocketChannel::watch_events(WantWrite want) const {
    return EventLoop::Readable | (want == WantWrite::Yes ? uint32_t(EventLoop::Writable) : 0u);
}

SocketTransport::SocketTransport(std::string dir, DomainId local)
    : m_dir(std::move(dir))
    , m_local(local) {
    sys::ignore_sigpipe(); // a peer that goes away must be Errc::Closed, not a signal
}

Result<SocketTransport> SocketTransport::from_env() {
    auto dir = sys::getenv_or("VCHAN_SOCKET_DIR", "/var/run/vchan");
    auto dom = sys::getenv("VCHAN_DOMAIN");
    if (!dom)
        return unexpected(Errc::Invalid, "socket vchan: VCHAN_DOMAIN is not set");
    auto id = text::parse_u64(*dom);
    if (!id || *id > 0x7fff)
        return unexpected(Errc::Invalid, "socket vchan: VCHAN_DOMAIN is not a domain id");
    return SocketTransport(dir, DomainId(*id));
}

std::string SocketTransport::socket_path(std::string const& dir, DomainId server, DomainId client,
                                         Port port) {
    return dir + "/vchan." + std::to_string(server) + "." + std::to_string(client) + "." +
           std::to_string(port) + ".sock";
}

Result<std::unique_ptr<Listener>> SocketTransport::listen(DomainId peer, Port port) {
    auto path = socket_path(m_dir, m_local, peer, port);
    auto fd = TRY_CTX(sys::unix_listen(path, 1, SOCK_CLOEXEC | SOCK_NONBLOCK), "socket vchan");
    return std::unique_ptr<Listener>(
        std::make_unique<SocketListener>(std::move(fd), std::move(path), peer, port));
}

Result<std::unique_ptr<Channel>> SocketTransport::connect(DomainId peer, Port port,
                                                          std::chrono::milliseconds timeout) {
    auto path = socket_path(m_dir, peer, m_local, port);
    auto const deadline = sys::now() + timeout;
    auto delay = std::chrono::milliseconds(1);
    for (;;) {
        auto fd = sys::unix_connect(path, SOCK_CLOEXEC);
        if (fd) {
            TRY(sys::set_nonblocking(fd->get()));
            return std::unique_ptr<Channel>(
                std::make_unique<SocketChannel>(std::move(*fd), peer, port));
        }
        int e = fd.error().sys_errno();
        bool retry = e == ENOENT || e == ECONNREFUSED || e == EAGAIN;
        if (!retry)
            return std::move(fd).error().prefix("socket vchan");
        if (sys::now() >= deadline)
            return unexpected(Errc::Timeout, "socket vchan: no server at " + path);
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 2, std::chrono::milliseconds(50));
    }
}

} // namespace bulkhead::rpc
