#include "grant_map.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <vector>

extern "C" {
#include <xengnttab.h>
}

namespace bulkhead::gui::xcb::grant {

namespace {

Result<xengnttab_handle*> handle() {
    static xengnttab_handle* xgt = nullptr;
    if (!xgt) {
        xgt = xengnttab_open(nullptr, 0);
        if (!xgt)
            return unexpected(Errc::Unsupported,
                              "gui: cannot open the grant device (/dev/xen/gntdev): " +
                                  std::string(std::strerror(errno)));
    }
    return xgt;
}

} // namespace

Result<void const*> map(uint32_t domid, std::span<uint32_t const> refs) {
    if (refs.empty())
        return unexpected(Errc::Invalid, "gui: no grant references to map");
    auto* xgt = TRY(handle());
    std::vector<uint32_t> copy(refs.begin(), refs.end()); // libxengnttab takes a mutable array
    void* p =
        xengnttab_map_domain_grant_refs(xgt, uint32_t(copy.size()), domid, copy.data(), PROT_READ);
    if (!p)
        return unexpected(Errc::Denied, "gui: mapping " + std::to_string(copy.size()) +
                                            " grant references of domain " + std::to_string(domid) +
                                            ": " + std::strerror(errno));
    return static_cast<void const*>(p);
}

void unmap(void const* base, size_t pages) {
    if (auto xgt = handle(); xgt && base)
        xengnttab_unmap(*xgt, const_cast<void*>(base), uint32_t(pages));
}

} // namespace bulkhead::gui::xcb::grant
