// Hand-built hostile streams against the unpacker: truncated headers, lengths that overflow
// or lie, a huge namelen, nsec out of range, and a directory replaced by a symlink (by a
// local process) between two entries. Each must fail closed: an error code, nothing outside
// the destination, no file under its final name that looks complete.
#include "harness.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/rpc/filecopy/wire.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <sys/mount.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace bulkhead;
using namespace bulkhead::test;

namespace {

constexpr uint32_t reg = S_IFREG | 0644;
constexpr uint32_t dir = S_IFDIR | 0755;

// A raw 32-byte file_header, every field chosen by the test.
std::vector<std::byte> raw_header(uint32_t namelen, uint32_t mode, uint64_t filelen,
                                  uint32_t atime_nsec = 0, uint32_t mtime_nsec = 0) {
    std::vector<std::byte> h(32);
    auto put32 = [&](size_t at, uint32_t v) {
        for (int i = 0; i < 4; ++i)
            h[at + i] = std::byte((v >> (8 * i)) & 0xff);
    };
    put32(0, namelen);
    put32(4, mode);
    for (int i = 0; i < 8; ++i)
        h[8 + i] = std::byte((filelen >> (8 * i)) & 0xff);
    put32(16, 1'600'000'000);
    put32(20, atime_nsec);
    put32(24, 1'600'000'000);
    put32(28, mtime_nsec);
    return h;
}

void append(std::vector<std::byte>& out, std::string_view s) {
    for (char c : s)
        out.push_back(std::byte(c));
}

std::vector<std::string> listing(Scratch const& s, std::string const& rel = "") {
    return sys::list_dir(rel.empty() ? s.root : s.path(rel)).value();
}

} // namespace

TEST_CASE("a truncated header, then EOF, is an error and creates nothing") {
    for (size_t cut : {1u, 16u, 31u}) {
        Scratch dst;
        auto h = raw_header(2, reg, 1);
        h.resize(cut);
        auto dest = dst.open_dir();
        CHECK(unpack_bytes(h, dest.get()).error_code != 0);
        CHECK(listing(dst).empty());
    }
}

TEST_CASE("a filelen past what is sent (up to 2^64-1) never leaves a complete-looking file") {
    for (uint64_t len : {uint64_t{100}, uint64_t{1} << 40, ~uint64_t{0}}) {
        INFO("filelen " << len);
        Scratch dst;
        auto s = raw_header(2, reg, len);
        append(s, std::string("f\0", 2));
        append(s, "only a few bytes");
        auto dest = dst.open_dir();
        auto r = unpack_bytes(s, dest.get());
        CHECK(r.error_code != 0);
        CHECK(listing(dst).empty()); // neither "f" nor a temporary file
    }
}

TEST_CASE("a filelen over the byte cap is refused before any data is written") {
    Scratch dst;
    filecopy::UnpackOptions caps;
    caps.max_bytes = 1u << 20;
    auto s = raw_header(2, reg, (1u << 20) + 1);
    append(s, std::string("f\0", 2));
    append(s, std::string(4096, 'x'));
    auto dest = dst.open_dir();
    CHECK(unpack_bytes(s, dest.get(), caps).error_code == EDQUOT);
    CHECK(listing(dst).empty());
}

TEST_CASE("a huge namelen is refused without reading (or allocating) the name") {
    for (uint32_t namelen : {16'384u, 1u << 31, ~0u}) {
        Scratch dst;
        auto s = raw_header(namelen, reg, 0);
        append(s, "short");
        auto dest = dst.open_dir();
        CHECK(unpack_bytes(s, dest.get()).error_code == ENAMETOOLONG);
        CHECK(listing(dst).empty());
    }
}

TEST_CASE("nsec fields >= 1e9 are refused") {
    for (auto [a, m] :
         {std::pair{1'000'000'000u, 0u}, std::pair{0u, 1'000'000'000u}, std::pair{~0u, ~0u}}) {
        Scratch dst;
        auto s = raw_header(2, reg, 1, a, m);
        append(s, std::string("f\0x", 3));
        append_end(s);
        auto dest = dst.open_dir();
        CHECK(unpack_bytes(s, dest.get()).error_code == EINVAL);
        CHECK(listing(dst).empty());
    }
}

TEST_CASE("a directory replaced by a symlink between two entries is not followed") {
    Scratch dst, outside;
    int s[2], r[2];
    REQUIRE(::pipe2(s, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(r, O_CLOEXEC) == 0);
    UniqueFd s_r(s[0]), s_w(s[1]), r_r(r[0]), r_w(r[1]);
    auto dest = dst.open_dir();
    filecopy::UnpackReport report;
    std::thread unpacker([&] { report = filecopy::unpack(s_r.get(), r_w.get(), dest.get()); });

    std::vector<std::byte> first, second;
    append_entry(first, "d", dir);
    append_entry(second, "d/f", reg, "must not escape");
    append_entry(second, "d", dir);
    append_end(second);
    REQUIRE(sys::write_all(s_w.get(), std::span(first)).has_value());
    // Wait for the unpacker to create d, then swap it for a link to a directory outside.
    bool made = false;
    for (int i = 0; i < 2000 && !made; ++i) {
        made = dst.exists("d");
        if (!made)
            ::usleep(1000);
    }
    REQUIRE(made);
    REQUIRE(::rename(dst.path("d").c_str(), dst.path("d.moved").c_str()) == 0);
    dst.symlink(outside.root, "d");
    (void)sys::write_all(s_w.get(), std::span(second));
    s_w.reset();
    unpacker.join();
    CHECK(listing(outside).empty()); // nothing written through the link
    // Either refused, or written into the directory the unpacker still holds open.
    if (report.error_code == 0)
        CHECK(dst.read("d.moved/f") == "must not escape");
}

TEST_CASE("the disk filling up mid-file: an error, no complete-looking file, the sender told") {
    Scratch src, mnt;
    // A 256 KiB filesystem for the destination (tests run as root, as in CI).
    REQUIRE(::mount("tmpfs", mnt.root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=256k") == 0);
    src.write("small", "fits");
    src.write("big", std::string(1u << 20, 'b'));
    {
        auto dest = mnt.open_dir();
        auto t = transfer({src.path("small"), src.path("big")}, dest.get());
        CHECK(t.received.error_code == ENOSPC);
        REQUIRE_FALSE(t.sent.has_value());  // the packer reports the receiver's failure
        CHECK(mnt.read("small") == "fits"); // what was confirmed before stays
        CHECK(listing(mnt) == std::vector<std::string>{"small"}); // no "big", no temp file
    }
    REQUIRE(::umount2(mnt.root.c_str(), MNT_DETACH) == 0);
}
