// qvm-template: template management in dom0. Bulkhead's sandbox templates are stacks of
// directory layers: `qvm-template import-layer TEMPLATE DIR` copies DIR as TEMPLATE's new top
// layer (the template must be halted). A client of the admin API only.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/dom0/api/api_client.h>
#include <bulkhead/dom0/api/framing.h>

#include <cstdio>
#include <string>

using namespace bulkhead;

namespace {
constexpr char const* kUsage =
    "usage: qvm-template [--help] import-layer TEMPLATE DIR\n"
    "\n"
    "  import-layer TEMPLATE DIR   add the directory tree DIR as TEMPLATE's new top layer;\n"
    "                              its domains see it at their next start\n";
}

int main(int argc, char** argv) {
    if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (argc != 4 || std::string(argv[1]) != "import-layer") {
        std::fprintf(stderr, "%sqvm-template: error: expected import-layer TEMPLATE DIR\n", kUsage);
        return 2;
    }
    std::string dir = argv[3];
    if (!dir.empty() && dir[0] != '/') {
        auto abs = sys::realpath(dir);
        if (!abs) {
            std::fprintf(stderr, "qvm-template: error: no such directory: %s\n", argv[3]);
            return 1;
        }
        dir = *abs;
    }
    admin::Request req;
    req.mutable_import_layer()->set_template_(argv[2]);
    req.mutable_import_layer()->set_source_dir(dir);
    auto client = dom0::ApiClient::connect(dom0::api::default_socket_path());
    if (!client) {
        std::fprintf(stderr, "qvm-template: error: cannot reach bulkheadd: %s\n",
                     client.error().message().c_str());
        return 1;
    }
    auto ok = client->call_ok(req);
    if (!ok) {
        std::fprintf(stderr, "qvm-template: error: %s\n", ok.error().message().c_str());
        return 1;
    }
    return 0;
}
