// FilecopyValidator: every rule, with the errno a Qubes receiver would reply.
#include <bulkhead/rpc/filecopy/validator.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace bulkhead;
using namespace bulkhead::rpc::filecopy;

namespace {

UntrustedBytes span_of(std::string const& s) {
    return UntrustedBytes(std::span(reinterpret_cast<std::byte const*>(s.data()), s.size()));
}

// Header + name through steps 1 and 2, as the unpacker does.
Result<ValidatedEntry> decode(std::string const& name_with_nul, uint32_t mode = S_IFREG | 0644,
                              uint64_t filelen = 0) {
    FileHeader h{uint32_t(name_with_nul.size()), mode, filelen, 1, 2, 3, 4};
    auto raw = encode(h);
    auto step = FilecopyValidator::header(UntrustedBytes(raw));
    if (!step)
        return std::move(step).error();
    REQUIRE_FALSE(step->end);
    return FilecopyValidator::entry(step->header, span_of(name_with_nul));
}

Result<ValidatedEntry> name(std::string const& n) {
    return decode(n + std::string(1, '\0'));
}

int err_of(Result<ValidatedEntry> const& r) {
    REQUIRE_FALSE(r.has_value());
    return r.error().sys_errno();
}

Result<std::string> target(std::string const& link, std::string const& t) {
    auto e = decode(link + std::string(1, '\0'), S_IFLNK | 0777, t.size());
    REQUIRE(e.has_value());
    return FilecopyValidator::symlink_target(*e, span_of(t));
}

} // namespace

TEST_CASE("valid entries decode with type, name, permissions, size and times") {
    auto f = decode(std::string("dir/file.txt\0", 13), S_IFREG | 04755, 10);
    REQUIRE(f.has_value());
    CHECK(f->type == EntryType::File);
    CHECK(f->name == "dir/file.txt");
    CHECK(f->permissions == 0755); // setuid dropped
    CHECK(f->size == 10);
    CHECK(f->atime.tv_sec == 1);
    CHECK(f->atime.tv_nsec == 2);
    CHECK(f->mtime.tv_sec == 3);
    CHECK(f->mtime.tv_nsec == 4);
    CHECK(f->depth() == 2);
    CHECK(decode(std::string("d\0", 2), S_IFDIR | 0755)->type == EntryType::Directory);
    CHECK(decode(std::string("l\0", 2), S_IFLNK | 0777, 3)->type == EntryType::Symlink);
    CHECK(name("ünïcode ok — 日本語 🙂").has_value());
    CHECK(name("..hidden").has_value());
    CHECK(name("a..b/...").has_value());
}

TEST_CASE("the end marker is namelen 0") {
    auto raw = encode_end();
    auto step = FilecopyValidator::header(UntrustedBytes(raw));
    REQUIRE(step.has_value());
    CHECK(step->end);
}

TEST_CASE("names: absolute, '..', '.', empty components and repeated '/' are rejected") {
    for (auto bad : {"/etc/passwd", "/", "..", "../x", "a/../b", "a/..", ".", "./a", "a/./b", "a/.",
                     "a//b", "a/", "//a", ""}) {
        INFO(bad);
        auto r = name(bad);
        CHECK_FALSE(r.has_value());
        if (!r)
            CHECK((r.error().sys_errno() == EILSEQ || r.error().sys_errno() == ENOENT));
    }
}

TEST_CASE("names: invalid UTF-8 and control characters are rejected") {
    for (std::string bad :
         {std::string("a\nb"), std::string("tab\there"), std::string("esc\x1b[31m"),
          std::string("del\x7f"), std::string("c1\xc2\x85"), // U+0085 NEL
          std::string("\xc0\xaf"),                           // overlong '/'
          std::string("\xe0\x80\xaf"),                       // overlong
          std::string("\xed\xa0\x80"),                       // surrogate
          std::string("\xf4\x90\x80\x80"),                   // > U+10FFFF
          std::string("\xff"), std::string("cut\xe2\x82"),   // truncated
          std::string("\x80lead"),
          std::string("gpj.\xe2\x80\xae"
                      "exe"),              // U+202E RIGHT-TO-LEFT OVERRIDE
          std::string("x\xe2\x81\xa6y"),   // U+2066
          std::string("x\xef\xbf\xbf")}) { // U+FFFF
        INFO(bad);
        CHECK(err_of(name(bad)) == EILSEQ);
    }
}

TEST_CASE("names: NUL must end the name and appear nowhere else") {
    CHECK(err_of(decode("abc")) == EILSEQ);                    // no NUL at all
    CHECK(err_of(decode(std::string("a\0b\0", 4))) == EILSEQ); // embedded NUL
    CHECK(err_of(decode(std::string("\0", 1))) == ENOENT);     // empty name
}

TEST_CASE("names: 16,383 bytes (with the NUL) pass, longer is ENAMETOOLONG; components <= 255") {
    std::string comp(200, 'x');
    std::string longest;
    while (longest.size() + comp.size() + 1 <= max_namelen - 1)
        longest += (longest.empty() ? "" : "/") + comp;
    longest += "/" + std::string(max_namelen - 1 - longest.size() - 1, 'y');
    REQUIRE(longest.size() == max_namelen - 1);
    CHECK(name(longest).has_value());
    CHECK(err_of(name(longest + "z")) == ENAMETOOLONG);
    CHECK(name(std::string(255, 'a')).has_value());
    CHECK(err_of(name(std::string(256, 'a'))) == ENAMETOOLONG);
}

