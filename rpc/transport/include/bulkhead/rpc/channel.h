// Channel: a reliable, bidirectional byte stream to one (peer domain, port), non-blocking,
// driven by an event loop through readiness_fd(). Backends: socket vchan, libxenvchan, loopback.
// The peer's domain id is a fact of the channel (set when it was opened), never read from data.
// Everything read from a Channel is untrusted guest bytes: hand it to a validator.
#pragma once

#include <bulkhead/base/result.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace bulkhead::rpc {

using DomainId = uint32_t;
using Port = uint32_t;

enum class WantWrite { No, Yes };

class Channel {
public:
    virtual ~Channel() = default;
    Channel() = default;
    Channel(Channel const&) = delete;
    Channel& operator=(Channel const&) = delete;

    // Reads up to buf.size() bytes without blocking.
    //   n > 0        : n bytes were read.
    //   0            : nothing available right now (EAGAIN), or buf is empty.
    //   Errc::Closed : the peer closed and every byte it sent has been read (EOF).
    //   other errors : the channel is broken; close it.
    virtual Result<size_t> read(std::span<std::byte> buf) = 0;

    // Writes up to buf.size() bytes without blocking; a short count is normal.
    //   0            : no buffer space right now (EAGAIN), or buf is empty.
    //   Errc::Closed : the peer is gone; nothing more can be sent.
    virtual Result<size_t> write(std::span<std::byte const> buf) = 0;

    // Descriptor to watch in the event loop, with the events watch_events() names.
    virtual int readiness_fd() const = 0;
    // EventLoop::Events to watch. Socket backends add Writable when want == Yes; event-channel
    // backends (Xen, loopback) signal every state change, space included, as Readable.
    virtual uint32_t watch_events(WantWrite want) const = 0;
    // Call each time readiness_fd() fired, before read()/write(): consumes the notification
    // (Xen: libxenvchan_wait). Never blocks. After it, read and write until they return 0.
    virtual Result<void> acknowledge() = 0;

    // Whom this channel talks to: fixed when it was opened, from the hypervisor or file path.
    virtual DomainId peer_domain() const = 0;
    virtual Port port() const = 0;
};

// Blocking helpers for simple callers and tests: wait on readiness_fd() until the whole
// buffer moved or timeout passed (Errc::Timeout). Errc::Closed if the peer went away first.
Result<void> write_all(Channel& ch, std::span<std::byte const> buf,
                       std::chrono::milliseconds timeout);
Result<void> read_exact(Channel& ch, std::span<std::byte> buf, std::chrono::milliseconds timeout);
// Waits until the channel may have changed state (readable, writable, closed), then
// acknowledges. Returns false on timeout.
Result<bool> wait_ready(Channel& ch, WantWrite want, std::chrono::milliseconds timeout);

} // namespace bulkhead::rpc
