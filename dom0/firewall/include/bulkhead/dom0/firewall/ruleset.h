// The nftables ruleset of one netvm: anti-spoofing, each client's firewall rules (default
// drop after its list), DNS for the clients, masquerade out of the uplink. Pure text
// generation (no system calls); the caller applies it with one `nft -f` (one transaction:
// the table is created, deleted and defined again, so a failure leaves the old table).
// Callers: the domain manager (sandbox and, later, Xen netvms). Trusts its input: rules
// come parsed from the store, names from dom0.
//
// Addressing, as Qubes does it: each domain has 10.137.<qid / 256>.<qid % 256>/32; its gateway is
// its netvm's own address; DNS is the virtual pair 10.139.1.1 / 10.139.1.2, which the netvm with
// the uplink DNATs to its upstream resolver (a netvm behind another one just routes it on).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/dom0/firewall/rule.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bulkhead::dom0::firewall {

inline constexpr char const* kDnsPrimary = "10.139.1.1";
inline constexpr char const* kDnsSecondary = "10.139.1.2";
inline constexpr char const* kTableName = "bulkhead";

// 10.137.<qid / 256>.<qid % 256> (Qubes' vm.ip); qid 0..65535.
std::string address_for_qid(int64_t qid);

struct Client {
    std::string vif;     // the netvm-side interface (vif<id>.0)
    std::string address; // the client's only allowed source address
    std::vector<Rule> rules;
};

struct NetvmPlan {
    std::string uplink = "eth0";  // the netvm's own upstream interface ("" = none)
    std::vector<std::string> dns; // upstream resolvers: DNAT targets (empty: route on)
    std::vector<Client> clients;  // in any order; output is sorted by vif
    int64_t now = 0;              // rules expired by then are left out
};

// Resolves a dsthost host name to IPv4 addresses (dom0's resolver; tests pass a fake).
using Resolver = std::function<Result<std::vector<std::string>>(std::string const& host)>;

// The whole table as `nft -f` input. A rule whose host name does not resolve makes that
// client's chain drop everything (fail closed); `errors` (if given) gets one line per such.
std::string netvm_ruleset(NetvmPlan const& plan, Resolver const& resolve,
                          std::vector<std::string>* errors = nullptr);

// One client's chain body, one nft statement per line (for tests and the ruleset).
Result<std::vector<std::string>> client_statements(std::vector<Rule> const& rules, int64_t now,
                                                   Resolver const& resolve);

} // namespace bulkhead::dom0::firewall
