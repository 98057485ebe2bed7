#include "schema.h"

#include <string>

namespace bulkhead::dom0::schema {

namespace {
// v1: domains with properties, tags, features; global properties.
constexpr char const* kV1 = R"(
CREATE TABLE domains (qid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                      klass TEXT NOT NULL, uuid TEXT NOT NULL UNIQUE);
CREATE TABLE properties (qid INTEGER NOT NULL REFERENCES domains(qid) ON DELETE CASCADE,
                         name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (qid, name));
CREATE TABLE tags (qid INTEGER NOT NULL REFERENCES domains(qid) ON DELETE CASCADE,
                   tag TEXT NOT NULL, PRIMARY KEY (qid, tag));
CREATE TABLE features (qid INTEGER NOT NULL REFERENCES domains(qid) ON DELETE CASCADE,
                       key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (qid, key));
CREATE TABLE globals (name TEXT PRIMARY KEY, value TEXT NOT NULL);
)";
// v2: ordered layer list per template, and a persistent change generation.
constexpr char const* kV2 = R"(
CREATE TABLE layers (qid INTEGER NOT NULL REFERENCES domains(qid) ON DELETE CASCADE,
                     position INTEGER NOT NULL, layer TEXT NOT NULL, PRIMARY KEY (qid, position));
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('generation', '0');
)";
// v3: a domain's firewall rules (canonical text, one per line; no row = Qubes' default).
constexpr char const* kV3 = R"(
CREATE TABLE firewall (qid INTEGER PRIMARY KEY REFERENCES domains(qid) ON DELETE CASCADE,
                       rules TEXT NOT NULL);
)";
constexpr char const* kSteps[] = {kV1, kV2, kV3};
} // namespace

Result<int> version(sql::Db& db) {
    auto v = TRY(db.scalar_text("PRAGMA user_version"));
    return v ? std::stoi(*v) : 0;
}

Result<void> migrate(sql::Db& db) {
    int v = TRY(version(db));
    if (v > kCurrentVersion)
        return unexpected(Errc::Unsupported, "store schema version " + std::to_string(v) +
                                                 " is newer than this build (" +
                                                 std::to_string(kCurrentVersion) + ")");
    for (; v < kCurrentVersion; ++v) {
        TRY(db.exec("BEGIN IMMEDIATE"));
        auto r = db.exec(std::string(kSteps[v]) + "PRAGMA user_version = " + std::to_string(v + 1) +
                         ";");
        if (!r) {
            (void)db.exec("ROLLBACK");
            return Unexpected{
                std::move(r).error().prefix("migrating store to v" + std::to_string(v + 1))};
        }
        TRY(db.exec("COMMIT"));
    }
    return {};
}

} // namespace bulkhead::dom0::schema
