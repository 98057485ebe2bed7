// Store schema: WAL mode, user_version, migration of a v1 database, refusal of newer ones.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/dom0/store/store.h>

#include <catch2/catch.hpp>
#include <sqlite3.h>

using namespace bulkhead;
using namespace bulkhead::dom0;

namespace {
std::string scalar(sqlite3* db, char const* sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW)
        out = reinterpret_cast<char const*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}
void exec(sqlite3* db, char const* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    INFO((err ? err : ""));
    REQUIRE(rc == SQLITE_OK);
}
} // namespace

TEST_CASE("a new store is WAL at the current version") {
    auto root = sys::make_temp_dir("/tmp/bh-schema").value();
    { REQUIRE(Store::open(root)); }
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((root + "/store/domains.db").c_str(), &db) == SQLITE_OK);
    CHECK(scalar(db, "PRAGMA journal_mode") == "wal");
    CHECK(scalar(db, "PRAGMA user_version") == std::to_string(Store::kSchemaVersion));
    CHECK(scalar(db, "PRAGMA integrity_check") == "ok");
    sqlite3_close(db);
    (void)sys::remove_tree(root);
}

TEST_CASE("a v1 store migrates to the current version keeping its data") {
    auto root = sys::make_temp_dir("/tmp/bh-schema").value();
    REQUIRE(sys::mkdir_p(root + "/store"));
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((root + "/store/domains.db").c_str(), &db) == SQLITE_OK);
    exec(db, R"(
CREATE TABLE domains (qid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                      klass TEXT NOT NULL, uuid TEXT NOT NULL UNIQUE);
CREATE TABLE properties (qid INTEGER NOT NULL REFERENCES domains(qid) ON DELETE CASCADE,
                         name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (qid, name));
CREATE TABLE tags (qid INTEGER NOT NULL REFERENCES domains(qid) ON DELETE CASCADE,
                   tag TEXT NOT NULL, PRIMARY KEY (qid, tag));
CREATE TABLE features (qid INTEGER NOT NULL REFERENCES domains(qid) ON DELETE CASCADE,
                       key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (qid, key));
CREATE TABLE globals (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO domains VALUES (0, 'dom0', 'AdminVM', '00000000-0000-4000-8000-000000000000');
INSERT INTO domains VALUES (1, 'fedora', 'TemplateVM', '00000000-0000-4000-8000-000000000001');
INSERT INTO properties VALUES (1, 'label', 'blue');
INSERT INTO properties VALUES (1, 'memory', '1234');
INSERT INTO globals VALUES ('default_template', 'fedora');
PRAGMA user_version = 1;
)");
    sqlite3_close(db);

    auto s = Store::open(root);
    REQUIRE(s);
    auto& store = **s;
    CHECK(store.get_property("fedora", "memory")->value == "1234");
    CHECK(store.get_property("fedora", "label")->value == "blue");
    CHECK(store.get_global("default_template").value() == "fedora");
    REQUIRE(store.set_layers("fedora", {"base"}));
    CHECK(store.layers("fedora").value() == std::vector<std::string>{"base"});
    REQUIRE(store.create({"work", Klass::AppVM, "red", {}}));
    CHECK(store.get_property("work", "template")->value == "fedora");
    s->reset();

    REQUIRE(sqlite3_open((root + "/store/domains.db").c_str(), &db) == SQLITE_OK);
    CHECK(scalar(db, "PRAGMA user_version") == std::to_string(Store::kSchemaVersion));
    exec(db, "PRAGMA user_version = 99");
    sqlite3_close(db);
    auto newer = Store::open(root);
    REQUIRE_FALSE(newer);
    CHECK(newer.error().code() == Errc::Unsupported);
    (void)sys::remove_tree(root);
}
