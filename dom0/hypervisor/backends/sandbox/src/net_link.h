// Network plumbing between sandbox domains' network namespaces: veth pairs (eth0 inside
// the domain, vif<id>.0 in its netvm or in the uplink namespace), addresses, routes,
// forwarding, and nftables rulesets. Runs iproute2 (`ip -batch`), `nft -f` and `sysctl`
// inside a namespace through nsenter, from dom0 (the domains' init holds no CAP_NET_ADMIN,
// so nothing in a domain can change what is set here). Called by SandboxHypervisor with
// dom0-chosen names and addresses only; no state of its own.
#pragma once

#include <bulkhead/base/result.h>

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
// Loads an `nft -f` script in the namespace (one transaction).
Result<void> load_nft(std::string const& netns, std::string const& script);
// Runs `ip -batch -` with the given commands in the namespace.
Result<void> ip_batch(std::string const& netns, std::string const& commands);
// net.ipv4.ip_forward=1 in the namespace.
Result<void> enable_forwarding(std::string const& netns);
// "0" or "1"; and back to 0 (what the uplink found is restored when the backend closes).
Result<std::string> read_forwarding(std::string const& netns);
Result<void> disable_forwarding(std::string const& netns);
// The non-loopback nameservers of a resolv.conf text (a host's upstream resolvers).
std::vector<std::string> nameservers(std::string const& resolv_conf);

} // namespace bulkhead::dom0::sandbox
