// qvm-open-in-vm TARGET [--view-only] FILE|URL: opens a file (qubes.OpenInVM; an edit
// comes back and replaces the original) or a URL (qubes.OpenURL) in another domain.
#include "open_in_vm_main.h"

#include <cstdio>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: qvm-open-in-vm TARGET [--view-only] FILE|URL\n");
        return 2;
    }
    return bulkhead::openinvm::open_in_vm_main("qvm-open-in-vm", argv[1], argc, argv, 2);
}
