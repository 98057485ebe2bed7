// SharedBuffer: one guest window's pixels in a sealed memfd (XRGB8888, stride = width * 4),
// mapped writable here and read-only by dom0's gui-daemon, which gets the fd with the window's
// ShmRegion message. Sealed against growing and shrinking, so dom0 can map it safely.
// Used by the gui-agent's WindowTracker; holds no guest-foreign data.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/rpc/gui/messages.h>

#include <cstddef>
#include <cstdint>

namespace bulkhead::gui_agent {

class SharedBuffer {
public:
    static Result<SharedBuffer> create(uint32_t width, uint32_t height);
    SharedBuffer(SharedBuffer&& other) noexcept;
    SharedBuffer& operator=(SharedBuffer&& other) noexcept;
    SharedBuffer(SharedBuffer const&) = delete;
    ~SharedBuffer();

    rpc::gui::ShmRegion const& region() const { return m_region; }
    uint32_t width() const { return m_region.width; }
    uint32_t height() const { return m_region.height; }
    int fd() const { return m_fd.get(); }
    std::byte* row(uint32_t y) { return m_base + size_t(y) * m_region.stride; }

private:
    SharedBuffer(UniqueFd fd, std::byte* base, rpc::gui::ShmRegion region)
        : m_fd(std::move(fd))
        , m_base(base)
        , m_region(region) {}
    void release();

    UniqueFd m_fd;
    std::byte* m_base = nullptr;
    rpc::gui::ShmRegion m_region;
};

} // namespace bulkhead::gui_agent
