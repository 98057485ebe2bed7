// grant_share: window buffer pages granted read-only to dom0 (Xen), through gntalloc
// (libxengnttab's xengntshr). The kernel's gntalloc caps how many pages one domain may
// share (its `limit` parameter, raised by the domain's init for GUI buffers).
#include <bulkhead/gui_agent/shared_buffer.h>

#include <cerrno>
#include <cstring>
#include <string>

extern "C" {
#include <xengnttab.h>
}

namespace bulkhead::gui_agent::grant_share {

namespace {

Result<xengntshr_handle*> handle() {
    static xengntshr_handle* xgs = nullptr;
    if (!xgs) {
        xgs = xengntshr_open(nullptr, 0);
        if (!xgs)
            return unexpected(Errc::Unsupported, "gui-agent: cannot open the grant-sharing device "
                                                 "(/dev/xen/gntalloc): " +
                                                     std::string(std::strerror(errno)));
    }
    return xgs;
}

} // namespace

Result<std::byte*> share(size_t pages, std::vector<uint32_t>& refs) {
    auto* xgs = TRY(handle());
    refs.assign(pages, 0);
    void* p = xengntshr_share_pages(xgs, 0, int(pages), refs.data(), 0);
    if (!p) {
        refs.clear();
        return unexpected(Errc::Limit, "gui-agent: sharing " + std::to_string(pages) +
                                           " pages with dom0: " + std::strerror(errno));
    }
    return static_cast<std::byte*>(p);
}

void unshare(std::byte* base, size_t pages) {
    if (auto xgs = handle(); xgs && base)
        xengntshr_unshare(*xgs, base, uint32_t(pages));
}

} // namespace bulkhead::gui_agent::grant_share
