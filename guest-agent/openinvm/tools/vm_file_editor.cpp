// vm-file-editor: the qubes.OpenInVM service (/etc/qubes-rpc/qubes.OpenInVM). stdin/stdout
// are the caller; the viewer's output goes to stderr. Exit 0 when the exchange completed.
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/openinvm/opener.h>
#include <bulkhead/openinvm/service.h>

#include <cstdio>

using namespace bulkhead;
using namespace bulkhead::openinvm;

int main() {
    sys::ignore_sigpipe();
    ServiceOptions opts;
    opts.tmp_root = sys::getenv_or("TMPDIR", "/tmp");
    auto opener = resolve_opener(opener_config_from_env());
    if (!opener) {
        std::fprintf(stderr, "vm-file-editor: %s\n", opener.error().message().c_str());
        return 1;
    }
    opts.opener = std::move(*opener);
    auto done = serve_open_in_vm(0, 1, opts);
    if (!done) {
        std::fprintf(stderr, "vm-file-editor: %s\n", done.error().message().c_str());
        return 1;
    }
    return 0;
}
