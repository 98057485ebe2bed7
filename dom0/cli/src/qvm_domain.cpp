// qvm-create, qvm-clone, qvm-remove: creating, copying and removing domains.
#include "common.h"
#include "tools.h"

#include <bulkhead/base/text.h>

#include <cstdio>
#include <set>

namespace bulkhead::dom0::cli {

int qvm_create(int argc, char** argv) {
    Args args(argv[0], "[options] --label LABEL VMNAME", "Create a new domain.");
    args.option("class", 'C', "CLASS", "the new domain's class (default: AppVM)")
        .option("template", 't', "TEMPLATE", "the TemplateVM to use (alias of -P template=...)")
        .option("label", 'l', "LABEL", "the label (red orange yellow green gray blue purple black)")
        .option("property", 'P', "NAME=VALUE", "set a property of the new domain (repeatable)")
        .alias("prop")
        .flag("help-classes", 0, "list the domain classes and exit");
    if (auto r = args.parse(argc, argv))
        return *r;
    if (args.has("help-classes")) {
        std::printf("AppVM\nDispVM\nStandaloneVM\nTemplateVM\n");
        return 0;
    }
    auto const& pos = args.positionals();
    if (pos.empty())
        return args.usage_error("the following arguments are required: VMNAME");
    if (pos.size() > 1)
        return args.usage_error("unrecognized arguments: " + pos[1]);
    admin::Request req;
    auto* c = req.mutable_create();
    c->set_name(pos[0]);
    c->set_klass(args.value("class", "AppVM"));
    c->set_template_(args.value("template"));
    c->set_label(args.value("label"));
    for (auto const& p : args.values("property")) {
        auto eq = p.find('=');
        if (eq == std::string::npos || eq == 0)
            return args.usage_error("argument --property/-P: expected NAME=VALUE, got '" +
                                    text::escape(p) + "'");
        auto name = p.substr(0, eq), value = p.substr(eq + 1);
        if (name == "label" && c->label().empty())
            c->set_label(value);
        else if (name == "template" && c->template_().empty())
            c->set_template_(value);
        else
            (*c->mutable_properties())[name] = value;
    }
    if (c->label().empty())
        return args.usage_error("the following arguments are required: --label/-l");
    int status = 0;
    auto session = Session::open(args, &status);
    if (!session)
        return status;
    return session->call(req) ? 0 : 1;
}

int qvm_clone(int argc, char** argv) {
    Args args(argv[0], "[options] VMNAME NEWNAME", "Clone a domain: a copy with a new name.");
    if (auto r = args.parse(argc, argv))
        return *r;
    auto const& pos = args.positionals();
    if (pos.size() < 2)
        return args.usage_error(pos.empty() ? "the following arguments are required: VMNAME, "
                                              "NEWNAME"
                                            : "the following arguments are required: NEWNAME");
    if (pos.size() > 2)
        return args.usage_error("unrecognized arguments: " + pos[2]);
    int status = 0;
    auto session = Session::open(args, &status);
    if (!session)
        return status;
    admin::Request req;
    req.mutable_clone()->set_source(pos[0]);
    req.mutable_clone()->set_name(pos[1]);
    return session->call(req) ? 0 : 1;
}

int qvm_remove(int argc, char** argv) {
    Args args(argv[0], "[options] [VMNAME ...]", "Remove domains.");
    args.flag("force", 'f', "do not prompt for confirmation; assume 'yes'")
        .flag("all", 0, "remove all qubes (except dom0)")
        .option("exclude", 0, "EXCLUDE", "exclude the qube from --all");
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
    if (doms->empty())
        return 0;
    if (!args.has("force")) {
        std::printf("This will completely remove the selected VM(s)...\n");
        for (auto const& d : *doms)
            std::printf("  %s\n", safe(d.name()).c_str());
        if (!confirm("Are you sure?")) {
            std::fprintf(stderr, "Remove cancelled.\n");
            return 1;
        }
    }
    // Dependents first: retry what failed while each pass removes something.
    std::vector<std::string> left;
    for (auto const& d : *doms)
        left.push_back(d.name());
    for (;;) {
        std::vector<std::string> failed, errors;
        for (auto const& n : left) {
            admin::Request req;
            req.mutable_remove()->set_name(n);
            auto r = session->try_call(req);
            if (r) {
                if (args.verbose())
                    std::printf("%s: removed\n", safe(n).c_str());
                continue;
            }
            failed.push_back(n);
            errors.push_back(r.error().message());
        }
        if (failed.empty())
            return 0;
        if (failed.size() == left.size()) {
            for (auto const& e : errors)
                args.fail(safe(e));
            return 1;
        }
        left = std::move(failed);
    }
}

} // namespace bulkhead::dom0::cli
