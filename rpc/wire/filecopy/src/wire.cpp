#include <bulkhead/rpc/filecopy/wire.h>

#include <algorithm>
#include <zlib.h>

namespace bulkhead::rpc::filecopy {

namespace {

void store_le32(std::byte* p, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        p[i] = std::byte(v >> (8 * i));
}

void store_le64(std::byte* p, uint64_t v) {
    for (int i = 0; i < 8; ++i)
        p[i] = std::byte(v >> (8 * i));
}

} // namespace

uint32_t load_le32(std::byte const* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

uint64_t load_le64(std::byte const* p) {
    return uint64_t(load_le32(p)) | uint64_t(load_le32(p + 4)) << 32;
}

std::array<std::byte, file_header_size> encode(FileHeader const& h) {
    std::array<std::byte, file_header_size> out{};
    store_le32(out.data() + 0, h.namelen);
    store_le32(out.data() + 4, h.mode);
    store_le64(out.data() + 8, h.filelen);
    store_le32(out.data() + 16, h.atime);
    store_le32(out.data() + 20, h.atime_nsec);
    store_le32(out.data() + 24, h.mtime);
    store_le32(out.data() + 28, h.mtime_nsec);
    return out;
}

std::array<std::byte, file_header_size> encode_end() {
    return encode(FileHeader{});
}

std::vector<std::byte> encode_reply(ResultHeader const& result, std::string_view const* last_name) {
    std::vector<std::byte> out(result_header_size);
    store_le32(out.data() + 0, result.error_code);
    store_le32(out.data() + 4, 0);
    store_le64(out.data() + 8, result.crc32);
    if (last_name) {
        auto name = last_name->substr(0, max_last_namelen);
        out.resize(result_header_size + result_header_ext_size + name.size());
        store_le32(out.data() + result_header_size, uint32_t(name.size()));
        std::transform(name.begin(), name.end(),
                       out.begin() + result_header_size + result_header_ext_size,
                       [](char c) { return std::byte(c); });
    }
    return out;
}

void Crc32::update(std::span<std::byte const> bytes) {
    auto const* p = reinterpret_cast<Bytef const*>(bytes.data());
    size_t left = bytes.size();
    uLong crc = m_crc;
    while (left) {
        auto n = uInt(std::min<size_t>(left, 1u << 30));
        crc = ::crc32(crc, p, n);
        p += n;
        left -= n;
    }
    m_crc = uint32_t(crc);
}

void Crc32::update(std::string_view bytes) {
    update(std::span(reinterpret_cast<std::byte const*>(bytes.data()), bytes.size()));
}

} // namespace bulkhead::rpc::filecopy
