// SharedBuffer: one guest window's pixels in a sealed memfd (XRGB8888, stride = width * 4),
// mapped writable here and read-only by dom0's gui-daemon, which gets the fd with the window's
// ShmRegion message. Sealed against growing and shrinking, so dom0 can map it safely.
// On Xen (Sharing::Grants) the X server still fills the memfd (XShm), and publish() copies the
// damaged rows into pages granted read-only to dom0 (gntalloc through libxengnttab), whose
// references go before the ShmRegion in GrantRefs messages.
// Used by the gui-agent's WindowTracker; holds no guest-foreign data.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/rpc/gui/messages.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bulkhead::gui_agent {

enum class Sharing { Memfd, Grants };

class SharedBuffer {
public:
    static Result<SharedBuffer> create(uint32_t width, uint32_t height,
                                       Sharing sharing = Sharing::Memfd);
    SharedBuffer(SharedBuffer&& other) noexcept;
    SharedBuffer& operator=(SharedBuffer&& other) noexcept;
    SharedBuffer(SharedBuffer const&) = delete;
    ~SharedBuffer();

    rpc::gui::ShmRegion const& region() const { return m_region; }
    uint32_t width() const { return m_region.width; }
    uint32_t height() const { return m_region.height; }
    int fd() const { return m_fd.get(); }
    std::byte* row(uint32_t y) { return m_base + size_t(y) * m_region.stride; }
    // The rows of r (already clipped to the buffer) as dom0 will read them: a copy into the
    // granted pages on Xen, nothing to do with a memfd.
    void publish(rpc::gui::Rect r);
    // Grants: one reference a page, in order (empty for a memfd).
    std::vector<uint32_t> const& grant_refs() const { return m_refs; }

private:
    SharedBuffer(UniqueFd fd, std::byte* base, rpc::gui::ShmRegion region)
        : m_fd(std::move(fd))
        , m_base(base)
        , m_region(region) {}
    void release();

    UniqueFd m_fd;
    std::byte* m_base = nullptr;
    rpc::gui::ShmRegion m_region;
    std::byte* m_granted = nullptr; // Grants: the pages dom0 maps
    std::vector<uint32_t> m_refs;
};

// gntalloc (libxengnttab's xengntshr), one handle for the process (grant_share.cpp).
namespace grant_share {
// pages pages shared read-only with dom0; their references in refs.
Result<std::byte*> share(size_t pages, std::vector<uint32_t>& refs);
void unshare(std::byte* base, size_t pages);
} // namespace grant_share

} // namespace bulkhead::gui_agent
