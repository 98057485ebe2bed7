#include "local_fd.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <utility>

namespace bulkhead::rpc::session {

LocalFd::LocalFd(UniqueFd fd)
    : m_fd(std::move(fd)) {
    if (!m_fd)
        return;
    struct stat st {};
    if (::fstat(m_fd.get(), &st) == 0) {
        m_socket = S_ISSOCK(st.st_mode);
        m_dev = st.st_dev;
        m_ino = st.st_ino;
    }
    int flags = ::fcntl(m_fd.get(), F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK) &&
        ::fcntl(m_fd.get(), F_SETFL, flags | O_NONBLOCK) == 0)
        m_flags = flags;
}

LocalFd::LocalFd(LocalFd&& other) noexcept
    : m_fd(std::move(other.m_fd))
    , m_flags(std::exchange(other.m_flags, -1))
    , m_socket(other.m_socket)
    , m_dev(other.m_dev)
    , m_ino(other.m_ino) {}

LocalFd& LocalFd::operator=(LocalFd&& other) noexcept {
    if (this != &other) {
        close();
        m_fd = std::move(other.m_fd);
        m_flags = std::exchange(other.m_flags, -1);
        m_socket = other.m_socket;
        m_dev = other.m_dev;
        m_ino = other.m_ino;
    }
    return *this;
}

void LocalFd::close(bool keep_flags) {
    if (m_fd && m_flags >= 0 && !keep_flags)
        (void)::fcntl(m_fd.get(), F_SETFL, m_flags);
    m_flags = -1;
    m_fd.reset();
}

bool LocalFd::same_file(LocalFd const& other) const {
    return m_fd && other.m_fd && m_dev == other.m_dev && m_ino == other.m_ino;
}

void LocalFd::hand_flags_to(LocalFd& other) {
    if (other.m_flags < 0)
        other.m_flags = m_flags;
    m_flags = -1;
}

Result<int> poll_fds(std::span<pollfd> fds, std::chrono::milliseconds timeout) {
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int ms = -1;
        if (timeout.count() >= 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            ms = left.count() > 0 ? int(left.count()) : 0;
        }
        int n = ::poll(fds.data(), nfds_t(fds.size()), ms);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return Error::from_errno("poll", errno);
    }
}

} // namespace bulkhead::rpc::session
