// Fuzz target xen_firewall_ack: FirewallAckValidator on any bytes (a netvm's answer to a
// ruleset, guest-written). Accepted means "<digits> ok" or "<digits> error <text>", and the
// text it returns is printable ASCII of at most 300 bytes.
#include <bulkhead/dom0/hypervisor/xen/xen_plan.h>

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace bulkhead;
using namespace bulkhead::dom0::xen;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    std::string raw(reinterpret_cast<char const*>(data), size);
    auto v = FirewallAckValidator::parse(Untrusted<std::string>(raw));
    if (!v)
        return 0;
    auto sp = raw.find(' ');
    if (sp == 0 || sp == std::string::npos || sp > 19)
        std::abort();
    for (size_t i = 0; i < sp; ++i)
        if (raw[i] < '0' || raw[i] > '9')
            std::abort();
    if (v->ok != (raw.substr(sp + 1) == "ok"))
        std::abort();
    if (!v->ok && (raw.compare(sp + 1, 6, "error ") != 0 || v->error.size() > 300))
        std::abort();
    for (char c : v->error)
        if (c < 0x20 || c >= 0x7f)
            std::abort();
    return 0;
}
