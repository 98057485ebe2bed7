#include <bulkhead/base/text.h>

#include <catch2/catch.hpp>

using namespace bulkhead;

TEST_CASE("escape makes untrusted text safe for one log line") {
    CHECK(text::escape("plain text") == "plain text");
    CHECK(text::escape("a\nb") == "a\\x0ab");
    CHECK(text::escape("\x1b[31m") == "\\x1b[31m");
    CHECK(text::escape("q\"\\") == "q\\x22\\x5c");
    CHECK(text::escape("\xc3\xa9") == "\\xc3\\xa9");
}

TEST_CASE("utf-8 validation") {
    CHECK(text::is_valid_utf8("hello"));
    CHECK(text::is_valid_utf8("\xc3\xa9t\xc3\xa9"));
    CHECK_FALSE(text::is_valid_utf8("\xc3"));
    CHECK_FALSE(text::is_valid_utf8("\xc0\xaf"));         // overlong
    CHECK_FALSE(text::is_valid_utf8("\xed\xa0\x80"));     // surrogate
    CHECK_FALSE(text::is_valid_utf8("\xf4\x90\x80\x80")); // > U+10FFFF
}

TEST_CASE("split, trim, join and numbers") {
    CHECK(text::split("a,b,,c", ',') == std::vector<std::string>{"a", "b", "", "c"});
    CHECK(text::split_ws("  a \t b  c ") == std::vector<std::string>{"a", "b", "c"});
    CHECK(text::trim("  x y \n") == "x y");
    CHECK(text::join({"a", "b"}, ", ") == "a, b");
    CHECK(*text::parse_u64("123") == 123);
    CHECK_FALSE(text::parse_u64("12a"));
    CHECK_FALSE(text::parse_u64(""));
    CHECK_FALSE(text::parse_u64("-1"));
    CHECK(*text::parse_i64("-1") == -1);
}
