// qvm-open-in-dvm [--view-only] FILE|URL: qvm-open-in-vm @dispvm; the disposable is
// destroyed by dom0 when the call ends (the viewer exited).
#include "open_in_vm_main.h"

int main(int argc, char** argv) {
    return bulkhead::openinvm::open_in_vm_main("qvm-open-in-dvm", "@dispvm", argc, argv, 1);
}
