// Little-endian loads and stores for the GUI wire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bulkhead::rpc::gui::le {

inline uint32_t load32(std::byte const* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint16_t load16(std::byte const* p) {
    return uint16_t(uint32_t(p[0]) | uint32_t(p[1]) << 8);
}
inline uint64_t load64(std::byte const* p) {
    return uint64_t(load32(p)) | uint64_t(load32(p + 4)) << 32;
}

inline void put16(std::vector<std::byte>& out, uint16_t v) {
    out.push_back(std::byte(v));
    out.push_back(std::byte(v >> 8));
}
inline void put32(std::vector<std::byte>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(std::byte(v >> (8 * i)));
}
inline void put64(std::vector<std::byte>& out, uint64_t v) {
    put32(out, uint32_t(v));
    put32(out, uint32_t(v >> 32));
}

} // namespace bulkhead::rpc::gui::le
