#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/gui/fd_channel.h>

#include <cerrno>
#include <sys/socket.h>
#include <vector>

namespace bulkhead::rpc::gui {

namespace {
// Descriptors accepted in one recvmsg; the kernel truncates more (MSG_CTRUNC: an error).
constexpr size_t max_fds_per_read = 4;
} // namespace

GuiSocketChannel::GuiSocketChannel(UniqueFd fd, DomainId peer, Port port, size_t max_pending_fds)
    : m_fd(std::move(fd))
    , m_peer(peer)
    , m_port(port)
    , m_max_fds(max_pending_fds) {}

Result<size_t> GuiSocketChannel::read(std::span<std::byte> buf) {
    if (buf.empty())
        return size_t(0);
    // Every descriptor is owned (closed on error) before anything else is decided.
    std::vector<UniqueFd> got;
    auto n = sys::recv_with_fds(m_fd.get(), buf, got, max_fds_per_read, MSG_DONTWAIT);
    for (auto& fd : got)
        m_fds.push_back(std::move(fd));
    if (!n) {
        int e = n.error().sys_errno();
        if (e == EAGAIN || e == EWOULDBLOCK)
            return size_t(0);
        if (n.error().code() == Errc::Limit)
            return unexpected(Errc::Limit, "gui socket: too many descriptors in one message");
        if (e == ECONNRESET)
            return unexpected(Errc::Closed, "gui socket: peer reset");
        return std::move(n).error().prefix("gui socket");
    }
    if (m_fds.size() > m_max_fds)
        return unexpected(Errc::Limit, "gui socket: more descriptors than messages for them");
    if (*n == 0)
        return unexpected(Errc::Closed, "gui socket: end of stream");
    return *n;
}

Result<size_t> GuiSocketChannel::write(std::span<std::byte const> buf) {
    return write_with_fd(buf, -1);
}

Result<size_t> GuiSocketChannel::write_with_fd(std::span<std::byte const> buf, int fd) {
    if (buf.empty())
        return size_t(0);
    auto n = sys::send_with_fd(m_fd.get(), buf, fd, MSG_DONTWAIT);
    if (!n) {
        int e = n.error().sys_errno();
        if (e == EAGAIN || e == EWOULDBLOCK)
            return size_t(0);
        if (e == EPIPE || e == ECONNRESET)
            return unexpected(Errc::Closed, "gui socket: peer gone");
        return std::move(n).error().prefix("gui socket");
    }
    return *n;
}

uint32_t GuiSocketChannel::watch_events(WantWrite want) const {
    return EventLoop::Readable | (want == WantWrite::Yes ? EventLoop::Writable : 0u);
}

UniqueFd GuiSocketChannel::take_fd() {
    if (m_fds.empty())
        return {};
    UniqueFd fd = std::move(m_fds.front());
    m_fds.pop_front();
    return fd;
}

} // namespace bulkhead::rpc::gui
