// sanitize_text(): the UTF-8 and control-character rules for guest strings.
#include <bulkhead/rpc/gui/sanitize.h>

#include <catch2/catch.hpp>

using namespace bulkhead::rpc::gui;

TEST_CASE("sanitize: valid text passes unchanged") {
    CHECK(sanitize_text("hello — wörld 😀", 100) == "hello — wörld 😀");
    CHECK(sanitize_text("", 10).empty());
}

TEST_CASE("sanitize: control characters removed") {
    CHECK(sanitize_text("a\tb\nc\rd\x1b"
                        "e\x7f"
                        "f",
                        100) == "abcdef");
    CHECK(sanitize_text("x\xc2\x85y\xc2\x9bz", 100) == "xyz"); // C1 NEL, CSI
}

TEST_CASE("sanitize: bidi controls and separators removed") {
    for (char const* s : {"\xe2\x80\x8e", "\xe2\x80\x8f", "\xe2\x80\xa8", "\xe2\x80\xa9",
                          "\xe2\x80\xaa", "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x81\xa9"})
        CHECK(sanitize_text(std::string("a") + s + "b", 100) == "ab");
    CHECK(is_removed_code_point(0x202e));
    CHECK_FALSE(is_removed_code_point(0x2030));
    CHECK_FALSE(is_removed_code_point(' '));
}

TEST_CASE("sanitize: invalid UTF-8 becomes U+FFFD per byte") {
    std::string const r = "\xef\xbf\xbd";
    CHECK(sanitize_text("\xff", 100) == r);
    CHECK(sanitize_text("\xc0\xaf", 100) == r + r);                 // overlong '/'
    CHECK(sanitize_text("\xed\xa0\x80", 100) == r + r + r);         // surrogate
    CHECK(sanitize_text("\xf4\x90\x80\x80", 100) == r + r + r + r); // > U+10FFFF
    CHECK(sanitize_text("a\xe2\x82", 100) == "a" + r + r);          // truncated sequence
}

TEST_CASE("sanitize: cap cuts at a code point boundary") {
    CHECK(sanitize_text("abc", 2) == "ab");
    CHECK(sanitize_text("a\xc3\xa9", 2) == "a");
    CHECK(sanitize_text("😀😀", 7) == "😀");
    CHECK(sanitize_text("abc", 0).empty());
}

TEST_CASE("sanitize: idempotent") {
    for (std::string s : {std::string("\xff\xfe a\x01 \xe2\x80\xae b"), std::string(300, '\x80'),
                          std::string("ok")}) {
        auto once = sanitize_text(s, 50);
        CHECK(sanitize_text(once, 50) == once);
    }
}
