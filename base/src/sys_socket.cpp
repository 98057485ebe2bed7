#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace bulkhead::sys {

namespace {
Result<sockaddr_un> unix_addr(std::string const& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return unexpected(Errc::Invalid, "socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}
} // namespace

Result<UniqueFd> unix_listen(std::string const& path, int backlog, int flags) {
    auto addr = TRY(unix_addr(path));
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | flags, 0));
    if (!fd)
        return Error::from_errno("socket", errno);
    TRY(unlink(path));
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        return Error::from_errno("bind " + path, errno);
    if (::listen(fd.get(), backlog) < 0)
        return Error::from_errno("listen " + path, errno);
    return fd;
}

Result<UniqueFd> unix_connect(std::string const& path, int flags) {
    auto addr = TRY(unix_addr(path));
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | flags, 0));
    if (!fd)
        return Error::from_errno("socket", errno);
    for (;;) {
        if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
            return fd;
        if (errno == EINPROGRESS)
            return fd;
        if (errno != EINTR)
            return Error::from_errno("connect " + path, errno);
    }
}

Result<UniqueFd> accept(int listen_fd, int flags) {
    for (;;) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, flags);
        if (fd >= 0)
            return UniqueFd(fd);
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)
            return UniqueFd();
        if (errno != EINTR)
            return Error::from_errno("accept", errno);
    }
}

Result<std::pair<UniqueFd, UniqueFd>> socketpair(int type) {
    int fds[2];
    if (::socketpair(AF_UNIX, type, 0, fds) < 0)
        return Error::from_errno("socketpair", errno);
    return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<PeerCred> peer_cred(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return Error::from_errno("getsockopt(SO_PEERCRED)", errno);
    return PeerCred{cred.pid, cred.uid, cred.gid};
}

Result<void> shutdown_write(int fd) {
    if (::shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN)
        return Error::from_errno("shutdown", errno);
    return {};
}

Result<void> shutdown_both(int fd) {
    if (::shutdown(fd, SHUT_RDWR) < 0 && errno != ENOTCONN)
        return Error::from_errno("shutdown", errno);
    return {};
}

Result<size_t> send_with_fd(int sock, std::span<std::byte const> buf, int fd, int flags) {
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
    for (;;) {
        ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL | flags);
        if (n >= 0)
            return size_t(n);
        if (errno != EINTR)
            return Error::from_errno("sendmsg", errno);
    }
}

Result<size_t> recv_with_fds(int sock, std::span<std::byte> buf, std::vector<UniqueFd>& fds,
                             size_t max_fds, int flags) {
    iovec iov{buf.data(), buf.size()};
    std::vector<char> control(CMSG_SPACE(sizeof(int) * max_fds));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t n;
    do {
        n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return Error::from_errno("recvmsg", errno);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            fds.emplace_back(fd);
        }
    }
    if (msg.msg_flags & MSG_CTRUNC)
        return unexpected(Errc::Limit, "recvmsg: more descriptors than " + std::to_string(max_fds) +
                                           " in one message");
    return size_t(n);
}

Result<void> send_fd(int sock, int fd, std::string_view payload) {
    char byte = 0;
    auto bytes = payload.empty()
                     ? std::span<std::byte const>(reinterpret_cast<std::byte const*>(&byte), 1)
                     : std::as_bytes(std::span(payload.data(), payload.size()));
    TRY(send_with_fd(sock, bytes, fd));
    return {};
}

Result<std::pair<UniqueFd, std::string>> recv_fd(int sock, size_t max_payload) {
    auto r = TRY(recv_maybe_fd(sock, max_payload));
    if (!r.first)
        return unexpected(Errc::Protocol, "recvmsg: no descriptor passed");
    return r;
}

Result<std::pair<UniqueFd, std::string>> recv_maybe_fd(int sock, size_t max_payload) {
    std::string payload(max_payload, '\0');
    std::vector<UniqueFd> fds; // only one descriptor is expected: extras are closed
    auto n = TRY(recv_with_fds(sock, std::as_writable_bytes(std::span(payload)), fds));
    if (n == 0)
        return unexpected(Errc::Closed, "recvmsg: end of stream");
    payload.resize(n);
    UniqueFd got = fds.empty() ? UniqueFd() : std::move(fds.front());
    return std::pair{std::move(got), std::move(payload)};
}

} // namespace bulkhead::sys
