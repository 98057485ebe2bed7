// poll(2) on one descriptor, wrapped once. Used by blocking helpers (channel waits with a
// deadline) that must not need an EventLoop. EINTR is retried with the remaining time.
#pragma once

#include <bulkhead/base/result.h>

#include <chrono>
#include <poll.h>

namespace bulkhead::sys {

// Waits until fd reports any of events (POLLIN/POLLOUT) or timeout passes.
// Returns the revents seen (0 on timeout). A negative timeout waits forever.
Result<short> poll_one(int fd, short events, std::chrono::milliseconds timeout);

} // namespace bulkhead::sys
