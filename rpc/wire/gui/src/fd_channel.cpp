#include <bulkhead/base/event_loop.h>
#include <bulkhead/rpc/gui/fd_channel.h>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

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
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds_per_read)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(m_fd.get(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return size_t(0);
        if (errno == ECONNRESET)
            return unexpected(Errc::Closed, "gui socket: peer reset");
        return Error::from_errno("recvmsg (gui socket)", errno);
    }
    // Every descriptor is owned (closed on error) before anything else is decided.
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            m_fds.emplace_back(fd);
        }
    }
    if (msg.msg_flags & MSG_CTRUNC)
        return unexpected(Errc::Limit, "gui socket: too many descriptors in one message");
    if (m_fds.size() > m_max_fds)
        return unexpected(Errc::Limit, "gui socket: more descriptors than messages for them");
    if (n == 0)
        return unexpected(Errc::Closed, "gui socket: end of stream");
    return size_t(n);
}

Result<size_t> GuiSocketChannel::write(std::span<std::byte const> buf) {
    return write_with_fd(buf, -1);
}

Result<size_t> GuiSocketChannel::write_with_fd(std::span<std::byte const> buf, int fd) {
    if (buf.empty())
        return size_t(0);
    iovec iov{const_cast<std::byte*>(buf.data()), buf.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t n;
    do {
        n = ::sendmsg(m_fd.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return size_t(0);
        if (errno == EPIPE || errno == ECONNRESET)
            return unexpected(Errc::Closed, "gui socket: peer gone");
        return Error::from_errno("sendmsg (gui socket)", errno);
    }
    return size_t(n);
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
