// qvm-prefs: list a domain's properties ("name  D  value", D = default, - = set), get one,
// set one, or reset it to its default (--default/-D).
#include "common.h"
#include "tools.h"

#include <bulkhead/dom0/store/properties.h>

#include <algorithm>
#include <cstdio>

namespace bulkhead::dom0::cli {

int qvm_prefs(int argc, char** argv) {
    Args args(argv[0], "[options] VMNAME [PROPERTY [VALUE | --default]]",
              "List/set various per-VM properties.");
    args.flag("default", 'D', "reset the property to its default value")
        .flag("hide-default", 0, "do not show properties that are set to the default value")
        .flag("get", 'g', "ignored; for compatibility with older scripts")
        .flag("set", 's', "ignored; for compatibility with older scripts")
        .flag("help-properties", 0, "list the available properties and exit")
        .epilog("A VM-valued property is set to none with an empty string (\"\").");
    if (auto r = args.parse(argc, argv))
        return *r;
    if (args.has("help-properties")) {
        for (auto const& d : property_defs())
            std::printf("%s\n", std::string(d.name).c_str());
        return 0;
    }
    auto const& pos = args.positionals();
    if (pos.empty())
        return args.usage_error("the following arguments are required: VMNAME");
    if (pos.size() > 3)
        return args.usage_error("unrecognized arguments: " + pos[3]);
    if (args.has("default") && pos.size() != 2)
        return args.usage_error(pos.size() < 2 ? "--default requires PROPERTY"
                                               : "--default and VALUE are mutually exclusive");
    int status = 0;
    auto session = Session::open(args, &status);
    if (!session)
        return status;
    // As Qubes' qvm-prefs (argparse errors, exit 2): an unknown domain or property is a
    // usage error; a refused value is a runtime error (exit 1).
    admin::Request req;
    req.mutable_property_list()->set_domain(pos[0]);
    auto listed = session->try_call(req);
    if (!listed && listed.error().code() == Errc::NotFound)
        return args.usage_error("no such domain: '" + safe(pos[0]) + "'");
    if (!listed)
        return args.fail(safe(listed.error().message()));
    if (pos.size() >= 2) {
        bool known = false;
        for (auto const& p : listed->properties())
            known |= p.name() == pos[1];
        if (!known)
            return args.usage_error("no such property: '" + safe(pos[1]) + "'");
    }
    req.Clear();
    if (pos.size() == 1) {
        auto ok = std::move(listed);
        size_t width = 0;
        for (auto const& p : ok->properties())
            width = std::max(width, p.name().size());
        for (auto const& p : ok->properties()) {
            if (args.has("hide-default") && p.is_default())
                continue;
            std::printf("%-*s  %s  %s\n", int(width), p.name().c_str(), p.is_default() ? "D" : "-",
                        safe(p.value()).c_str());
        }
        return 0;
    }
    if (pos.size() == 2 && !args.has("default")) {
        req.mutable_property_get()->set_domain(pos[0]);
        req.mutable_property_get()->set_name(pos[1]);
        auto ok = session->call(req);
        if (!ok)
            return 1;
        std::printf("%s\n", ok->properties_size() ? safe(ok->properties(0).value()).c_str() : "");
        return 0;
    }
    if (args.has("default")) {
        req.mutable_property_reset()->set_domain(pos[0]);
        req.mutable_property_reset()->set_name(pos[1]);
    } else {
        req.mutable_property_set()->set_domain(pos[0]);
        req.mutable_property_set()->set_name(pos[1]);
        req.mutable_property_set()->set_value(pos[2]);
    }
    return session->call(req) ? 0 : 1;
}

} // namespace bulkhead::dom0::cli
