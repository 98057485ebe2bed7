// Unix-domain socket calls, wrapped once. Used by the socket vchan, the admin API
// and the agent's local services. Peer credentials come from the kernel (SO_PEERCRED).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>

#include <cstddef>
#include <span>
#include <vector>

#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/types.h>
#include <utility>

namespace bulkhead::sys {

struct PeerCred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

// Binds and listens on a stream socket at path (an existing socket file is replaced).
Result<UniqueFd> unix_listen(std::string const& path, int backlog = 128, int flags = SOCK_CLOEXEC);
Result<UniqueFd> unix_connect(std::string const& path, int flags = SOCK_CLOEXEC);
// Returns an invalid fd on EAGAIN (non-blocking listener with nothing pending).
Result<UniqueFd> accept(int listen_fd, int flags = SOCK_CLOEXEC);
Result<std::pair<UniqueFd, UniqueFd>> socketpair(int type = SOCK_STREAM | SOCK_CLOEXEC);
Result<PeerCred> peer_cred(int fd);
Result<void> shutdown_write(int fd);
// Shuts both directions: wakes a thread blocked reading the socket (ENOTCONN is fine).
Result<void> shutdown_both(int fd);
// One sendmsg of buf with `fd` attached by SCM_RIGHTS (fd < 0: none), MSG_NOSIGNAL | flags,
// EINTR retried: the count sent (the descriptor went with the first byte). Errors keep their
// errno (EAGAIN with MSG_DONTWAIT; EPIPE/ECONNRESET are Errc::Closed).
Result<size_t> send_with_fd(int sock, std::span<std::byte const> buf, int fd, int flags = 0);
// One recvmsg into buf (flags | MSG_CMSG_CLOEXEC, EINTR retried): the count (0 at end of
// stream), every descriptor that came appended to `fds`, owned, before anything is decided.
// More than max_fds in one message (MSG_CTRUNC) is Errc::Limit.
Result<size_t> recv_with_fds(int sock, std::span<std::byte> buf, std::vector<UniqueFd>& fds,
                             size_t max_fds = 4, int flags = 0);
// One descriptor passed with SCM_RIGHTS beside a small payload.
Result<void> send_fd(int sock, int fd, std::string_view payload);
Result<std::pair<UniqueFd, std::string>> recv_fd(int sock, size_t max_payload = 4096);
// As recv_fd, but a message without a descriptor is not an error (the fd is invalid then).
Result<std::pair<UniqueFd, std::string>> recv_maybe_fd(int sock, size_t max_payload = 4096);

} // namespace bulkhead::sys
