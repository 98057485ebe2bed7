// The question's JSON form and the answer check (dom0/ask/ask_agent.h).
#include <bulkhead/dom0/ask/ask_agent.h>

#include <catch2/catch.hpp>

using namespace bulkhead::dom0;

namespace {
AskQuestion sample() {
    AskQuestion q;
    q.source = "untrusted";
    q.service = "qubes.Filecopy";
    q.argument = "a\"b\\c\n";
    q.targets = {{"work", "blue", 0x3465a4}, {"@dispvm:dvm", "red", 0xcc0000}};
    q.default_target = "work";
    return q;
}
} // namespace

TEST_CASE("ask question: JSON round trip, escapes", "[ask]") {
    auto q = sample();
    auto json = to_json(q);
    CHECK(json.find("\"color\":\"#3465a4\"") != std::string::npos);
    CHECK(json.find("a\\\"b\\\\c\\n") != std::string::npos);
    auto back = question_from_json(json);
    REQUIRE(back);
    CHECK(back->source == q.source);
    CHECK(back->service == q.service);
    CHECK(back->argument == q.argument);
    REQUIRE(back->targets.size() == 2);
    CHECK(back->targets[1].name == "@dispvm:dvm");
    CHECK(back->targets[1].label == "red");
    CHECK(back->targets[1].color == 0xcc0000);
    CHECK(back->default_target == std::optional<std::string>("work"));

    q.default_target.reset();
    back = question_from_json(to_json(q));
    REQUIRE(back);
    CHECK(!back->default_target);
}

TEST_CASE("ask question: malformed JSON is rejected", "[ask]") {
    CHECK(!question_from_json(""));
    CHECK(!question_from_json("[]"));
    CHECK(!question_from_json(R"({"source":"a","service":"s","argument":""})"));
    CHECK(!question_from_json(
        R"({"source":"a","service":"s","argument":"","targets":[{"name":"w","label":"blue","color":"blue"}]})"));
    // a default that is not offered
    CHECK(!question_from_json(
        R"({"source":"a","service":"s","argument":"","default_target":"x","targets":[{"name":"w","label":"blue","color":"#000000"}]})"));
    CHECK(question_from_json(
        R"({"source":"a","service":"s","argument":"","default_target":"w","targets":[{"name":"w","label":"blue","color":"#000000"}]})"));
}

TEST_CASE("ask answer: only an offered target, exactly", "[ask]") {
    auto q = sample();
    CHECK(accept_answer(q, "work") == std::optional<std::string>("work"));
    CHECK(accept_answer(q, "work\n") == std::optional<std::string>("work"));
    CHECK(accept_answer(q, "@dispvm:dvm\n") == std::optional<std::string>("@dispvm:dvm"));
    CHECK(!accept_answer(q, ""));
    CHECK(!accept_answer(q, "\n"));
    CHECK(!accept_answer(q, "work\n\n"));
    CHECK(!accept_answer(q, "work\nwork\n"));
    CHECK(!accept_answer(q, " work"));
    CHECK(!accept_answer(q, "wor"));
    CHECK(!accept_answer(q, "untrusted")); // the source itself, not offered
    CHECK(!accept_answer(q, "dom0"));
}
