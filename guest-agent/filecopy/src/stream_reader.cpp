#include "stream_reader.h"

#include <bulkhead/base/sys/fd.h>

#include <algorithm>
#include <cstring>

namespace bulkhead::filecopy {

Result<void> StreamReader::fill() {
    m_pos = 0;
    m_len = TRY(sys::read(m_fd, m_buf));
    if (m_len == 0)
        return unexpected(Errc::Closed, "filecopy stream ended early");
    return ok();
}

Result<void> StreamReader::read_exact(std::span<std::byte> out) {
    while (!out.empty()) {
        if (m_pos == m_len)
            TRY(fill());
        size_t n = std::min(out.size(), m_len - m_pos);
        std::memcpy(out.data(), m_buf.data() + m_pos, n);
        m_crc.update(std::span<std::byte const>(out.data(), n));
        m_pos += n;
        out = out.subspan(n);
    }
    return ok();
}

Result<std::span<std::byte const>> StreamReader::next_chunk(uint64_t max) {
    if (m_pos == m_len)
        TRY(fill());
    size_t n = size_t(std::min<uint64_t>(max, m_len - m_pos));
    std::span<std::byte const> chunk(m_buf.data() + m_pos, n);
    m_crc.update(chunk);
    m_pos += n;
    return chunk;
}

} // namespace bulkhead::filecopy