TEST_CASE("header: only regular files, directories and symlinks") {
    for (uint32_t mode :
         {uint32_t(S_IFIFO | 0644), uint32_t(S_IFCHR | 0600), uint32_t(S_IFBLK | 0600),
          uint32_t(S_IFSOCK | 0777), 0644u, 0xf0000000u | 0644u}) {
        INFO(mode);
        CHECK(err_of(decode(std::string("x\0", 2), mode)) == EINVAL);
    }
}

TEST_CASE("header: field ranges") {
    auto header = [](FileHeader h) {
        auto raw = encode(h);
        return FilecopyValidator::header(UntrustedBytes(raw));
    };
    CHECK(header({2, S_IFREG | 0644, 0, 0, 999'999'999, 0, 999'999'999}).has_value());
    CHECK_FALSE(header({2, S_IFREG | 0644, 0, 0, 1'000'000'000, 0, 0}).has_value());
    CHECK_FALSE(header({2, S_IFREG | 0644, 0, 0, 0, 0, 1'000'000'000}).has_value());
    CHECK_FALSE(header({2, S_IFDIR | 0755, 1, 0, 0, 0, 0}).has_value()); // dir with data
    CHECK_FALSE(header({2, S_IFLNK | 0777, 0, 0, 0, 0, 0}).has_value()); // empty target
    CHECK_FALSE(header({2, S_IFLNK | 0777, max_symlink_target + 1, 0, 0, 0, 0}).has_value());
    CHECK(header({2, S_IFLNK | 0777, max_symlink_target, 0, 0, 0, 0}).has_value());
    CHECK_FALSE(header({2, S_IFREG | 0644, uint64_t(1) << 63, 0, 0, 0, 0}).has_value());
    CHECK_FALSE(header({max_namelen + 1, S_IFREG | 0644, 0, 0, 0, 0, 0}).has_value());
    CHECK(header({max_namelen, S_IFREG | 0644, 0, 0, 0, 0, 0}).has_value());
    std::vector<std::byte> short_header(31);
    CHECK_FALSE(FilecopyValidator::header(UntrustedBytes(short_header)).has_value());
}

TEST_CASE("symlink targets stay inside the copied tree") {
    CHECK(target("l", "file").has_value());
    CHECK(target("l", "dir/file").has_value());
    CHECK(target("a/l", "../x").has_value()); // up to the top of the tree
    CHECK(target("a/b/l", "../../x").has_value());
    CHECK(target("a/b/l", "../x/y").has_value());
    CHECK_FALSE(target("l", "../x").has_value()); // escapes at the top level
    CHECK_FALSE(target("a/l", "../../x").has_value());
    CHECK_FALSE(target("a/b/l", "../../..").has_value());
    CHECK_FALSE(target("l", "/etc/passwd").has_value());    // absolute
    CHECK_FALSE(target("a/b/l", "x/../../..").has_value()); // '..' after a name
    CHECK_FALSE(target("a/l", "x/../y").has_value());
    CHECK_FALSE(target("l", ".").has_value());
    CHECK_FALSE(target("l", "a//b").has_value());
    CHECK_FALSE(target("l", "a/").has_value());
    CHECK_FALSE(target("l", std::string("a\0b", 3)).has_value());
    CHECK_FALSE(target("l", "bad\x01").has_value());
    // The target must be exactly filelen bytes.
    auto e = decode(std::string("l\0", 2), S_IFLNK | 0777, 4);
    REQUIRE(e.has_value());
    CHECK_FALSE(FilecopyValidator::symlink_target(*e, span_of("abc")).has_value());
}

TEST_CASE("reply: result_header and ext") {
    std::string_view last = "a\x1b\"b";
    auto raw = encode_reply({EEXIST, 0x12345678}, &last);
    auto r = FilecopyValidator::reply(UntrustedBytes(std::span(raw).first(result_header_size)));
    REQUIRE(r.has_value());
    CHECK(r->error_code == EEXIST);
    CHECK(r->crc32 == 0x12345678);
    auto len = FilecopyValidator::reply_last_namelen(
        UntrustedBytes(std::span(raw).subspan(result_header_size, result_header_ext_size)));
    REQUIRE(len.has_value());
    CHECK(*len == 4);
    auto shown = FilecopyValidator::reply_last_name(
        UntrustedBytes(std::span(raw).subspan(result_header_size + result_header_ext_size)));
    CHECK(shown == "a__b"); // escape and quote made harmless
    std::vector<std::byte> huge = {std::byte(0xff), std::byte(0xff), std::byte(0xff),
                                   std::byte(0xff)};
    CHECK_FALSE(FilecopyValidator::reply_last_namelen(UntrustedBytes(huge)).has_value());
    CHECK_FALSE(FilecopyValidator::reply(UntrustedBytes(std::span(raw).first(15))).has_value());
}
