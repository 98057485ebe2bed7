// dom0 titles: "[domain] title", and a guest title cannot fake the prefix.
#include <bulkhead/gui/model/title.h>

#include <catch2/catch.hpp>

using namespace bulkhead::gui::model;

TEST_CASE("title: dom0 prefix") {
    CHECK(dom0_title("work", "xterm") == "[work] xterm");
    CHECK(dom0_title("work", "") == "[work]");
    CHECK(dom0_title("work", "a [b] c") == "[work] a [b] c"); // brackets later are fine
    CHECK(dom0_title("work", "(2) Inbox") == "[work] (2) Inbox");
}

TEST_CASE("title: leading bracket groups are dropped") {
    CHECK(dom0_title("untrusted", "[vault] passwords") == "[untrusted] passwords");
    CHECK(dom0_title("untrusted", "   [dom0]   [vault]  Terminal") == "[untrusted] Terminal");
    CHECK(dom0_title("untrusted", "[dom0]") == "[untrusted]");
    CHECK(dom0_title("untrusted", "[vault") == "[untrusted] vault"); // unclosed: opener only
}

TEST_CASE("title: look-alike brackets and invisible spaces are dropped too") {
    CHECK(dom0_title("untrusted", "\xef\xbc\xbbvault\xef\xbc\xbd x") ==
          "[untrusted] x"); // fullwidth
    CHECK(dom0_title("untrusted", "\xe2\x9f\xa6vault\xe2\x9f\xa7 x") == "[untrusted] x");
    CHECK(dom0_title("untrusted", "\xe3\x80\x90vault\xe3\x80\x91x") == "[untrusted] x");
    CHECK(dom0_title("untrusted", "\xc2\xa0\xe2\x80\x8b[vault] x") == "[untrusted] x");
    CHECK(dom0_title("untrusted", "\xe3\x80\x80[vault]\xc2\xa0x") == "[untrusted] x");
}

TEST_CASE("title: stripping is idempotent") {
    for (char const* t : {"[a][b] c", " x", "\xef\xbc\xbb", "plain"}) {
        auto once = strip_title_spoofing(t);
        CHECK(strip_title_spoofing(once) == once);
    }
}
