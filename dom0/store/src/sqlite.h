// A thin RAII wrapper over the SQLite C API for the store: errors become Result.
// Private to dom0/store. Statements bind values as parameters, never by string pasting.
#pragma once

#include <bulkhead/base/result.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace bulkhead::dom0::sql {

using Value = std::variant<std::monostate, int64_t, std::string>;

class Db;

class Stmt {
public:
    Stmt(Db& db, sqlite3_stmt* s)
        : m_db(&db)
        , m_s(s) {}
    Stmt(Stmt&& o) noexcept
        : m_db(o.m_db)
        , m_s(o.m_s) {
        o.m_s = nullptr;
    }
    Stmt(Stmt const&) = delete;
    ~Stmt();
    // Advances; true when a row is available.
    Result<bool> step();
    int64_t col_int(int i);
    std::string col_text(int i);

private:
    Db* m_db;
    sqlite3_stmt* m_s;
};

class Db {
public:
    static Result<Db> open(std::string const& path);
    Db(Db&& o) noexcept
        : m_db(o.m_db) {
        o.m_db = nullptr;
    }
    Db(Db const&) = delete;
    ~Db();
    Result<void> exec(std::string const& sql);
    Result<Stmt> query(std::string const& sql, std::vector<Value> const& args = {});
    // Runs a statement with no result rows.
    Result<void> run(std::string const& sql, std::vector<Value> const& args = {});
    Result<std::optional<std::string>> scalar_text(std::string const& sql,
                                                   std::vector<Value> const& args = {});
    int64_t last_rowid();
    Error error(std::string_view what);

private:
    explicit Db(sqlite3* db)
        : m_db(db) {}
    sqlite3* m_db;
};

} // namespace bulkhead::dom0::sql
