// The strict JSON parser and SystemInfo::from_json (Qubes' system-info shape).
#include "policy_test_util.h"

#include <bulkhead/policy/json.h>

using namespace policy_test;
using K = JsonValue::Kind;

TEST_CASE("json: values") {
    auto v = JsonValue::parse(R"( {"a": [1, -2.5e3, true, false, null, "x\n\u00e9\ud83d\ude00"],
                                  "b": {}} )");
    REQUIRE(v);
    REQUIRE(v->is(K::Object));
    auto const* a = v->find("a");
    REQUIRE(a);
    REQUIRE(a->items().size() == 6);
    CHECK(a->items()[0].as_number() == 1);
    CHECK(a->items()[1].as_number() == -2500);
    CHECK(a->items()[2].as_bool());
    CHECK(!a->items()[3].as_bool());
    CHECK(a->items()[4].is(K::Null));
    CHECK(a->items()[5].as_string() == "x\n\xc3\xa9\xf0\x9f\x98\x80");
    CHECK(v->find("b")->is(K::Object));
    CHECK(!v->find("c"));
    CHECK(JsonValue::parse("\"s\"")->as_string() == "s");
    CHECK(JsonValue::parse("0")->as_number() == 0);
}

TEST_CASE("json: malformed input is rejected") {
    for (auto const* bad : {"",
                            " ",
                            "{",
                            "}",
                            "[1,]",
                            "{\"a\":1,}",
                            "{\"a\" 1}",
                            "{a:1}",
                            "[1 2]",
                            "01",
                            "1.",
                            "1e",
                            "-",
                            "+1",
                            ".5",
                            "tru",
                            "nul",
                            "\"abc",
                            "\"\\x\"",
                            "\"\\u12\"",
                            "\"\\ud800\"",
                            "\"\\udc00\"",
                            "\"\\ud800\\u0041\"",
                            "\"a\tb\"",
                            "\"\xff\"",
                            "{} x",
                            "[] []",
                            "{\"a\":1,\"a\":2}",
                            "NaN",
                            "Infinity"}) {
        INFO(bad);
        CHECK(!JsonValue::parse(bad));
    }
}

TEST_CASE("json: nesting is bounded") {
    std::string deep(JsonValue::kMaxDepth + 10, '[');
    deep += std::string(JsonValue::kMaxDepth + 10, ']');
    auto r = JsonValue::parse(deep);
    REQUIRE(!r);
    CHECK(r.error().message().find("nesting too deep") != std::string::npos);
    std::string ok(JsonValue::kMaxDepth, '[');
    ok += std::string(JsonValue::kMaxDepth, ']');
    CHECK(JsonValue::parse(ok));
}

TEST_CASE("json: many keys in one object parse quickly and duplicates are found") {
    std::string s = "{";
    for (int i = 0; i < 20000; ++i)
        s += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    CHECK(JsonValue::parse(s + "}"));
    CHECK(!JsonValue::parse(s + ",\"k19999\":0}"));
}

TEST_CASE("system info: the standard fixture") {
    SystemInfo const& info = system_info();
    CHECK(info.domains().size() == 10);
    auto const* work = info.find("work");
    REQUIRE(work);
    CHECK(work->type == DomainType::AppVM);
    CHECK(work->tags == std::vector<std::string>{"work"});
    CHECK(*work->default_dispvm == "default-dvm");
    CHECK(work->uuid == kWorkUuid);
    CHECK(work->power_state == "Running");
    CHECK(work->icon == "appvm-blue");
    CHECK(!work->internal);
    CHECK(!info.find("vault")->default_dispvm);
    CHECK(info.find("default-dvm")->template_for_dispvms);
    CHECK(info.find("sys-usb")->internal);
    CHECK(info.find_uuid(kDom0Uuid)->name == "dom0");
    CHECK(!info.find("ghost"));
    CHECK(!info.find_uuid("ghost"));
}

TEST_CASE("system info: minimal entries and defaults") {
    auto r = SystemInfo::from_json(R"({"domains": {"dom0": {"type": "AdminVM"},
                                       "a": {"type": "AppVM", "extra": [1, {"x": null}]}},
                                       "other": 1})");
    REQUIRE(r);
    auto const* a = r->find("a");
    REQUIRE(a);
    CHECK(a->tags.empty());
    CHECK(!a->default_dispvm);
    CHECK(!a->template_for_dispvms);
    CHECK(a->power_state == "Halted");
    CHECK(a->uuid.empty());
    CHECK(SystemInfo::from_json(R"({"domains": {}})"));
}

TEST_CASE("system info: invalid shapes are rejected") {
    for (auto const* bad : {
             R"([])",
             R"({})",
             R"({"domains": []})",
             R"({"domains": {"a": []}})",
             R"({"domains": {"a": {}}})",
             R"({"domains": {"a": {"type": "VM"}}})",
             R"({"domains": {"a": {"type": 1}}})",
             R"({"domains": {"1a": {"type": "AppVM"}}})",
             R"({"domains": {"a b": {"type": "AppVM"}}})",
             R"({"domains": {"a": {"type": "AppVM", "tags": "x"}}})",
             R"({"domains": {"a": {"type": "AppVM", "tags": [1]}}})",
             R"({"domains": {"a": {"type": "AppVM", "default_dispvm": 1}}})",
             R"({"domains": {"a": {"type": "AppVM", "template_for_dispvms": "yes"}}})",
             R"({"domains": {"a": {"type": "AppVM", "internal": 0}}})",
             R"({"domains": {"a": {"type": "AppVM", "uuid": 5}}})",
             R"({"domains": {"a": {"type": "AppVM", "power_state": true}}})",
             R"({"domains": {"a": {"type": "AppVM", "uuid": "u"},
                             "b": {"type": "AppVM", "uuid": "u"}}})",
         }) {
        INFO(bad);
        CHECK(!SystemInfo::from_json(bad));
    }
}
