// Helpers for the GUI wire tests: frames written by hand, byte by byte (not with encode()),
// and a decode through the validator in a given direction.
#pragma once

#include <bulkhead/rpc/gui/encode.h>
#include <bulkhead/rpc/gui/validator.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace gui_test {

using Bytes = std::vector<std::byte>;

inline void u32(Bytes& out, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(std::byte(v >> (8 * i)));
}
inline void u16(Bytes& out, uint16_t v) {
    out.push_back(std::byte(v));
    out.push_back(std::byte(v >> 8));
}
inline void text(Bytes& out, std::string const& s, size_t field) {
    for (char c : s)
        out.push_back(std::byte(c));
    out.insert(out.end(), field - s.size(), std::byte{0});
}
// A frame: header {type, window, len} + the given u32 words.
inline Bytes frame(uint32_t type, uint32_t window, std::initializer_list<uint32_t> words) {
    Bytes out;
    u32(out, type);
    u32(out, window);
    u32(out, uint32_t(words.size() * 4));
    for (auto w : words)
        u32(out, w);
    return out;
}
inline Bytes frame_raw(uint32_t type, uint32_t window, Bytes const& payload) {
    Bytes out;
    u32(out, type);
    u32(out, window);
    u32(out, uint32_t(payload.size()));
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

inline bulkhead::Result<bulkhead::rpc::gui::ValidatedMessage>
decode(Bytes const& b, bulkhead::rpc::gui::Direction d = bulkhead::rpc::gui::Direction::FromGuest,
       bulkhead::rpc::gui::Limits const& limits = {},
       bulkhead::rpc::gui::Session s = bulkhead::rpc::gui::Session::Established) {
    using namespace bulkhead::rpc::gui;
    return GuiValidator::frame(UntrustedBytes(std::span<std::byte const>(b)), d, s, limits);
}

} // namespace gui_test
