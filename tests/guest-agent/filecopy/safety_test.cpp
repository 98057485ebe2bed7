// The unpacker's guarantees against a hostile stream (and a hostile local process): caps, cut
// streams, no overwrite, no symlink following, rejections with Qubes' error codes.
#include "harness.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/rpc/filecopy/wire.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <sys/stat.h>

using namespace bulkhead;
using namespace bulkhead::test;

namespace {

constexpr uint32_t reg = S_IFREG | 0644;
constexpr uint32_t dir = S_IFDIR | 0755;
constexpr uint32_t lnk = S_IFLNK | 0777;

std::vector<std::string> listing(Scratch const& s, std::string const& rel = "") {
    return sys::list_dir(rel.empty() ? s.root : s.path(rel)).value();
}

} // namespace

TEST_CASE("cap on bytes: over it, EDQUOT, and the packer says Limit") {
    Scratch src, dst;
    src.write("a", std::string(600, 'a'));
    src.write("b", std::string(600, 'b'));
    filecopy::UnpackOptions caps;
    caps.max_bytes = 1000;
    auto dest = dst.open_dir();
    auto t = transfer({src.path("a"), src.path("b")}, dest.get(), caps);
    CHECK(t.received.error_code == EDQUOT);
    REQUIRE_FALSE(t.sent.has_value());
    CHECK(t.sent.error().code() == Errc::Limit);
    CHECK(t.sent.error().sys_errno() == EDQUOT);
    CHECK(dst.read("a") == std::string(600, 'a'));
    CHECK(listing(dst) == std::vector<std::string>{"a"}); // b never started
    // Exactly at the cap is fine.
    Scratch dst2;
    auto dest2 = dst2.open_dir();
    caps.max_bytes = 1200;
    CHECK(transfer({src.path("a"), src.path("b")}, dest2.get(), caps).sent.has_value());
}

TEST_CASE("cap on files: the entry past it is refused with EDQUOT") {
    Scratch src, dst;
    src.mkdir("d");
    for (int i = 0; i < 5; ++i)
        src.write("d/f" + std::to_string(i), "x");
    filecopy::UnpackOptions caps;
    caps.max_files = 5; // the directory counts once, so the fifth file is one too many
    auto dest = dst.open_dir();
    auto t = transfer({src.path("d")}, dest.get(), caps);
    CHECK(t.received.error_code == EDQUOT);
    REQUIRE_FALSE(t.sent.has_value());
    CHECK(t.sent.error().code() == Errc::Limit);
    CHECK(listing(dst, "d").size() == 4);
    caps.max_files = 6;
    Scratch dst2;
    auto dest2 = dst2.open_dir();
    CHECK(transfer({src.path("d")}, dest2.get(), caps).sent.has_value());
}

TEST_CASE("defaults are 2 GiB and 2,048 files") {
    filecopy::UnpackOptions o;
    CHECK(o.max_bytes == uint64_t(2) << 30);
    CHECK(o.max_files == 2048);
}

