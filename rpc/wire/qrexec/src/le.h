// Little-endian u32 load/store for the qrexec wire (x86 host order, as Qubes).
#pragma once

#include <cstddef>
#include <cstdint>

namespace bulkhead::rpc::qrexec {

inline uint32_t load_le32(std::byte const* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

inline void store_le32(std::byte* p, uint32_t v) {
    p[0] = std::byte(v);
    p[1] = std::byte(v >> 8);
    p[2] = std::byte(v >> 16);
    p[3] = std::byte(v >> 24);
}

} // namespace bulkhead::rpc::qrexec
