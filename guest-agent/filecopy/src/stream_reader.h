// StreamReader: buffered reads from the stream fd, every consumed byte added to the CRC.
// EOF in the middle of a read is Errc::Closed (the unpacker replies LEGAL_EOF for it).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/rpc/filecopy/wire.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace bulkhead::filecopy {

class StreamReader {
public:
    explicit StreamReader(int fd)
        : m_fd(fd)
        , m_buf(256 * 1024) {}

    // Fills out exactly.
    Result<void> read_exact(std::span<std::byte> out);
    // Up to max bytes (at least 1) of what comes next, valid until the next call.
    Result<std::span<std::byte const>> next_chunk(uint64_t max);
    uint32_t crc() const { return m_crc.value(); }

private:
    Result<void> fill();

    int m_fd;
    std::vector<std::byte> m_buf;
    size_t m_pos = 0, m_len = 0;
    rpc::filecopy::Crc32 m_crc;
};

} // namespace bulkhead::filecopy
