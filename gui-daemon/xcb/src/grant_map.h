// Read-only mappings of a guest's grant references (Xen) through libxengnttab: the pages a
// Xen domain's gui-agent shares for one window buffer. One gntdev handle for the process
// (bulkhead-guid is single-threaded), opened on first use. The guest cannot take a mapped
// page back while dom0 holds it (Xen keeps the grant in use), so reads never fault.
#pragma once

#include <bulkhead/base/result.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace bulkhead::gui::xcb::grant {

// refs.size() pages of domain `domid`, mapped read-only and contiguous. Errc::Unsupported
// where there is no gntdev (not dom0 on Xen); Errc::Denied when Xen refuses a reference.
Result<void const*> map(uint32_t domid, std::span<uint32_t const> refs);
void unmap(void const* base, size_t pages);

} // namespace bulkhead::gui::xcb::grant
