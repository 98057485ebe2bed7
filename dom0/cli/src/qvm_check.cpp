// qvm-check: whether domains exist and, optionally, are running / paused / templates /
// networked. Exit status as Qubes: 0 all match, 1 one does not exist or none match,
// 3 only some match.
#include "common.h"
#include "tools.h"

#include <cstdio>

namespace bulkhead::dom0::cli {

int qvm_check(int argc, char** argv) {
    Args args(argv[0], "[options] [--all | VMNAME ...]",
              "Check whether qubes exist and, optionally, are in a given state.");
    args.flag("all", 0, "check all qubes (except dom0)")
        .option("exclude", 0, "EXCLUDE", "exclude the qube from --all")
        .flag("running", 0, "determine whether the qubes are running")
        .flag("paused", 0, "determine whether the qubes are paused")
        .flag("template", 0, "determine whether the qubes are templates")
        .flag("networked", 0, "determine whether the qubes have a network qube")
        .epilog("Exit status: 0 all given qubes exist and match, 1 some qube does not exist or "
                "none matches, 3 only some match.");
    if (auto r = args.parse(argc, argv))
        return *r;
    if (auto r = check_domain_selection(args))
        return *r;
    bool all = args.has("all");
    int status = 0;
    auto session = Session::open(args, &status);
    if (!session)
        return status;
    auto doms = select_domains(*session, args.positionals(), all);
    if (!doms)
        return 1;
    std::vector<std::pair<char const*, bool (*)(admin::DomainInfo const&)>> tests;
    if (args.has("running"))
        tests.push_back({"running", [](auto const& d) { return d.state() == "Running"; }});
    if (args.has("paused"))
        tests.push_back({"paused", [](auto const& d) { return d.state() == "Paused"; }});
    if (args.has("template"))
        tests.push_back({"a template", [](auto const& d) { return d.klass() == "TemplateVM"; }});
    if (args.has("networked"))
        tests.push_back({"networked", [](auto const& d) { return !d.netvm().empty(); }});
    std::string what;
    for (size_t i = 0; i < tests.size(); ++i)
        what += std::string(i ? " and " : "") + tests[i].first;
    size_t matched = 0;
    for (auto const& d : *doms) {
        bool ok = true;
        for (auto const& t : tests)
            ok = ok && t.second(d);
        matched += ok;
        if (!args.quiet()) {
            if (tests.empty())
                std::printf("%s: exists\n", safe(d.name()).c_str());
            else
                std::printf("%s: %s%s\n", safe(d.name()).c_str(), ok ? "" : "not ", what.c_str());
        }
    }
    if (matched == doms->size())
        return doms->empty() && !all ? 1 : 0;
    return matched == 0 ? 1 : 3;
}

} // namespace bulkhead::dom0::cli
