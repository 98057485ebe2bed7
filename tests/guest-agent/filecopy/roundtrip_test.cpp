// Packer → pipes → unpacker: a tree arrives as it was (contents, types, modes, times), the
// progress callback reports, the CRC is checked end to end.
#include "harness.h"

#include <bulkhead/base/sys/fd.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <sys/stat.h>

using namespace bulkhead;
using namespace bulkhead::test;

namespace {

struct stat lstat_of(std::string const& p) {
    struct stat st;
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}

void set_mtime(std::string const& p, time_t sec, long nsec) {
    timespec times[2] = {{sec - 10, 0}, {sec, nsec}};
    REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

} // namespace

TEST_CASE("a tree round-trips: dirs, nested dirs, symlinks, empty file, modes and mtimes") {
    Scratch src, dst;
    src.mkdir("tree");
    src.mkdir("tree/a");
    src.mkdir("tree/a/b", 0750);
    src.write("tree/top.txt", "top level\n", 0600);
    src.write("tree/a/b/deep.bin", std::string(300'000, 'q') + "end", 0755);
    src.write("tree/a/empty", "", 0644);
    src.symlink("a/b/deep.bin", "tree/link-down");
    src.symlink("../top.txt", "tree/a/link-up");
    src.symlink("dangling-target", "tree/dangling");
    src.write("single.txt", "alone", 0640);
    set_mtime(src.path("tree/a/b/deep.bin"), 1'500'000'000, 123'456'789);
    set_mtime(src.path("tree/a/empty"), 1'400'000'000, 0);
    set_mtime(src.path("tree/a/link-up"), 1'300'000'000, 5);
    set_mtime(src.path("tree/a/b"), 1'200'000'000, 42);
    set_mtime(src.path("tree"), 1'100'000'000, 7);

    auto dest = dst.open_dir();
    auto t = transfer({src.path("tree"), src.path("single.txt")}, dest.get());
    INFO((t.sent ? std::string("sent") : t.sent.error().message()));
    REQUIRE(t.sent.has_value());
    CHECK(t.received.error_code == 0);
    CHECK(t.received.replied);
    CHECK(t.sent->crc32 == t.received.crc32);
    CHECK(t.sent->entries == 10); // 3 dirs, 4 files, 3 symlinks
    CHECK(t.received.entries == 10);
    CHECK(t.sent->bytes == t.received.bytes);
    CHECK(t.received.last_name == "single.txt");

    CHECK((lstat_of(dst.path("tree/top.txt")).st_mode & 07777) == 0600);
    CHECK((lstat_of(dst.path("tree/a/b/deep.bin")).st_mode & 07777) == 0755);
    CHECK((lstat_of(dst.path("tree/a/b")).st_mode & 07777) == 0750);
    CHECK((lstat_of(dst.path("single.txt")).st_mode & 07777) == 0640);

    // Times first: reading the files below updates their atime.
    auto deep = lstat_of(dst.path("tree/a/b/deep.bin"));
    CHECK(deep.st_mtim.tv_sec == 1'500'000'000);
    CHECK(deep.st_mtim.tv_nsec == 123'456'789);
    CHECK(deep.st_atim.tv_sec == 1'500'000'000 - 10);
    CHECK(lstat_of(dst.path("tree/a/empty")).st_mtim.tv_sec == 1'400'000'000);
    CHECK(lstat_of(dst.path("tree/a/link-up")).st_mtim.tv_sec == 1'300'000'000);
    // Directories get their times at their closing header, after their contents were written.
    auto b = lstat_of(dst.path("tree/a/b"));
    CHECK(b.st_mtim.tv_sec == 1'200'000'000);
    CHECK(b.st_mtim.tv_nsec == 42);
    CHECK(lstat_of(dst.path("tree")).st_mtim.tv_sec == 1'100'000'000);
    CHECK(dst.read("tree/top.txt") == "top level\n");
    CHECK(dst.read("tree/a/b/deep.bin") == std::string(300'000, 'q') + "end");
    CHECK(dst.read("tree/a/empty").empty());
    CHECK(dst.read("single.txt") == "alone");
    CHECK(sys::readlink(dst.path("tree/link-down")).value() == "a/b/deep.bin");
    CHECK(sys::readlink(dst.path("tree/a/link-up")).value() == "../top.txt");
    CHECK(sys::readlink(dst.path("tree/dangling")).value() == "dangling-target");
    CHECK(S_ISLNK(lstat_of(dst.path("tree/link-down")).st_mode));

    // No temporary file left anywhere.
    CHECK(sys::list_dir(dst.path("tree/a/b")).value() == std::vector<std::string>{"deep.bin"});
}

TEST_CASE("paths are sent under their last component; trailing slashes are fine") {
    Scratch src, dst;
    src.mkdir("x");
    src.mkdir("x/y");
    src.write("x/y/f", "1");
    auto dest = dst.open_dir();
    auto t = transfer({src.path("x/y/")}, dest.get());
    REQUIRE(t.sent.has_value());
    CHECK(dst.read("y/f") == "1");
    CHECK_FALSE(dst.exists("x"));
}

TEST_CASE("progress reports bytes sent against the total, ending at the total") {
    Scratch src, dst;
    src.mkdir("d");
    src.write("d/a", std::string(1'000'000, 'a'));
    src.write("d/b", std::string(10, 'b'));
    src.symlink("a", "d/l");
    std::vector<std::pair<uint64_t, uint64_t>> seen;
    filecopy::PackOptions opts;
    opts.progress = [&](uint64_t sent, uint64_t total) { seen.emplace_back(sent, total); };
    auto dest = dst.open_dir();
    auto t = transfer({src.path("d")}, dest.get(), {}, opts);
    REQUIRE(t.sent.has_value());
    REQUIRE(seen.size() >= 3);
    for (size_t i = 1; i < seen.size(); ++i)
        CHECK(seen[i].first >= seen[i - 1].first);
    CHECK(seen.back().first == 1'000'011);
    CHECK(seen.back().second == 1'000'011);
}

TEST_CASE(
    "a file that cannot be carried (name the receiver would refuse) fails before sending it") {
    Scratch src, dst;
    src.mkdir("d");
    src.write("d/bad\nname", "x");
    auto dest = dst.open_dir();
    auto t = transfer({src.path("d")}, dest.get());
    REQUIRE_FALSE(t.sent.has_value());
    CHECK(t.sent.error().message().find("cannot send") != std::string::npos);
    CHECK_FALSE(dst.exists("d/bad\nname"));
    CHECK(t.received.error_code != 0); // the receiver saw the stream end early
}

TEST_CASE("a corrupted byte in transit: the packer reports the CRC mismatch") {
    Scratch src, dst;
    src.write("f", std::string(100'000, 'c'));
    auto dest = dst.open_dir();
    auto t = transfer({src.path("f")}, dest.get(), {}, {},
                      [](std::span<std::byte> chunk, uint64_t offset) {
                          uint64_t target = 32 + 2 + 5'000; // inside the file data
                          if (target >= offset && target < offset + chunk.size())
                              chunk[target - offset] ^= std::byte(1);
                      });
    CHECK(t.received.error_code == 0); // the receiver cannot tell
    REQUIRE_FALSE(t.sent.has_value());
    CHECK(t.sent.error().code() == Errc::Protocol);
    CHECK(t.sent.error().message().find("checksum") != std::string::npos);
}
