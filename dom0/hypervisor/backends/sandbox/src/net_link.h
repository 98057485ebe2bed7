// Network plumbing between sandbox domains' network namespaces: veth pairs (eth0 inside
// the domain, vif<id>.0 in its netvm or in the uplink namespace), addresses, routes,
// forwarding, and nftables rulesets. Runs iproute2 (`ip -batch`), `nft -f` and `sysctl`
// inside a namespace through nsenter, from dom0 (the domains' init holds no CAP_NET_ADMIN,
// so nothing in a domain can change what is set here). Called by SandboxHypervisor with
// dom0-chosen names and addresses only; no state of its own.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/dom0/hypervisor/net_tools.h>

#include <string>
#include <vector>

namespace bulkhead::dom0::sandbox {

struct VethPlan {
    std::string domain_netns;  // path of the domain's net namespace (/proc/<pid>/ns/net)
    std::string backend_netns; // path of the netvm's (or the uplink's) net namespace
    std::string vif;           // the backend-side name: vif<id>.0
    std::string address;       // the domain's /32
    std::string gateway;       // the backend's address toward it
};

// Removes the domain's eth0 (and so its vif) if there is one, then plugs a new pair.
Result<void> plug_veth(VethPlan const& plan);
// Removes the domain's eth0 (and its peer); no eth0 is success.
Result<void> unplug_veth(std::string const& domain_netns);
using net::disable_forwarding;
using net::enable_forwarding;
using net::ip_batch;
using net::load_nft;
using net::nameservers;
using net::read_forwarding;

} // namespace bulkhead::dom0::sandbox
