// The qubes.Filecopy wire format (Qubes' libqubes-rpc-filecopy), byte-exact, little-endian.
// Used by the packer/unpacker (guest-agent/filecopy) and by tests; encoding only here — every
// byte read from a peer goes through FilecopyValidator (validator.h).
//
// Stream (sender → receiver), one record per entry, depth first:
//   file_header (32 bytes) | name (namelen bytes, the trailing NUL included) | data
//   data = filelen bytes: a regular file's contents, a symlink's target (no NUL), nothing for a
//   directory (filelen 0). A directory is sent before its contents and once more after them
//   (same header): the receiver creates it 0700 the first time and applies mode and times the
//   second time. The stream ends with a header whose namelen is 0 (all fields zero).
// Reply (receiver → sender), once, when the receiver is done or failed:
//   result_header (16 bytes) {u32 error_code (0 or an errno; LEGAL_EOF); u32 pad; u64 crc32}
//   optionally followed by result_header_ext {u32 last_namelen; last_namelen bytes, no NUL}.
// CRC: zlib crc32 (initial 0) over every stream byte the receiver consumed — headers, names,
// data and the end marker — in order. The sender computes it over the bytes it wrote.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::rpc::filecopy {

inline constexpr size_t file_header_size = 32;
inline constexpr size_t result_header_size = 16;
inline constexpr size_t result_header_ext_size = 4;
// Qubes' MAX_PATH_LENGTH is 16384: namelen (with its NUL) and a symlink target are at most
// MAX_PATH_LENGTH - 1 bytes.
inline constexpr uint32_t max_namelen = 16383;
inline constexpr uint32_t max_symlink_target = 16383;
// Longest last_name a sender reads from a reply (Qubes reads at most MAX_PATH_LENGTH).
inline constexpr uint32_t max_last_namelen = 16384;
// Qubes' LEGAL_EOF: the receiver's error_code when the stream ended in the middle.
inline constexpr uint32_t legal_eof = 31415926;

// struct file_header, field for field.
struct FileHeader {
    uint32_t namelen = 0; // name bytes including the trailing NUL; 0 = end of stream
    uint32_t mode = 0;    // st_mode: file type bits and permission bits
    uint64_t filelen = 0; // data bytes after the name
    uint32_t atime = 0;
    uint32_t atime_nsec = 0;
    uint32_t mtime = 0;
    uint32_t mtime_nsec = 0;
};

// struct result_header (+ result_header_ext's name when has_last_name).
struct ResultHeader {
    uint32_t error_code = 0;
    uint64_t crc32 = 0;
};

std::array<std::byte, file_header_size> encode(FileHeader const& header);
// The end-of-stream marker: a file_header of zeros.
std::array<std::byte, file_header_size> encode_end();
// result_header, then result_header_ext + name when last_name is given (Qubes' receiver
// sends it whenever it knows a last name). last_name is cut to max_last_namelen bytes.
std::vector<std::byte> encode_reply(ResultHeader const& result, std::string_view const* last_name);

// Little-endian field access, for the validator and tests.
uint32_t load_le32(std::byte const* p);
uint64_t load_le64(std::byte const* p);

// zlib's crc32, accumulated over a stream.
class Crc32 {
public:
    void update(std::span<std::byte const> bytes);
    void update(std::string_view bytes);
    uint32_t value() const { return m_crc; }

private:
    uint32_t m_crc = 0;
};

} // namespace bulkhead::rpc::filecopy
