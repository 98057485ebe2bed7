// The Filecopy wire layout, byte for byte as Qubes' struct file_header / result_header /
// result_header_ext (packed, little-endian), and the CRC (zlib crc32).
#include <bulkhead/rpc/filecopy/wire.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace bulkhead::rpc::filecopy;

namespace {

std::vector<uint8_t> bytes(std::span<std::byte const> b) {
    std::vector<uint8_t> out;
    for (auto x : b)
        out.push_back(uint8_t(x));
    return out;
}

} // namespace

TEST_CASE("file_header is 32 bytes, fields in Qubes' order, little-endian") {
    FileHeader h;
    h.namelen = 0x04030201;
    h.mode = 0x0100a1ed; // odd value to see every byte
    h.filelen = 0x1817161514131211ull;
    h.atime = 0x24232221;
    h.atime_nsec = 0x28272625;
    h.mtime = 0x34333231;
    h.mtime_nsec = 0x38373635;
    auto raw = encode(h);
    std::vector<uint8_t> want = {0x01, 0x02, 0x03, 0x04, 0xed, 0xa1, 0x00, 0x01, //
                                 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, //
                                 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, //
                                 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38};
    CHECK(raw.size() == 32);
    CHECK(bytes(raw) == want);
    CHECK(load_le32(raw.data()) == h.namelen);
    CHECK(load_le64(raw.data() + 8) == h.filelen);
}

TEST_CASE("a regular file's header as Qubes' qfile-agent writes it") {
    // "a.txt": namelen counts the NUL (strlen + 1), mode 0100644, 5 bytes.
    FileHeader h{6, 0100644, 5, 1700000000, 1, 1700000001, 2};
    auto raw = encode(h);
    std::vector<uint8_t> want = {6, 0, 0,    0,    0xa4, 0x81, 0,    0,    5,    0, 0,
                                 0, 0, 0,    0,    0,    0x00, 0xf1, 0x53, 0x65, 1, 0,
                                 0, 0, 0x01, 0xf1, 0x53, 0x65, 2,    0,    0,    0};
    CHECK(bytes(raw) == want);
}

TEST_CASE("the end marker is 32 zero bytes") {
    auto raw = encode_end();
    CHECK(bytes(raw) == std::vector<uint8_t>(32, 0));
}

TEST_CASE("result_header is 16 bytes {u32 error_code; u32 pad; u64 crc32}, ext {u32 len; name}") {
    std::string_view name = "dir/f";
    auto reply = encode_reply({17, 0xdeadbeef}, &name);
    std::vector<uint8_t> want = {17,   0,    0,    0, 0,   0,   0,   0,   0xef,
                                 0xbe, 0xad, 0xde, 0, 0,   0,   0, //
                                 5,    0,    0,    0, 'd', 'i', 'r', '/', 'f'};
    CHECK(bytes(reply) == want);
    auto bare = encode_reply({0, 1}, nullptr);
    CHECK(bare.size() == result_header_size);
}

TEST_CASE("Crc32 is zlib's crc32: known vector, and chunking does not matter") {
    Crc32 c;
    c.update(std::string_view("123456789"));
    CHECK(c.value() == 0xcbf43926u); // the CRC-32 check value
    Crc32 parts;
    parts.update(std::string_view("1234"));
    parts.update(std::string_view(""));
    parts.update(std::string_view("56789"));
    CHECK(parts.value() == c.value());
    CHECK(Crc32{}.value() == 0);
}
