// The rows of dom0's domain list (bulkhead-domains): which domains it shows and how, from
// the admin API's ListDomains answer. Plain C++, testable without a display.
#pragma once

#include <rpc/wire/admin/admin.pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bulkhead::gui {

struct DomainRow {
    std::string name;
    std::string klass;
    std::string state; // Running Paused Transient Halting Dying
    std::string label;
    uint32_t rgb = 0; // the label's colour, 0xRRGGBB
    bool operator==(DomainRow const&) const = default;
};

// Every domain that is not Halted, dom0 first, then by name; colours from the store's label
// table. The store refuses unknown labels; should one appear anyway it shows red, the least
// trusted colour, never a guessed trusted one.
std::vector<DomainRow> domain_rows(admin::Ok const& list);

// Domains that appeared in / left `now` compared with `before` (by name), for notifications.
struct RowChanges {
    std::vector<std::string> started;
    std::vector<std::string> stopped;
};
RowChanges row_changes(std::vector<DomainRow> const& before, std::vector<DomainRow> const& now);

} // namespace bulkhead::gui
