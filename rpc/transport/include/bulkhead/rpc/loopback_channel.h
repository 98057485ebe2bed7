// LoopbackChannel: an in-memory connected pair of Channels for tests, with fault injection
// (short reads/writes, EOF after N bytes — e.g. mid-frame —, stalls, a small buffer).
// Both ends may be used from different threads. Readiness is a notification pipe per end:
// it turns readable on every state change (data, space, close), like a Xen event channel.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/rpc/channel.h>

#include <cstddef>
#include <limits>
#include <memory>
#include <utility>

namespace bulkhead::rpc {

struct LoopbackFaults {
    size_t max_read = std::numeric_limits<size_t>::max();  // short reads: at most this per call
    size_t max_write = std::numeric_limits<size_t>::max(); // short writes
    size_t capacity = 1 << 20;                             // bytes buffered per direction
    // After this many bytes were written by this end, the stream ends (peer sees EOF).
    size_t eof_after = std::numeric_limits<size_t>::max();
    // The next N read (resp. write) calls on this end return 0 as if nothing were ready.
    size_t stall_reads = 0;
    size_t stall_writes = 0;
};

class LoopbackChannel final : public Channel {
public:
    struct Shared;
    // Two connected ends: first's peer domain is b_domain, second's is a_domain.
    static Result<std::pair<std::unique_ptr<LoopbackChannel>, std::unique_ptr<LoopbackChannel>>>
    create_pair(DomainId a_domain, DomainId b_domain, Port port);
    ~LoopbackChannel() override;

    Result<size_t> read(std::span<std::byte> buf) override;
    Result<size_t> write(std::span<std::byte const> buf) override;
    int readiness_fd() const override;
    uint32_t watch_events(WantWrite want) const override;
    Result<void> acknowledge() override;
    DomainId peer_domain() const override { return m_peer; }
    Port port() const override { return m_port; }

    // Faults applied to this end's calls; may be changed at any time.
    void set_faults(LoopbackFaults const& faults);
    // Closes this end: the peer reads what is buffered, then Errc::Closed.
    void close();

private:
    LoopbackChannel(std::shared_ptr<Shared> shared, int side, DomainId peer, Port port);
    std::shared_ptr<Shared> m_shared;
    int m_side;
    DomainId m_peer;
    Port m_port;
};

} // namespace bulkhead::rpc
