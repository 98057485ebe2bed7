// Shared main of qvm-open-in-vm and qvm-open-in-dvm: [--view-only] FILE|URL to TARGET.
#pragma once

#include <string>

namespace bulkhead::openinvm {
int open_in_vm_main(char const* prog, std::string const& target, int argc, char** argv, int first);
}
