#include <bulkhead/rpc/loopback_channel.h>

#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/unique_fd.h>

#include <algorithm>
#include <array>
#include <deque>
#include <mutex>

namespace bulkhead::rpc {

struct LoopbackChannel::Shared {
    std::mutex mutex;
    // to[i]: bytes waiting to be read by side i.
    std::array<std::deque<std::byte>, 2> to;
    std::array<bool, 2> closed{false, false}; // side i closed (no more writes from it)
    std::array<size_t, 2> written{0, 0};
    std::array<LoopbackFaults, 2> faults;
    // notify[i]: {read end, write end} of side i's notification pipe.
    std::array<std::pair<UniqueFd, UniqueFd>, 2> notify;

    void wake(int side) {
        std::byte b{1};
        (void)sys::write(notify[side].second.get(), std::span(&b, 1)); // full pipe = already awake
    }
};

Result<std::pair<std::unique_ptr<LoopbackChannel>, std::unique_ptr<LoopbackChannel>>>
LoopbackChannel::create_pair(DomainId a_domain, DomainId b_domain, Port port) {
    auto shared = std::make_shared<Shared>();
    for (auto& n : shared->notify)
        n = TRY(sys::pipe(O_CLOEXEC | O_NONBLOCK));
    std::unique_ptr<LoopbackChannel> a(new LoopbackChannel(shared, 0, b_domain, port));
    std::unique_ptr<LoopbackChannel> b(new LoopbackChannel(shared, 1, a_domain, port));
    return std::pair{std::move(a), std::move(b)};
}

LoopbackChannel::LoopbackChannel(std::shared_ptr<Shared> shared, int side, DomainId peer, Port port)
    : m_shared(std::move(shared))
    , m_side(side)
    , m_peer(peer)
    , m_port(port) {}

LoopbackChannel::~LoopbackChannel() {
    close();
}

void LoopbackChannel::close() {
    std::lock_guard lock(m_shared->mutex);
    if (m_shared->closed[m_side])
        return;
    m_shared->closed[m_side] = true;
    m_shared->wake(1 - m_side);
}

void LoopbackChannel::set_faults(LoopbackFaults const& faults) {
    std::lock_guard lock(m_shared->mutex);
    m_shared->faults[m_side] = faults;
}

Result<size_t> LoopbackChannel::read(std::span<std::byte> buf) {
    std::lock_guard lock(m_shared->mutex);
    auto& f = m_shared->faults[m_side];
    auto& in = m_shared->to[m_side];
    if (buf.empty())
        return size_t(0);
    if (f.stall_reads > 0) {
        --f.stall_reads;
        m_shared->wake(m_side); // a spurious "not now": the caller must be woken to retry
        return size_t(0);
    }
    if (in.empty()) {
        if (m_shared->closed[1 - m_side])
            return unexpected(Errc::Closed, "loopback: end of stream");
        return size_t(0);
    }
    size_t n = std::min({buf.size(), in.size(), f.max_read});
    std::copy_n(in.begin(), n, buf.begin());
    in.erase(in.begin(), in.begin() + ptrdiff_t(n));
    m_shared->wake(1 - m_side); // space freed
    return n;
}

Result<size_t> LoopbackChannel::write(std::span<std::byte const> buf) {
    std::lock_guard lock(m_shared->mutex);
    auto& f = m_shared->faults[m_side];
    int peer = 1 - m_side;
    if (m_shared->closed[m_side] || m_shared->closed[peer])
        return unexpected(Errc::Closed, "loopback: closed");
    if (buf.empty())
        return size_t(0);
    if (f.stall_writes > 0) {
        --f.stall_writes;
        m_shared->wake(m_side); // a spurious "not now": the caller must be woken to retry
        return size_t(0);
    }
    auto& out = m_shared->to[peer];
    size_t space = f.capacity > out.size() ? f.capacity - out.size() : 0;
    size_t budget = f.eof_after - std::min(f.eof_after, m_shared->written[m_side]);
    size_t n = std::min({buf.size(), space, f.max_write, budget});
    out.insert(out.end(), buf.begin(), buf.begin() + ptrdiff_t(n));
    m_shared->written[m_side] += n;
    if (m_shared->written[m_side] >= f.eof_after)
        m_shared->closed[m_side] = true; // the stream ends here, possibly mid-frame
    if (n > 0 || m_shared->closed[m_side])
        m_shared->wake(peer);
    return n;
}

int LoopbackChannel::readiness_fd() const {
    return m_shared->notify[m_side].first.get();
}

uint32_t LoopbackChannel::watch_events(WantWrite) const {
    return EventLoop::Readable;
}

Result<void> LoopbackChannel::acknowledge() {
    std::array<std::byte, 64> drain;
    for (;;) {
        auto n = sys::read(readiness_fd(), drain);
        if (!n || *n < drain.size())
            break; // EAGAIN: drained
    }
    // Level-triggered like a socket: keep the fd readable while data or EOF is pending.
    std::lock_guard lock(m_shared->mutex);
    if (!m_shared->to[m_side].empty() || m_shared->closed[1 - m_side])
        m_shared->wake(m_side);
    return {};
}

} // namespace bulkhead::rpc
