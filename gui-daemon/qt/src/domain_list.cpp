#include <bulkhead/dom0/store/domain_record.h>
#include <bulkhead/gui/domain_list.h>

#include <algorithm>
#include <set>

namespace bulkhead::gui {

std::vector<DomainRow> domain_rows(admin::Ok const& list) {
    std::vector<DomainRow> rows;
    for (auto const& d : list.domains()) {
        if (d.state() == "Halted" || d.state().empty())
            continue;
        DomainRow r;
        r.name = d.name();
        r.klass = d.klass();
        r.state = d.state();
        r.label = d.label();
        auto l = dom0::find_label(d.label());
        r.rgb = l ? l->color : dom0::find_label("red")->color;
        rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(), [](DomainRow const& a, DomainRow const& b) {
        if ((a.name == "dom0") != (b.name == "dom0"))
            return a.name == "dom0";
        return a.name < b.name;
    });
    return rows;
}

RowChanges row_changes(std::vector<DomainRow> const& before, std::vector<DomainRow> const& now) {
    std::set<std::string> old_names, new_names;
    for (auto const& r : before)
        old_names.insert(r.name);
    for (auto const& r : now)
        new_names.insert(r.name);
    RowChanges c;
    for (auto const& n : new_names)
        if (!old_names.count(n))
            c.started.push_back(n);
    for (auto const& n : old_names)
        if (!new_names.count(n))
            c.stopped.push_back(n);
    return c;
}

} // namespace bulkhead::gui
