#include <bulkhead/base/sys/poll.h>

#include <cerrno>

namespace bulkhead::sys {

Result<short> poll_one(int fd, short events, std::chrono::milliseconds timeout) {
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int ms = -1;
        if (timeout.count() >= 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            ms = left.count() > 0 ? int(left.count()) : 0;
        }
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, ms);
        if (n >= 0)
            return short(n == 0 ? 0 : p.revents);
        if (errno != EINTR)
            return Error::from_errno("poll", errno);
    }
}

} // namespace bulkhead::sys
