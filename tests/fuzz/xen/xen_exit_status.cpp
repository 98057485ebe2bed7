// Fuzz target xen_exit_status: GuestExitValidator on any bytes. Accepted means exactly the
// decimal text of a number 0..255 (leading zeros allowed, at most 3 digits).
#include <bulkhead/dom0/hypervisor/xen/xen_plan.h>

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace bulkhead;
using namespace bulkhead::dom0::xen;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    std::string raw(reinterpret_cast<char const*>(data), size);
    auto v = GuestExitValidator::parse(Untrusted<std::string>(raw));
    if (!v)
        return 0;
    if (*v < 0 || *v > 255 || raw.empty() || raw.size() > 3)
        std::abort();
    for (char c : raw)
        if (c < '0' || c > '9')
            std::abort();
    if (std::stoi(raw) != *v)
        std::abort();
    return 0;
}
