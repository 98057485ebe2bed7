// qvm-ls: list domains as a table (NAME STATE CLASS LABEL TEMPLATE NETVM by default),
// --raw-data (no header, '|' between columns), --raw-list (names only), --fields.
#include "common.h"
#include "tools.h"

#include <bulkhead/base/text.h>
#include <bulkhead/dom0/store/properties.h>

#include <algorithm>
#include <cstdio>
#include <set>

namespace bulkhead::dom0::cli {

namespace {
std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}
std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

// Columns every domain has besides its properties.
std::set<std::string> const kColumns = {"name",  "state", "class", "label", "template",
                                        "netvm", "qid",   "uuid",  "tags"};

bool known_column(std::string const& f) {
    if (kColumns.count(f))
        return true;
    for (auto const& d : property_defs())
        if (d.name == f)
            return true;
    return false;
}

std::string cell(admin::DomainInfo const& d, std::string const& f) {
    std::string v;
    if (f == "name")
        v = d.name();
    else if (f == "state")
        v = d.state();
    else if (f == "class" || f == "klass")
        v = d.klass();
    else if (f == "label")
        v = d.label();
    else if (f == "template")
        v = d.template_();
    else if (f == "netvm")
        v = d.netvm();
    else if (f == "qid")
        v = std::to_string(d.qid());
    else if (f == "uuid")
        v = d.uuid();
    else if (f == "tags")
        v = text::join(std::vector<std::string>(d.tags().begin(), d.tags().end()), ",");
    else
        for (auto const& p : d.properties())
            if (p.name() == f)
                v = p.value();
    return v.empty() ? "-" : safe(v);
}
} // namespace

int qvm_ls(int argc, char** argv) {
    Args args(argv[0], "[options] [VMNAME ...]", "List qubes and various information about them.");
    args.flag("all", 0, "list all qubes (the default)")
        .option("exclude", 0, "EXCLUDE", "exclude the qube from --all")
        .option("fields", 'O', "FIELD,...", "comma-separated list of columns to show")
        .option("format", 'o', "FORMAT", "preset list of columns: simple (the default), full")
        .flag("raw-data", 0, "no header, columns separated by '|'")
        .flag("raw-list", 0, "only the names, one per line")
        .option("class", 0, "CLASS", "show only qubes of this class (repeatable)")
        .option("label", 0, "LABEL", "show only qubes with this label (repeatable)")
        .option("tags", 0, "TAG", "show only qubes having this tag (repeatable)")
        .flag("running", 0, "show running qubes")
        .flag("paused", 0, "show paused qubes")
        .flag("halted", 0, "show halted qubes")
        .option("sort", 0, "COLUMN", "sort by this column (one of the shown ones) instead of NAME")
        .flag("reverse", 0, "reverse the sort")
        .flag("help-columns", 0, "list the available columns and exit")
        .epilog("Columns: NAME STATE CLASS LABEL TEMPLATE NETVM QID UUID TAGS, or any property.");
    if (auto r = args.parse(argc, argv))
        return *r;
    if (args.has("help-columns")) {
        for (auto const& c : kColumns)
            std::printf("%s\n", upper(c).c_str());
        for (auto const& d : property_defs())
            if (!kColumns.count(std::string(d.name)) && d.name != "klass")
                std::printf("%s\n", std::string(d.name).c_str());
        return 0;
    }
    if (args.has("exclude") && !args.has("all"))
        return args.usage_error("--exclude requires --all");
    if (args.has("all") && !args.positionals().empty())
        return args.usage_error("--all and VMNAME are mutually exclusive");

    std::vector<std::string> fields;
    auto format = args.value("format", "simple");
    if (args.has("fields")) {
        if (args.has("format"))
            return args.usage_error("--fields and --format are mutually exclusive");
        for (auto const& f : text::split(args.value("fields"), ','))
            if (!text::trim(f).empty())
                fields.push_back(lower(std::string(text::trim(f))));
    } else if (format == "simple") {
        fields = {"name", "state", "class", "label", "template", "netvm"};
    } else if (format == "full") {
        fields = {"name",     "state", "class",  "label", "qid",
                  "template", "netvm", "memory", "vcpus", "tags"};
    } else {
        return args.usage_error("unknown format: '" + text::escape(format) + "' (simple, full)");
    }
    if (fields.empty())
        return args.usage_error("--fields needs at least one column");
    auto sort_by = lower(args.value("sort", "name"));
    if (args.has("sort") && std::find(fields.begin(), fields.end(), sort_by) == fields.end())
        return args.usage_error("--sort: column '" + text::escape(sort_by) +
                                "' is not in the output columns");
    bool need_props = false;
    for (auto const& f : fields) {
        if (!known_column(f))
            return args.usage_error("unknown column: '" + text::escape(f) +
                                    "' (see --help-columns)");
        need_props |= !kColumns.count(f);
    }

    int status = 0;
    auto session = Session::open(args, &status);
    if (!session)
        return status;
    auto excluded = args.values("exclude");
    auto in = [](std::vector<std::string> const& v, std::string const& x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    };
    // Without VMNAME every qube is listed, dom0 included (as qvm-ls does).
    auto doms = args.positionals().empty()
                    ? session->domains(need_props)
                    : select_domains(*session, args.positionals(), false, need_props);
    if (!doms)
        return 1;
    std::set<std::string> states;
    if (args.has("running"))
        states.insert("Running");
    if (args.has("paused"))
        states.insert("Paused");
    if (args.has("halted"))
        states.insert("Halted");
    auto classes = args.values("class");
    auto labels = args.values("label");
    auto tags = args.values("tags");
    std::vector<admin::DomainInfo> shown;
    for (auto const& d : *doms) {
        if (in(excluded, d.name()))
            continue;
        if (!states.empty() && !states.count(d.state()))
            continue;
        if (!classes.empty() && !in(classes, d.klass()))
            continue;
        if (!labels.empty() && !in(labels, d.label()))
            continue;
        if (!tags.empty() && std::none_of(d.tags().begin(), d.tags().end(),
                                          [&](auto const& t) { return in(tags, t); }))
            continue;
        shown.push_back(d);
    }
    std::stable_sort(shown.begin(), shown.end(), [&](auto const& a, auto const& b) {
        auto ka = cell(a, sort_by), kb = cell(b, sort_by);
        return args.has("reverse") ? kb < ka : ka < kb;
    });
    if (args.has("raw-list")) {
        for (auto const& d : shown)
            std::printf("%s\n", safe(d.name()).c_str());
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    if (!args.has("raw-data")) {
        rows.emplace_back();
        for (auto const& f : fields)
            rows.back().push_back(upper(f));
    }
    for (auto const& d : shown) {
        rows.emplace_back();
        for (auto const& f : fields)
            rows.back().push_back(cell(d, f));
    }
    if (args.has("raw-data")) {
        for (auto const& r : rows)
            std::printf("%s\n", text::join(r, "|").c_str());
        return 0;
    }
    print_table(rows);
    return 0;
}

} // namespace bulkhead::dom0::cli
