// Network plumbing both backends run in dom0: iproute2 (`ip -batch`), `nft -f` and `sysctl`
// inside a network namespace through nsenter, and the uplink (dom0's side of sys-net's link:
// forwarding and NAT). Called with dom0-chosen names and addresses only.
#pragma once

#include <bulkhead/base/result.h>

#include <string>
#include <vector>

namespace bulkhead::dom0::net {

// A tool by absolute path from PATH and the sbin directories (bulkheadd's PATH may lack
// them); the bare name when it is nowhere, so that running it reports it missing.
std::string tool_path(char const* name);
// The namespace of this process (the host's, for bulkheadd).
std::string own_netns();
// Loads an `nft -f` script in the namespace (one transaction).
Result<void> load_nft(std::string const& netns, std::string const& script);
// Runs `ip -batch -` with the given commands in the namespace.
Result<void> ip_batch(std::string const& netns, std::string const& commands);
// Whether the namespace has a link of that name.
Result<bool> has_link(std::string const& netns, std::string const& name);
// net.ipv4.ip_forward=1 in the namespace.
Result<void> enable_forwarding(std::string const& netns);
// "0" or "1"; and back to 0 (what the uplink found is restored when the backend closes).
Result<std::string> read_forwarding(std::string const& netns);
Result<void> disable_forwarding(std::string const& netns);
// The non-loopback nameservers of a resolv.conf text (a host's upstream resolvers).
std::vector<std::string> nameservers(std::string const& resolv_conf);

// `ip -batch` commands for the backend end of a domain's link (`vif`: up, `gateway`/32, a /32
// route to `address`) and for the domain's end (`eth0`: up, `address`/32, the gateway on the
// link and the default route through it).
std::string backend_link_commands(std::string const& vif, std::string const& address,
                                  std::string const& gateway);
std::string domain_link_commands(std::string const& dev, std::string const& address,
                                 std::string const& gateway);

// dom0's side of the uplink, in one namespace: forwarding on and what the netvms send out
// masqueraded (nft table ip bulkhead_uplink). The first open() records what it found;
// restore() (and the destructor) puts it back: the host must not stay a router, nor keep our
// NAT table, after bulkheadd stops.
class Uplink {
public:
    Uplink() = default;
    Uplink(Uplink const&) = delete;
    Uplink& operator=(Uplink const&) = delete;
    ~Uplink();
    Result<void> open(std::string const& netns);
    void restore();

private:
    std::string m_netns;
    std::string m_forward_before;
};

} // namespace bulkhead::dom0::net
