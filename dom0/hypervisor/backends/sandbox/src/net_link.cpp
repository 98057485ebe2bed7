#include "net_link.h"

#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <unistd.h>

namespace bulkhead::dom0::sandbox {

Result<void> unplug_veth(std::string const& domain_netns) {
    // `ip link del` of a missing device fails: look first.
    if (!TRY(net::has_link(domain_netns, "eth0")))
        return ok();
    return ip_batch(domain_netns, "link del dev eth0\n");
}

Result<void> plug_veth(VethPlan const& p) {
    TRY(unplug_veth(p.domain_netns));
    // Both ends are made directly in their namespaces (one netlink request).
    auto made = TRY(sys::run({net::tool_path("ip"), "link", "add", p.vif, "netns", p.backend_netns,
                              "type", "veth", "peer", "name", "eth0", "netns", p.domain_netns}));
    if (made.status.code != 0)
        return unexpected(Errc::System,
                          "creating veth " + p.vif + ": " + text::escape(text::trim(made.err)));
    TRY(ip_batch(p.backend_netns, net::backend_link_commands(p.vif, p.address, p.gateway)));
    TRY(ip_batch(p.domain_netns, net::domain_link_commands("eth0", p.address, p.gateway)));
    return ok();
}

} // namespace bulkhead::dom0::sandbox
