// AskModel (gui-daemon/qt/include/bulkhead/gui/ask_model.h): no widget, no display.
#include <bulkhead/gui/ask_model.h>

#include <catch2/catch.hpp>

using bulkhead::dom0::AskQuestion;
using bulkhead::gui::AskModel;

namespace {
AskQuestion question(std::optional<std::string> def) {
    AskQuestion q;
    q.source = "untrusted";
    q.service = "qubes.Filecopy";
    q.argument = "x";
    q.targets = {
        {"@dispvm:dvm", "red", 0xcc0000}, {"vault", "black", 0}, {"work", "blue", 0x3465a4}};
    q.default_target = std::move(def);
    return q;
}
} // namespace

TEST_CASE("ask model: entries are the offered targets, default preselected", "[gui]") {
    AskModel m(question("work"));
    REQUIRE(m.entries().size() == 3);
    CHECK(m.entries()[0].name == "@dispvm:dvm");
    CHECK(m.entries()[2].color == 0x3465a4);
    CHECK(m.default_index() == 2);
    CHECK(m.service() == "qubes.Filecopy+x");
    CHECK(m.prompt() == "untrusted wants to call qubes.Filecopy+x. Where should it run?");
    CHECK(m.answer(2) == std::optional<std::string>("work"));
    CHECK(m.answer(0) == std::optional<std::string>("@dispvm:dvm"));
    CHECK(m.can_allow(1));
}

TEST_CASE("ask model: no default, or a default not offered, preselects nothing", "[gui]") {
    AskModel none(question(std::nullopt));
    CHECK(none.default_index() == -1);
    CHECK(!none.can_allow(-1));
    CHECK(!none.answer(-1));
    AskModel stray(question("untrusted"));
    CHECK(stray.default_index() == -1);
    CHECK(!stray.answer(3));
    CHECK(!stray.answer(-2));
    auto q = question(std::nullopt);
    q.argument.clear();
    CHECK(AskModel(q).service() == "qubes.Filecopy");
}
