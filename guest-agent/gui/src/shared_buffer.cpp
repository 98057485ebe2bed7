#include <bulkhead/base/sys/fd.h>
#include <bulkhead/gui_agent/shared_buffer.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <utility>

namespace bulkhead::gui_agent {

namespace rg = rpc::gui;

Result<SharedBuffer> SharedBuffer::create(uint32_t width, uint32_t height, Sharing sharing) {
    if (width == 0 || height == 0)
        return unexpected(Errc::Invalid, "gui-agent: empty pixel buffer");
    rg::ShmRegion r;
    r.kind = rg::ShmKind::Memfd;
    r.handle = 0;
    r.width = width;
    r.height = height;
    r.stride = width * 4;
    r.format = rg::format_xrgb8888;
    uint64_t need = uint64_t(r.stride) * height;
    r.size = (need + rg::page_size - 1) / rg::page_size * rg::page_size;
    auto fd = TRY(sys::memfd_create("bulkhead-gui-window", MFD_ALLOW_SEALING | MFD_CLOEXEC));
    TRY(sys::ftruncate(fd.get(), off_t(r.size)));
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        return Error::from_errno("fcntl(F_ADD_SEALS)", errno);
    void* p = ::mmap(nullptr, r.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED)
        return Error::from_errno("mmap (pixel buffer)", errno);
    SharedBuffer b(std::move(fd), static_cast<std::byte*>(p), r);
    if (sharing == Sharing::Grants) {
        size_t pages = r.size / rg::page_size;
        b.m_granted = TRY(grant_share::share(pages, b.m_refs));
        b.m_region.kind = rg::ShmKind::Grant;
        b.m_region.handle = uint32_t(pages);
    }
    return b;
}

void SharedBuffer::publish(rg::Rect r) {
    if (!m_granted)
        return;
    uint64_t x0 = std::min<uint64_t>(uint64_t(std::max(r.x, 0)), m_region.width);
    uint64_t y0 = std::min<uint64_t>(uint64_t(std::max(r.y, 0)), m_region.height);
    uint64_t x1 = std::min<uint64_t>(x0 + r.width, m_region.width);
    uint64_t y1 = std::min<uint64_t>(y0 + r.height, m_region.height);
    for (uint64_t y = y0; y < y1; ++y) {
        size_t at = size_t(y) * m_region.stride + size_t(x0) * 4;
        std::memcpy(m_granted + at, m_base + at, size_t(x1 - x0) * 4);
    }
}

SharedBuffer::SharedBuffer(SharedBuffer&& other) noexcept
    : m_fd(std::move(other.m_fd))
    , m_base(std::exchange(other.m_base, nullptr))
    , m_region(other.m_region)
    , m_granted(std::exchange(other.m_granted, nullptr))
    , m_refs(std::move(other.m_refs)) {}

SharedBuffer& SharedBuffer::operator=(SharedBuffer&& other) noexcept {
    if (this != &other) {
        release();
        m_fd = std::move(other.m_fd);
        m_base = std::exchange(other.m_base, nullptr);
        m_region = other.m_region;
        m_granted = std::exchange(other.m_granted, nullptr);
        m_refs = std::move(other.m_refs);
    }
    return *this;
}

void SharedBuffer::release() {
    if (m_base)
        ::munmap(m_base, m_region.size);
    m_base = nullptr;
    if (m_granted)
        grant_share::unshare(m_granted, m_region.size / rg::page_size);
    m_granted = nullptr;
    m_refs.clear();
}

SharedBuffer::~SharedBuffer() {
    release();
}

} // namespace bulkhead::gui_agent
