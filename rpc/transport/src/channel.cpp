#include <bulkhead/rpc/channel.h>
#include <bulkhead/rpc/transport.h>

#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/sys/poll.h>
#include <bulkhead/base/sys/proc.h>

namespace bulkhead::rpc {

namespace {

std::chrono::milliseconds left_until(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - sys::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(0);
}

} // namespace

Result<bool> wait_ready(Channel& ch, WantWrite want, std::chrono::milliseconds timeout) {
    uint32_t ev = ch.watch_events(want);
    short events = 0;
    if (ev & EventLoop::Readable)
        events |= POLLIN;
    if (ev & EventLoop::Writable)
        events |= POLLOUT;
    short got = TRY(sys::poll_one(ch.readiness_fd(), events, timeout));
    if (got == 0)
        return false;
    TRY(ch.acknowledge());
    return true;
}

Result<void> write_all(Channel& ch, std::span<std::byte const> buf,
                       std::chrono::milliseconds timeout) {
    auto const deadline = sys::now() + timeout;
    while (!buf.empty()) {
        size_t n = TRY(ch.write(buf));
        if (n > 0) {
            buf = buf.subspan(n);
            continue;
        }
        if (sys::now() >= deadline)
            return unexpected(Errc::Timeout, "channel write");
        TRY(wait_ready(ch, WantWrite::Yes, left_until(deadline)));
    }
    return {};
}

Result<void> read_exact(Channel& ch, std::span<std::byte> buf, std::chrono::milliseconds timeout) {
    auto const deadline = sys::now() + timeout;
    while (!buf.empty()) {
        size_t n = TRY(ch.read(buf));
        if (n > 0) {
            buf = buf.subspan(n);
            continue;
        }
        if (sys::now() >= deadline)
            return unexpected(Errc::Timeout, "channel read");
        TRY(wait_ready(ch, WantWrite::No, left_until(deadline)));
    }
    return {};
}

Result<std::unique_ptr<Channel>> accept_wait(Listener& listener,
                                             std::chrono::milliseconds timeout) {
    auto const deadline = sys::now() + timeout;
    for (;;) {
        auto ch = TRY(listener.accept());
        if (ch)
            return ch;
        if (sys::now() >= deadline)
            return unexpected(Errc::Timeout, "no client connected");
        TRY(sys::poll_one(listener.readiness_fd(), POLLIN, left_until(deadline)));
    }
}

} // namespace bulkhead::rpc
