#include "sqlite.h"

#include <sqlite3.h>

namespace bulkhead::dom0::sql {

Stmt::~Stmt() {
    if (m_s)
        sqlite3_finalize(m_s);
}

Result<bool> Stmt::step() {
    int rc = sqlite3_step(m_s);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    return m_db->error("sqlite3_step");
}

int64_t Stmt::col_int(int i) {
    return sqlite3_column_int64(m_s, i);
}

std::string Stmt::col_text(int i) {
    auto const* p = sqlite3_column_text(m_s, i);
    int n = sqlite3_column_bytes(m_s, i);
    return p ? std::string(reinterpret_cast<char const*>(p), static_cast<size_t>(n))
             : std::string();
}

Result<Db> Db::open(std::string const& path) {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        return unexpected(Errc::System, "sqlite3_open " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db, 5000);
    return Db(db);
}

Db::~Db() {
    if (m_db)
        sqlite3_close(m_db);
}

Error Db::error(std::string_view what) {
    int rc = sqlite3_errcode(m_db);
    Errc code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? Errc::Busy : Errc::System;
    return Error(code, std::string(what) + ": " + sqlite3_errmsg(m_db));
}

Result<void> Db::exec(std::string const& sql) {
    char* err = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "error";
        sqlite3_free(err);
        return unexpected(Errc::System, "sqlite3_exec: " + msg);
    }
    return {};
}

Result<Stmt> Db::query(std::string const& sql, std::vector<Value> const& args) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
        return error("sqlite3_prepare");
    Stmt st(*this, s);
    for (size_t i = 0; i < args.size(); ++i) {
        int idx = static_cast<int>(i + 1);
        int rc = SQLITE_OK;
        if (auto const* n = std::get_if<int64_t>(&args[i]))
            rc = sqlite3_bind_int64(s, idx, *n);
        else if (auto const* t = std::get_if<std::string>(&args[i]))
            rc =
                sqlite3_bind_text(s, idx, t->data(), static_cast<int>(t->size()), SQLITE_TRANSIENT);
        else
            rc = sqlite3_bind_null(s, idx);
        if (rc != SQLITE_OK)
            return error("sqlite3_bind");
    }
    return st;
}

Result<void> Db::run(std::string const& sql, std::vector<Value> const& args) {
    auto st = TRY(query(sql, args));
    while (TRY(st.step())) {
    }
    return {};
}

Result<std::optional<std::string>> Db::scalar_text(std::string const& sql,
                                                   std::vector<Value> const& args) {
    auto st = TRY(query(sql, args));
    if (!TRY(st.step()))
        return std::optional<std::string>();
    return std::optional<std::string>(st.col_text(0));
}

int64_t Db::last_rowid() {
    return sqlite3_last_insert_rowid(m_db);
}

} // namespace bulkhead::dom0::sql
