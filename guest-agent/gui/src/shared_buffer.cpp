#include <bulkhead/base/sys/fd.h>
#include <bulkhead/gui_agent/shared_buffer.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <utility>

namespace bulkhead::gui_agent {

namespace rg = rpc::gui;

Result<SharedBuffer> SharedBuffer::create(uint32_t width, uint32_t height) {
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
    return SharedBuffer(std::move(fd), static_cast<std::byte*>(p), r);
}

SharedBuffer::SharedBuffer(SharedBuffer&& other) noexcept
    : m_fd(std::move(other.m_fd))
    , m_base(std::exchange(other.m_base, nullptr))
    , m_region(other.m_region) {}

SharedBuffer& SharedBuffer::operator=(SharedBuffer&& other) noexcept {
    if (this != &other) {
        release();
        m_fd = std::move(other.m_fd);
        m_base = std::exchange(other.m_base, nullptr);
        m_region = other.m_region;
    }
    return *this;
}

void SharedBuffer::release() {
    if (m_base)
        ::munmap(m_base, m_region.size);
    m_base = nullptr;
}

SharedBuffer::~SharedBuffer() {
    release();
}

} // namespace bulkhead::gui_agent
