// The store's internals, shared by store.cpp and store_validate.cpp. Callers hold the
// store mutex. Private to dom0/store.
#pragma once

#include "sqlite.h"

#include <bulkhead/dom0/store/store.h>

#include <functional>

namespace bulkhead::dom0 {

struct StoreImpl {
    sql::Db db;
    uint64_t generation = 0;

    Result<std::optional<DomainRecord>> find(std::string const& name);
    Result<DomainRecord> need(std::string const& name);
    Result<std::vector<DomainRecord>> all();
    Result<std::string> global(std::string const& prop);
    // The effective value of a property (explicit or default).
    Result<PropertyValue> effective(DomainRecord const& rec, PropDef const& def);
    // Runs fn inside BEGIN IMMEDIATE ... COMMIT, bumping the generation; rolls back on error.
    Result<void> transaction(std::function<Result<void>()> const& fn);

    // store_validate.cpp: checks needing the database; value is canonical.
    Result<void> validate_property(DomainRecord const& rec, PropDef const& def,
                                   std::string const& value);
    Result<void> validate_global(PropDef const& def, std::string const& value);
    Result<void> validate_reset(DomainRecord const& rec, PropDef const& def);
    Result<void> check_references(std::string const& name);
};

} // namespace bulkhead::dom0
