// qvm-tags and qvm-features: a domain's tags and its key/value features.
#include "common.h"
#include "tools.h"

#include <algorithm>
#include <cstdio>

namespace bulkhead::dom0::cli {

int qvm_tags(int argc, char** argv) {
    Args args(argv[0], "[options] VMNAME [list [TAG] | add TAG ... | del TAG ...]",
              "Manage a domain's tags.");
    args.epilog("Commands: list (ls, l), add (a, set), del (d, unset, u). list TAG exits 0 "
                "when the tag is set, 1 when it is not.");
    if (auto r = args.parse(argc, argv))
        return *r;
    auto pos = args.positionals();
    if (pos.empty())
        return args.usage_error("the following arguments are required: VMNAME");
    std::string cmd = pos.size() > 1 ? pos[1] : "list";
    std::vector<std::string> tags(pos.size() > 2 ? pos.begin() + 2 : pos.end(), pos.end());
    if (cmd == "ls" || cmd == "l")
        cmd = "list";
    else if (cmd == "a" || cmd == "set")
        cmd = "add";
    else if (cmd == "d" || cmd == "unset" || cmd == "u")
        cmd = "del";
    if (cmd != "list" && cmd != "add" && cmd != "del")
        return args.usage_error("argument command: invalid choice: '" + safe(cmd) +
                                "' (choose from 'list', 'add', 'del')");
    if (cmd == "list" && tags.size() > 1)
        return args.usage_error("unrecognized arguments: " + tags[1]);
    if (cmd != "list" && tags.empty())
        return args.usage_error("the following arguments are required: TAG");
    int status = 0;
    auto session = Session::open(args, &status);
    if (!session)
        return status;
    admin::Request req;
    req.mutable_tags_list()->set_domain(pos[0]);
    auto ok = session->call(req);
    if (!ok)
        return 1;
    std::vector<std::string> have(ok->tags().begin(), ok->tags().end());
    std::sort(have.begin(), have.end());
    auto has = [&](std::string const& t) {
        return std::binary_search(have.begin(), have.end(), t);
    };
    if (cmd == "list") {
        if (!tags.empty()) {
            if (!has(tags[0]))
                return 1;
            if (!args.quiet())
                std::printf("%s\n", safe(tags[0]).c_str());
            return 0;
        }
        for (auto const& t : have)
            std::printf("%s\n", safe(t).c_str());
        return 0;
    }
    for (auto const& t : tags) {
        if ((cmd == "add") == has(t))
            continue; // already as asked: nothing to do, as qvm-tags
        admin::Request r;
        if (cmd == "add") {
            r.mutable_tag_add()->set_domain(pos[0]);
            r.mutable_tag_add()->set_tag(t);
        } else {
            r.mutable_tag_remove()->set_domain(pos[0]);
            r.mutable_tag_remove()->set_tag(t);
        }
        if (!session->call(r))
            return 1;
    }
    return 0;
}

int qvm_features(int argc, char** argv) {
    Args args(argv[0], "[options] VMNAME [FEATURE [VALUE]]", "Manage a domain's features.");
    args.flag("unset", 'D', "unset the feature").alias("default").alias("delete");
    args.epilog("With FEATURE only, prints its value (exit 1 when it is not set).");
    if (auto r = args.parse(argc, argv))
        return *r;
    auto const& pos = args.positionals();
    if (pos.empty())
        return args.usage_error("the following arguments are required: VMNAME");
    if (pos.size() > 3)
        return args.usage_error("unrecognized arguments: " + pos[3]);
    if (args.has("unset") && pos.size() != 2)
        return args.usage_error(pos.size() < 2 ? "--unset requires FEATURE"
                                               : "--unset and VALUE are mutually exclusive");
    int status = 0;
    auto session = Session::open(args, &status);
    if (!session)
        return status;
    admin::Request req;
    req.mutable_features_list()->set_domain(pos[0]);
    auto ok = session->call(req);
    if (!ok)
        return 1;
    auto const& features = ok->features();
    if (pos.size() == 1) {
        std::vector<std::pair<std::string, std::string>> sorted(features.begin(), features.end());
        std::sort(sorted.begin(), sorted.end());
        size_t width = 0;
        for (auto const& [k, v] : sorted)
            width = std::max(width, k.size());
        for (auto const& [k, v] : sorted)
            std::printf("%-*s  %s\n", int(width), safe(k).c_str(), safe(v).c_str());
        return 0;
    }
    auto it = features.find(pos[1]);
    if (pos.size() == 2 && !args.has("unset")) {
        if (it == features.end())
            return 1;
        std::printf("%s\n", safe(it->second).c_str());
        return 0;
    }
    admin::Request r;
    if (args.has("unset")) {
        if (it == features.end())
            return 0; // not set: nothing to do
        r.mutable_feature_remove()->set_domain(pos[0]);
        r.mutable_feature_remove()->set_key(pos[1]);
    } else {
        r.mutable_feature_set()->set_domain(pos[0]);
        r.mutable_feature_set()->set_key(pos[1]);
        r.mutable_feature_set()->set_value(pos[2]);
    }
    return session->call(r) ? 0 : 1;
}

} // namespace bulkhead::dom0::cli
