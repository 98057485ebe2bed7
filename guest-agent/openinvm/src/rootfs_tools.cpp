#include <bulkhead/openinvm/rootfs.h>

namespace bulkhead::openinvm {

namespace {
constexpr char const* kPathTools[] = {"qvm-open-in-vm", "qvm-open-in-dvm"};
constexpr char const* kGuestTools[] = {"qvm-open-in-vm", "qvm-open-in-dvm", "vm-file-editor",
                                       "bulkhead-open-url"};
} // namespace

std::span<char const* const> path_tools() {
    return kPathTools;
}

std::span<char const* const> guest_tools() {
    return kGuestTools;
}

} // namespace bulkhead::openinvm
