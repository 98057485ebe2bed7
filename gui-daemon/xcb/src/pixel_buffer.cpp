#include <bulkhead/base/sys/fd.h>
#include <bulkhead/gui/xcb/pixel_buffer.h>

#include "grant_map.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <utility>

namespace bulkhead::gui::xcb {

Result<PixelBuffer> PixelBuffer::map(UniqueFd fd, rpc::gui::ShmRegion const& region) {
    if (region.kind != rpc::gui::ShmKind::Memfd)
        return unexpected(Errc::Invalid, "gui: not a memfd region");
    int seals = ::fcntl(fd.get(), F_GET_SEALS);
    if (seals < 0)
        return Error::from_errno("fcntl(F_GET_SEALS) on the guest's pixel buffer", errno);
    if (!(seals & F_SEAL_SHRINK))
        return unexpected(Errc::Denied, "gui: pixel buffer memfd is not sealed against shrinking");
    auto st = TRY(sys::fstat(fd.get()));
    if (st.st_size < 0 || uint64_t(st.st_size) < region.size)
        return unexpected(Errc::Invalid, "gui: pixel buffer memfd is smaller than announced");
    void* p = ::mmap(nullptr, region.size, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED)
        return Error::from_errno("mmap of the guest's pixel buffer", errno);
    return PixelBuffer(std::move(fd), p, region.size, region);
}

Result<PixelBuffer> PixelBuffer::map_grants(uint32_t domid, std::span<uint32_t const> refs,
                                            rpc::gui::ShmRegion const& region) {
    if (region.kind != rpc::gui::ShmKind::Grant)
        return unexpected(Errc::Invalid, "gui: not a grant region");
    // The validator checked size = whole pages = handle references; the session checked that
    // it collected exactly handle references for this window.
    if (refs.size() != region.handle || region.size != refs.size() * rpc::gui::page_size)
        return unexpected(Errc::Invalid, "gui: grant references do not cover the region");
    auto stage_fd = TRY(sys::memfd_create("bulkhead-gui-grant-stage", MFD_CLOEXEC));
    TRY(sys::ftruncate(stage_fd.get(), off_t(region.size)));
    void* staged =
        ::mmap(nullptr, region.size, PROT_READ | PROT_WRITE, MAP_SHARED, stage_fd.get(), 0);
    if (staged == MAP_FAILED)
        return Error::from_errno("mmap (grant staging buffer)", errno);
    auto p = grant::map(domid, refs);
    if (!p) {
        ::munmap(staged, region.size);
        return std::move(p).error();
    }
    PixelBuffer b(std::move(stage_fd), *p, region.size, region, true);
    b.m_staged = static_cast<std::byte*>(staged);
    return b;
}

void PixelBuffer::stage(uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) const {
    if (!m_staged)
        return;
    x1 = std::min(x1, m_region.width);
    y1 = std::min(y1, m_region.height);
    if (x0 >= x1)
        return;
    for (uint32_t y = y0; y < y1; ++y) {
        size_t at = size_t(y) * m_region.stride + size_t(x0) * 4;
        std::memcpy(m_staged + at, m_base + at, size_t(x1 - x0) * 4);
    }
}

PixelBuffer::PixelBuffer(UniqueFd fd, void const* base, size_t len,
                         rpc::gui::ShmRegion const& region, bool granted)
    : m_fd(std::move(fd))
    , m_base(static_cast<std::byte const*>(base))
    , m_len(len)
    , m_region(region)
    , m_granted(granted) {
    static std::atomic<uint64_t> next{1};
    m_serial = next++;
}

PixelBuffer::PixelBuffer(PixelBuffer&& other) noexcept
    : m_fd(std::move(other.m_fd))
    , m_base(std::exchange(other.m_base, nullptr))
    , m_len(std::exchange(other.m_len, 0))
    , m_region(other.m_region)
    , m_serial(other.m_serial)
    , m_granted(other.m_granted)
    , m_staged(std::exchange(other.m_staged, nullptr)) {}

PixelBuffer::~PixelBuffer() {
    if (m_staged)
        ::munmap(m_staged, m_len);
    if (!m_base)
        return;
    if (m_granted)
        grant::unmap(m_base, m_len / rpc::gui::page_size);
    else
        ::munmap(const_cast<std::byte*>(m_base), m_len);
}

std::span<std::byte const> PixelBuffer::row(uint32_t y) const {
    return {m_base + size_t(y) * m_region.stride, size_t(m_region.width) * 4};
}

} // namespace bulkhead::gui::xcb
