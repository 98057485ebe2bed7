// Crash consistency: a forked child writes in a loop (create, set, tag, feature, remove)
// and is killed with SIGKILL at a random moment; the parent reopens the store each time
// and checks integrity and the store's invariants (every domain has its label; a
// domain's template exists). Repeated many times.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/store/store.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <random>
#include <sqlite3.h>
#include <thread>
#include <unistd.h>

using namespace bulkhead;
using namespace bulkhead::dom0;

namespace {
[[noreturn]] void writer(std::string const& root, unsigned seed) {
    auto s = Store::open(root);
    if (!s)
        _exit(3);
    auto& st = **s;
    for (unsigned i = 0;; ++i) {
        std::string name = "vm" + std::to_string(seed) + "-" + std::to_string(i % 7);
        if (st.get(name)) {
            (void)st.set_property(name, "memory", std::to_string(100 + i));
            (void)st.add_tag(name, "t" + std::to_string(i % 3));
            (void)st.set_feature(name, "f", std::to_string(i));
            if (i % 3 == 0)
                (void)st.remove(name);
        } else {
            (void)st.create({name, Klass::AppVM, "green", {{"template", "tpl"}, {"vcpus", "3"}}});
        }
    }
}
} // namespace

TEST_CASE("killing a writer at any moment leaves the store consistent") {
    auto root = sys::make_temp_dir("/tmp/bh-crash").value();
    {
        auto s = Store::open(root);
        REQUIRE(s);
        REQUIRE((*s)->create({"tpl", Klass::TemplateVM, "black", {}}));
    }
    std::mt19937 rng(42);
    for (unsigned round = 0; round < 25; ++round) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0)
            writer(root, round % 4);
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 80));
        REQUIRE(sys::kill(pid, SIGKILL));
        auto st = sys::waitpid(pid);
        REQUIRE(st);
        CHECK(st->signaled);

        auto s = Store::open(root);
        REQUIRE(s);
        auto all = (*s)->list();
        REQUIRE(all);
        for (auto const& d : *all) {
            INFO(d.name);
            if (d.klass != Klass::AdminVM)
                CHECK(d.properties.count("label") == 1);
            if (d.klass == Klass::AppVM) {
                CHECK(d.properties.at("template") == "tpl");
                CHECK(d.properties.at("vcpus") == "3");
            }
        }
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open((root + "/store/domains.db").c_str(), &db) == SQLITE_OK);
        sqlite3_stmt* q = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(q) == SQLITE_ROW);
        CHECK(std::string(reinterpret_cast<char const*>(sqlite3_column_text(q, 0))) == "ok");
        sqlite3_finalize(q);
        sqlite3_close(db);
    }
    (void)sys::remove_tree(root);
}
