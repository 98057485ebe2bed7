// LocalFd: a descriptor a data session drives non-blocking; its original file status flags
// come back when it is closed (so a terminal shared with a shell is left as it was found).
// poll_fds: poll(2) over several descriptors, EINTR retried. Private to rpc/session.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>

#include <chrono>
#include <poll.h>
#include <span>

namespace bulkhead::rpc::session {

class LocalFd {
public:
    LocalFd() = default;
    explicit LocalFd(UniqueFd fd);
    LocalFd(LocalFd&& other) noexcept;
    LocalFd& operator=(LocalFd&& other) noexcept;
    ~LocalFd() { close(); }

    int get() const { return m_fd.get(); }
    explicit operator bool() const { return m_fd.valid(); }
    bool is_socket() const { return m_socket; }
    // Restores the flags (unless `keep_flags`: another open LocalFd shares the file) and closes.
    void close(bool keep_flags = false);
    // Same file (device and inode) as other: dups of one description look like this.
    bool same_file(LocalFd const& other) const;
    // Makes other responsible for restoring the flags (it shares our file and stays open).
    void hand_flags_to(LocalFd& other);

private:
    UniqueFd m_fd;
    int m_flags = -1; // original flags when O_NONBLOCK was added by us, else -1
    bool m_socket = false;
    unsigned long m_dev = 0;
    unsigned long m_ino = 0;
};

// Returns how many descriptors have events (0 on timeout; a negative timeout waits forever).
Result<int> poll_fds(std::span<pollfd> fds, std::chrono::milliseconds timeout);

} // namespace bulkhead::rpc::session
