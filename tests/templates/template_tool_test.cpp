// bulkhead-template as users run it: exit codes (0 ok, 1 refused, 2 usage), messages on
// stderr prefixed with the tool's name, `layers` printing absolute paths lowest first.
#include "temp_store.h"

#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <catch2/catch.hpp>

using namespace bulkhead;
using namespace bulkhead::templates::test;

namespace {

std::string tool() {
    auto build = sys::getenv("BULKHEAD_BUILD_DIR");
    REQUIRE(build.has_value()); // set by CTest
    auto path = *build + "/bin/bulkhead-template";
    REQUIRE(sys::exists(path));
    return path;
}

sys::RunOutput run(std::vector<std::string> args) {
    args.insert(args.begin(), tool());
    return sys::run(args).value();
}

} // namespace

TEST_CASE("bulkhead-template busybox, add-layer, layers", "[templates][tool]") {
    TempDir tmp;
    auto store = tmp.path + "/store";
    auto made = run({store, "busybox", "work"});
    CHECK(made.status.code == 0);
    CHECK(made.err.empty());
    auto src = stage(tmp.path, "apps", {{"etc/apps", "1\n"}});
    CHECK(run({store, "add-layer", "work", "apps", src}).status.code == 0);
    CHECK(run({store, "add-layer", "work", "more", src}).status.code == 0);

    auto listed = run({store, "layers", "work"});
    CHECK(listed.status.code == 0);
    auto root = sys::realpath(store).value() + "/work";
    CHECK(listed.out == root + "/base\n" + root + "/apps\n" + root + "/more\n");
    CHECK(sys::read_file(root + "/apps/etc/apps").value() == "1\n");
}

TEST_CASE("bulkhead-template busybox takes another busybox binary", "[templates][tool]") {
    TempDir tmp;
    auto r = run({tmp.path, "busybox", "t", "/bin/busybox"});
    CHECK(r.status.code == 0);
    auto missing = run({tmp.path, "busybox", "u", tmp.path + "/nope"});
    CHECK(missing.status.code == 1);
    CHECK(missing.err.rfind("bulkhead-template: ", 0) == 0);
    CHECK_FALSE(sys::exists(tmp.path + "/u"));
}

TEST_CASE("bulkhead-template refusals exit 1 with one line on stderr", "[templates][tool]") {
    TempDir tmp;
    REQUIRE(run({tmp.path, "busybox", "t"}).status.code == 0);
    struct Bad {
        std::vector<std::string> args;
        std::string says;
    };
    for (auto const& b : std::vector<Bad>{
             {{tmp.path, "busybox", "t"}, "exists"},
             {{tmp.path, "busybox", "../t"}, "bad template name"},
             {{tmp.path, "add-layer", "t", "layers", tmp.path}, "bad"},
             {{tmp.path, "add-layer", "t", "x", tmp.path + "/missing"}, "missing"},
             {{tmp.path, "add-layer", "nope", "x", tmp.path}, "nope"},
             {{tmp.path, "layers", "nope"}, "nope"},
         }) {
        INFO(text::join(b.args, " "));
        auto r = run(b.args);
        CHECK(r.status.code == 1);
        CHECK(r.out.empty());
        CHECK(r.err.rfind("bulkhead-template: ", 0) == 0);
        CHECK(r.err.find(b.says) != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
}

TEST_CASE("bulkhead-template usage errors exit 2 and print the usage", "[templates][tool]") {
    TempDir tmp;
    for (auto const& args : std::vector<std::vector<std::string>>{
             {},
             {tmp.path},
             {tmp.path, "busybox"},
             {tmp.path, "frobnicate", "t"},
             {tmp.path, "busybox", "t", "/bin/busybox", "extra"},
             {tmp.path, "add-layer", "t", "x"},
             {tmp.path, "layers", "t", "extra"},
         }) {
        INFO(text::join(args, " "));
        auto r = run(args);
        CHECK(r.status.code == 2);
        CHECK(r.err.find("usage: bulkhead-template") != std::string::npos);
    }
    CHECK(sys::list_dir(tmp.path).value().empty());
}