TEST_CASE("a stream cut mid-file leaves no file under its name, and no temporary file") {
    Scratch dst;
    std::vector<std::byte> s;
    append_entry(s, "done.txt", reg, "complete");
    append_entry(s, "half.txt", reg, std::string(10'000, 'h'));
    s.resize(s.size() - 4'000); // cut inside half.txt's data
    auto dest = dst.open_dir();
    auto r = unpack_bytes(s, dest.get());
    CHECK(r.error_code == rpc::filecopy::legal_eof);
    CHECK(r.last_name == "half.txt");
    CHECK(dst.read("done.txt") == "complete");
    CHECK(listing(dst) == std::vector<std::string>{"done.txt"});
}

TEST_CASE("a stream without its end marker is not a success") {
    Scratch dst;
    std::vector<std::byte> s;
    append_entry(s, "f", reg, "x");
    auto dest = dst.open_dir();
    CHECK(unpack_bytes(s, dest.get()).error_code == rpc::filecopy::legal_eof);
}

TEST_CASE("an existing file is never overwritten: EEXIST, old contents kept") {
    Scratch src, dst;
    src.write("report.pdf", "new contents");
    dst.write("report.pdf", "old contents");
    auto dest = dst.open_dir();
    auto t = transfer({src.path("report.pdf")}, dest.get());
    CHECK(t.received.error_code == EEXIST);
    REQUIRE_FALSE(t.sent.has_value());
    CHECK(t.sent.error().code() == Errc::Exists);
    CHECK(t.sent.error().message().find("report.pdf") != std::string::npos);
    CHECK(dst.read("report.pdf") == "old contents");
    CHECK(listing(dst) == std::vector<std::string>{"report.pdf"});
}

TEST_CASE("an existing symlink is not replaced, and a file is not written through it") {
    Scratch dst, outside;
    dst.symlink(outside.path("target"), "f");
    std::vector<std::byte> s;
    append_entry(s, "f", reg, "payload");
    append_end(s);
    auto dest = dst.open_dir();
    CHECK(unpack_bytes(s, dest.get()).error_code == EEXIST);
    CHECK_FALSE(outside.exists("target"));
    CHECK(sys::readlink(dst.path("f")).value() == outside.path("target"));
}

TEST_CASE("an existing directory is entered (Qubes merges), a file of that name is not") {
    Scratch dst;
    dst.mkdir("d");
    dst.write("d/old", "1");
    dst.write("plain", "2");
    std::vector<std::byte> s;
    append_entry(s, "d", dir);
    append_entry(s, "d/new", reg, "3");
    append_entry(s, "d", dir);
    append_end(s);
    auto dest = dst.open_dir();
    CHECK(unpack_bytes(s, dest.get()).error_code == 0);
    CHECK(dst.read("d/old") == "1");
    CHECK(dst.read("d/new") == "3");
    std::vector<std::byte> s2;
    append_entry(s2, "plain", dir);
    append_entry(s2, "plain/x", reg, "4");
    CHECK(unpack_bytes(s2, dest.get()).error_code == EEXIST);
    CHECK(dst.read("plain") == "2");
}

TEST_CASE("a symlink swapped into the destination before unpacking is not followed") {
    Scratch src, dst, outside;
    src.mkdir("docs");
    src.write("docs/a.txt", "A");
    // A local process put docs -> outside before the copy arrives.
    dst.symlink(outside.root, "docs");
    auto dest = dst.open_dir();
    auto t = transfer({src.path("docs")}, dest.get());
    REQUIRE_FALSE(t.sent.has_value());
    CHECK(t.received.error_code == EEXIST);
    CHECK(listing(outside).empty());
    // Swapped in between the directory header and a file inside it: the open fails.
    std::vector<std::byte> s;
    append_entry(s, "inner/f", reg, "x");
    dst.symlink(outside.root, "inner");
    auto r = unpack_bytes(s, dest.get());
    CHECK((r.error_code == ENOTDIR || r.error_code == ELOOP));
    CHECK(listing(outside).empty());
}

TEST_CASE("a symlink from the stream is never followed by later entries") {
    Scratch dst;
    dst.mkdir("real");
    std::vector<std::byte> s;
    append_entry(s, "l", lnk, "real"); // inside the tree, allowed
    append_entry(s, "l/f", reg, "through the link");
    append_end(s);
    auto dest = dst.open_dir();
    auto r = unpack_bytes(s, dest.get());
    CHECK((r.error_code == ENOTDIR || r.error_code == ELOOP));
    CHECK(listing(dst, "real").empty());
}

TEST_CASE("rejections reply Qubes' error codes and create nothing") {
    struct Case {
        std::string name;
        uint32_t mode;
        std::string data;
        uint32_t code;
    };
    std::vector<Case> cases = {
        {"/abs", reg, "x", EILSEQ},          {"../up", reg, "x", EILSEQ},
        {"a/../b", reg, "x", EILSEQ},        {"./a", reg, "x", EILSEQ},
        {"a//b", reg, "x", EILSEQ},          {"bad\xff", reg, "x", EILSEQ},
        {"ctl\x01", reg, "x", EILSEQ},       {"fifo", S_IFIFO | 0644, "", EINVAL},
        {"dev", S_IFCHR | 0644, "", EINVAL}, {"up", lnk, "../outside", EILSEQ},
        {"abs", lnk, "/etc/passwd", EILSEQ}, {std::string(16'383, 'n'), reg, "", ENAMETOOLONG},
    };
    for (auto const& c : cases) {
        INFO(c.name.substr(0, 40));
        Scratch dst;
        std::vector<std::byte> s;
        append_entry(s, c.name, c.mode, c.data);
        append_end(s);
        auto dest = dst.open_dir();
        CHECK(unpack_bytes(s, dest.get()).error_code == c.code);
        CHECK(listing(dst).empty());
    }
}

TEST_CASE("directory modes are applied at the closing header, after the contents") {
    Scratch dst;
    std::vector<std::byte> s;
    append_entry(s, "ro", S_IFDIR | 04555); // setuid bit must not survive
    append_entry(s, "ro/f", reg, "inside");
    append_entry(s, "ro", S_IFDIR | 04555, {}, 1'234'567'890);
    append_end(s);
    auto dest = dst.open_dir();
    REQUIRE(unpack_bytes(s, dest.get()).error_code == 0);
    struct stat st;
    REQUIRE(::lstat(dst.path("ro").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0555);
    CHECK(st.st_mtim.tv_sec == 1'234'567'890);
    CHECK(dst.read("ro/f") == "inside");
}
