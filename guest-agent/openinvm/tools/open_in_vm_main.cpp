#include "open_in_vm_main.h"

#include <bulkhead/base/sys/proc.h>
#include <bulkhead/openinvm/caller.h>
#include <bulkhead/openinvm/validate.h>

#include <cstdio>
#include <string_view>

namespace bulkhead::openinvm {

int open_in_vm_main(char const* prog, std::string const& target, int argc, char** argv, int first) {
    sys::ignore_sigpipe();
    ViewOnly view = ViewOnly::No;
    std::string arg;
    int args = 0;
    for (int i = first; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--view-only" && args == 0 && arg.empty()) {
            view = ViewOnly::Yes;
        } else {
            arg = a;
            ++args;
        }
    }
    if (args != 1) {
        std::fprintf(stderr, "usage: %s%s [--view-only] FILE|URL\n", prog,
                     target == "@dispvm" ? "" : " TARGET");
        return 2;
    }
    bool url = looks_like_url(arg);
    auto transport = spawn_qrexec_client(target, url ? "qubes.OpenURL" : "qubes.OpenInVM");
    if (!transport) {
        std::fprintf(stderr, "%s: %s\n", prog, transport.error().message().c_str());
        return 1;
    }
    if (url) {
        auto done = open_url_in_vm(arg, std::move(*transport));
        if (!done) {
            std::fprintf(stderr, "%s: %s\n", prog, done.error().message().c_str());
            return 1;
        }
        return 0;
    }
    auto outcome = open_file_in_vm(arg, std::move(*transport), view);
    if (!outcome) {
        std::fprintf(stderr, "%s: %s\n", prog, outcome.error().message().c_str());
        return 1;
    }
    if (*outcome == Outcome::Replaced)
        std::fprintf(stderr, "%s: %s was edited; the original was replaced\n", prog, arg.c_str());
    return 0;
}

} // namespace bulkhead::openinvm
