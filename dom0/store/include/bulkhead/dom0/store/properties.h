// The property schema: which properties each domain class has, their types, and the
// checks that need no database (name rules, int/bool parsing). Callers: the store and
// the qvm-* tools (for completion and listing). Input strings are untrusted user text.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/dom0/store/domain_record.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::dom0 {

enum class PropType { String, Int, Bool, Domain, Label, VirtMode };

struct PropDef {
    std::string_view name;
    PropType type;
    unsigned classes; // bit mask of (1 << Klass)
    bool read_only = false;
};

// Every domain property (read-only ones first: name, klass, qid, uuid).
std::span<PropDef const> property_defs();
// The definition of `name` for class k, or Errc::NotFound ("no such property").
Result<PropDef const*> find_property(Klass k, std::string_view name);
std::vector<std::string> property_names(Klass k);

// Global properties (qubes-prefs).
std::span<PropDef const> global_defs();
Result<PropDef const*> find_global(std::string_view name);

// Qubes' rules: 1-31 chars, starts with a letter, [a-zA-Z0-9_.-], not "none" or
// "default", not ending in "-dm"; new domains may not be called dom0.
Result<void> validate_domain_name(std::string_view name, bool is_new);
// Parses and canonicalises a value of type t (bool → "True"/"False", int → digits).
Result<std::string> canonical_value(PropType t, std::string_view prop, std::string_view value);
bool bool_value(std::string_view canonical);

} // namespace bulkhead::dom0
