// Outbox: the gui-agent's queue of GUI frames to dom0, written without blocking. A frame may
// carry a descriptor (a ShmRegion's memfd): it starts a new segment and the fd goes with the
// segment's first byte (SCM_RIGHTS), so dom0 has it by the time it reads that frame. Capped:
// a dom0 that stops reading makes push() fail instead of growing without bound.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/rpc/gui/fd_channel.h>
#include <bulkhead/rpc/gui/messages.h>

#include <cstddef>
#include <deque>
#include <vector>

namespace bulkhead::gui_agent {

class Outbox {
public:
    explicit Outbox(size_t max_bytes = 64u << 20)
        : m_max(max_bytes) {}

    Result<void> push(rpc::gui::WindowId window, rpc::gui::Message const& message);
    // The frame and `fd` (sent once, then closed here) as one segment.
    Result<void> push_with_fd(rpc::gui::WindowId window, rpc::gui::Message const& message,
                              UniqueFd fd);
    // Writes as much as the channel takes now. A descriptor needs a GuiSocketChannel.
    Result<void> flush(rpc::Channel& ch);
    bool empty() const { return m_segments.empty(); }
    size_t bytes() const { return m_bytes; }

private:
    struct Segment {
        std::vector<std::byte> bytes;
        size_t sent = 0;
        UniqueFd fd;
    };
    Result<void> room();

    size_t m_max;
    size_t m_bytes = 0;
    std::deque<Segment> m_segments;
};

} // namespace bulkhead::gui_agent
