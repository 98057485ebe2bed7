// FileNameValidator and UrlValidator (guest-agent/openinvm/validate.h), and the name field.
#include <bulkhead/openinvm/stream.h>
#include <bulkhead/openinvm/validate.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace bulkhead;
using namespace bulkhead::openinvm;

namespace {
ValidatedName name_of(std::string raw) {
    return FileNameValidator::validate(Untrusted<std::string>(std::move(raw)));
}
Result<std::string> url_of(std::string raw) {
    return UrlValidator::validate(Untrusted<std::string>(std::move(raw)));
}
std::string field_of(std::string_view name, std::string_view prefix = {}) {
    auto f = encode_name_field(name, prefix);
    return std::string(f.data(), f.size());
}
} // namespace

TEST_CASE("name: a plain basename from the padded field is kept") {
    auto v = name_of(field_of("report.pdf"));
    CHECK(v.name == "report.pdf");
    CHECK_FALSE(v.fell_back);
    CHECK(name_of(field_of("résumé.odt")).name == "résumé.odt");
    CHECK(name_of(".hidden").name == ".hidden");
}

TEST_CASE("name: shell metacharacters become '_' (as vm-file-editor does)") {
    auto v = name_of("my file (1)!.txt");
    CHECK(v.name == "my_file__1__.txt");
    CHECK_FALSE(v.fell_back);
}

TEST_CASE("name: unusable names fall back to file[.ext]") {
    for (std::string raw :
         std::vector<std::string>{"../../etc/passwd.txt", "a/b.txt", std::string("\x1b[31mx.txt"),
                                  std::string("\xff\xfe.txt"), std::string("tab\there.txt")}) {
        INFO(raw);
        auto v = name_of(raw);
        CHECK(v.fell_back);
        CHECK(v.name == "file.txt");
    }
    CHECK(name_of("").name == "file");
    CHECK(name_of("..").name == "file");
    CHECK(name_of(".").name == "file");
    CHECK(name_of(std::string(256, 'x')).name == "file"); // no NUL in the whole field
    CHECK(name_of("a/b.tar.gz\x01").name == "file");      // the extension must be clean
    CHECK(name_of("x/y.verylongextension123").name == "file");
    CHECK(name_of(std::string(255, 'y')).name == std::string(255, 'y'));
}

TEST_CASE("name: the view-only prefix (newer Qubes callers) is recognised and stripped") {
    auto v = name_of(field_of("/x/a.txt", kViewOnlyPrefix));
    CHECK(v.view_only);
    CHECK(v.name == "a.txt");
    CHECK_FALSE(name_of(field_of("/x/a.txt")).view_only);
    auto bare = name_of("view-only-");
    CHECK(bare.view_only);
    CHECK(bare.name == "file");
    CHECK_FALSE(name_of("../view-only-x").view_only);
    // the prefix counts against the 255 bytes: the long name keeps its end
    std::string longname = std::string(300, 'n') + ".pdf";
    auto f = field_of(longname, kViewOnlyPrefix);
    CHECK(std::string(f.c_str()).size() == 255);
    auto lv = name_of(f);
    CHECK(lv.view_only);
    CHECK(lv.name == longname.substr(longname.size() - 245));
}

TEST_CASE("name: text after the first NUL is ignored") {
    std::string raw = "good.txt";
    raw += '\0';
    raw += "/evil\x01";
    CHECK(name_of(raw).name == "good.txt");
}

TEST_CASE("name field: basename, NUL-padded to 256; long names keep their end") {
    auto f = field_of("/home/user/dir/a.txt");
    CHECK(std::string(f.c_str()) == "a.txt");
    CHECK(f.size() == 256);
    std::string longname = std::string(300, 'n') + ".pdf";
    auto lf = field_of("/x/" + longname);
    CHECK(std::string(lf.c_str()).size() == 255);
    CHECK(std::string(lf.c_str()) == longname.substr(longname.size() - 255));
    CHECK(lf[255] == '\0');
    // cut inside a UTF-8 character: moved forward to a character start
    std::string multi;
    for (int i = 0; i < 200; ++i)
        multi += "é"; // 2 bytes each
    multi += "x.odt";
    auto mf = field_of(multi);
    auto kept = std::string(mf.c_str());
    CHECK(kept.size() <= 255);
    CHECK_FALSE(name_of(kept).fell_back);
}

TEST_CASE("url: allowed schemes, one trailing newline") {
    CHECK(url_of("https://example.com/a?b=c#d\n").value() == "https://example.com/a?b=c#d");
    CHECK(url_of("http://example.com").value() == "http://example.com");
    CHECK(url_of("FTP://ftp.example.org/pub").value() == "FTP://ftp.example.org/pub");
    CHECK(url_of("https://пример.рф/\n").has_value());
}

TEST_CASE("url: rejected") {
    for (std::string raw : std::vector<std::string>{
             "", "\n", "javascript:alert(1)", "file:///etc/passwd", "mailto:a@b.c", "data://x",
             "example.com", "https://", "https://a b", "https://a\nhttps://b\n", "https://a\n\n",
             std::string("https://a\x01"), std::string("https://a\x7f"),
             std::string("https://\xff"), "https://" + std::string(kMaxUrlBytes, 'a')}) {
        INFO(raw);
        CHECK_FALSE(url_of(raw).has_value());
    }
    CHECK(url_of("https://" + std::string(kMaxUrlBytes - 8, 'a')).has_value());
}

TEST_CASE("looks_like_url tells URLs from file names") {
    CHECK(looks_like_url("https://x"));
    CHECK(looks_like_url("svn+ssh://x"));
    CHECK_FALSE(looks_like_url("/home/user/a.txt"));
    CHECK_FALSE(looks_like_url("dir/x://y"));
    CHECK_FALSE(looks_like_url("://x"));
}
