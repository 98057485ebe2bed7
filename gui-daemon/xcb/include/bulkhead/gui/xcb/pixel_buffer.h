// PixelBuffer: a guest window's pixels, mapped read-only from the shared memory the guest
// announced (ShmRegion, validated). In the sandbox that is a memfd passed with the message; it
// must be sealed against shrinking, or the guest could truncate it under dom0's reads (SIGBUS).
// On Xen it is the grant references the guest sent before the region (GrantRefs), mapped from
// the domain dom0 says the session belongs to (never a domain id the guest names).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/rpc/gui/messages.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace bulkhead::gui::xcb {

class PixelBuffer {
public:
    static Result<PixelBuffer> map(UniqueFd fd, rpc::gui::ShmRegion const& region);
    // A Grant region: one reference a page (region.size / page_size of them) of domain domid.
    static Result<PixelBuffer> map_grants(uint32_t domid, std::span<uint32_t const> refs,
                                          rpc::gui::ShmRegion const& region);
    PixelBuffer(PixelBuffer&& other) noexcept;
    PixelBuffer& operator=(PixelBuffer&&) = delete;
    PixelBuffer(PixelBuffer const&) = delete;
    ~PixelBuffer();

    uint32_t width() const { return m_region.width; }
    uint32_t height() const { return m_region.height; }
    uint32_t stride() const { return m_region.stride; }
    // Row y (y < height): width * 4 bytes of XRGB8888.
    std::span<std::byte const> row(uint32_t y) const;
    // The memfd dom0's X server reads with XShm (the compositor hands it a copy): the guest's
    // own for a memfd region; for grant references, dom0's staging memfd, which stage() fills
    // (X cannot attach grant mappings). And a number no other buffer of this process has (so
    // a replaced buffer is never taken for the old).
    int fd() const { return m_fd.get(); }
    // Before XShm reads [x0, x1) x [y0, y1) from fd(): grant regions copy those pixels from
    // the guest's pages into the staging memfd; nothing to do for a memfd region.
    void stage(uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) const;
    uint64_t serial() const { return m_serial; }

private:
    PixelBuffer(UniqueFd fd, void const* base, size_t len, rpc::gui::ShmRegion const& region,
                bool granted = false);
    UniqueFd m_fd;
    std::byte const* m_base = nullptr;
    size_t m_len = 0;
    rpc::gui::ShmRegion m_region;
    uint64_t m_serial = 0;
    bool m_granted = false;        // mapped with xengnttab: unmapped with it
    std::byte* m_staged = nullptr; // grants: dom0's staging memfd (fd()), mapped writable
};

} // namespace bulkhead::gui::xcb
