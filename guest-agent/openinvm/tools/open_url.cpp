// bulkhead-open-url: the qubes.OpenURL service (/etc/qubes-rpc/qubes.OpenURL). Reads one
// URL line from the caller, validates it, opens it and exits with the opener's code.
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/openinvm/opener.h>
#include <bulkhead/openinvm/service.h>

#include <cstdio>

using namespace bulkhead;
using namespace bulkhead::openinvm;

int main() {
    sys::ignore_sigpipe();
    ServiceOptions opts;
    auto opener = resolve_opener(opener_config_from_env());
    if (!opener) {
        std::fprintf(stderr, "bulkhead-open-url: %s\n", opener.error().message().c_str());
        return 1;
    }
    opts.opener = std::move(*opener);
    auto code = serve_open_url(0, opts);
    if (!code) {
        std::fprintf(stderr, "bulkhead-open-url: %s\n", code.error().message().c_str());
        return 1;
    }
    return *code;
}
