// bulkhead-qvm: the qvm-* tools in one binary, chosen by the name it is called as
// (build/bin/qvm-ls → bulkhead-qvm), or `bulkhead-qvm TOOL ARGS...`.
#include "common.h"
#include "tools.h"

#include <bulkhead/base/sys/proc.h>

#include <cstdio>
#include <cstring>
#include <string_view>

namespace bulkhead::dom0::cli {

std::vector<Tool> const& tools() {
    static std::vector<Tool> const t = {
        {"qvm-check", qvm_check},       {"qvm-clone", qvm_clone},       {"qvm-create", qvm_create},
        {"qvm-features", qvm_features}, {"qvm-kill", qvm_kill},         {"qvm-ls", qvm_ls},
        {"qvm-pause", qvm_pause},       {"qvm-prefs", qvm_prefs},       {"qvm-remove", qvm_remove},
        {"qvm-shutdown", qvm_shutdown}, {"qvm-start", qvm_start},       {"qvm-tags", qvm_tags},
        {"qvm-unpause", qvm_unpause},   {"qvm-firewall", qvm_firewall},
    };
    return t;
}

} // namespace bulkhead::dom0::cli

int main(int argc, char** argv) {
    using namespace bulkhead::dom0::cli;
    bulkhead::sys::ignore_sigpipe();
    std::string_view self = argc > 0 ? argv[0] : "bulkhead-qvm";
    if (auto slash = self.rfind('/'); slash != std::string_view::npos)
        self = self.substr(slash + 1);
    for (auto const& t : tools())
        if (self == t.name) {
            argv[0] = const_cast<char*>(t.name);
            return t.main(argc, argv);
        }
    if (argc > 1)
        for (auto const& t : tools())
            if (std::string_view(argv[1]) == t.name) {
                argv[1] = const_cast<char*>(t.name);
                return t.main(argc - 1, argv + 1);
            }
    bool help = argc > 1 && (!std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help"));
    std::fprintf(help ? stdout : stderr, "usage: bulkhead-qvm TOOL [ARGS...]\ntools:");
    for (auto const& t : tools())
        std::fprintf(help ? stdout : stderr, " %s", t.name);
    std::fprintf(help ? stdout : stderr, "\n");
    return help ? 0 : 2;
}
