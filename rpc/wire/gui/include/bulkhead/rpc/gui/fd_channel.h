// GuiSocketChannel: the GUI protocol's stream over a unix socket (sandbox), carrying the memfd of
// each ShmRegion beside its frame (SCM_RIGHTS). dom0's gui-daemon reads guest bytes and
// descriptors through it; the guest's gui-agent writes frames and memfds. Descriptors from the
// peer are untrusted: queued in arrival order (capped), handed out one per ShmRegion message,
// and checked by whoever maps them (PixelBuffer: sealed memfd, big enough).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/rpc/channel.h>

#include <cstddef>
#include <deque>
#include <span>

namespace bulkhead::rpc::gui {

class GuiSocketChannel final : public Channel {
public:
    // fd: a connected, non-blocking unix stream socket. At most max_pending_fds received
    // descriptors wait for their message; one more breaks the channel (Errc::Limit).
    GuiSocketChannel(UniqueFd fd, DomainId peer, Port port, size_t max_pending_fds = 4);

    Result<size_t> read(std::span<std::byte> buf) override;
    Result<size_t> write(std::span<std::byte const> buf) override;
    // As write(), with `fd` attached to the first byte sent (a short count is normal; the
    // descriptor went with it as soon as the count is > 0).
    Result<size_t> write_with_fd(std::span<std::byte const> buf, int fd);
    int readiness_fd() const override { return m_fd.get(); }
    uint32_t watch_events(WantWrite want) const override;
    Result<void> acknowledge() override { return {}; }
    DomainId peer_domain() const override { return m_peer; }
    Port port() const override { return m_port; }

    // The oldest descriptor received and not yet taken (invalid when there is none).
    UniqueFd take_fd();
    size_t pending_fds() const { return m_fds.size(); }

private:
    UniqueFd m_fd;
    DomainId m_peer;
    Port m_port;
    size_t m_max_fds;
    std::deque<UniqueFd> m_fds;
};

} // namespace bulkhead::rpc::gui
