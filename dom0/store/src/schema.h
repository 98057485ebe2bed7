// Schema creation and migrations, keyed on PRAGMA user_version. Private to dom0/store.
#pragma once

#include "sqlite.h"

namespace bulkhead::dom0::schema {

inline constexpr int kCurrentVersion = 3;

// Brings the database to kCurrentVersion, one transaction per step.
// A database newer than this code is refused (Errc::Unsupported).
Result<void> migrate(sql::Db& db);
Result<int> version(sql::Db& db);

} // namespace bulkhead::dom0::schema
