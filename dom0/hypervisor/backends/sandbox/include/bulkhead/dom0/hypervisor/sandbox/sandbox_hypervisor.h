// SandboxHypervisor: a Hypervisor whose domains are Linux namespaces + cgroups + seccomp
// (no VM). Created by dom0's backend factory; needs root. Trusts its caller (dom0) and
// nothing the guest writes: the guest only ever sees its own root, /proc, /dev, /tmp
// and the binds dom0 names in the DomainSpec.
#pragma once

#include <bulkhead/dom0/hypervisor/hypervisor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bulkhead::dom0 {

// With UserNamespace::Mapped the guest's uids 0..65535 are host uids
// uid_base + 65536 * slot + (0..65535) (slot = the domain's id). dom0 makes the mounts as
// host root, then init enters its user namespace before exec: the guest can't change its
// mounts; the template layers (owned by host root) are mounted idmapped, so inside they
// belong to guest root and copy-up works. The private dir and a kept root upper hold
// canonical ids at rest (host id == guest id: what dom0 creates, e.g. /home/user as
// 1000:1000) and are shifted into the slot's range while the domain runs.
// Off (the default): guest root is host root, confined by the other namespaces, the
// capability set and the seccomp filter.
enum class UserNamespace { Off, Mapped };

struct SandboxOptions {
    UserNamespace user_namespace = UserNamespace::Off;
    uint32_t uid_base = 100000;
    uint64_t pids_max = 1024;                     // per domain
    std::string cgroup_name = "bulkhead-sandbox"; // directory under each hierarchy's root
    // The uplink (attach_network with backend 0): vif<id>.0 lands in this network namespace
    // (empty: dom0's own, i.e. the host) with uplink_gateway/32; forwarding is enabled there
    // and traffic from 10.137.0.0/16 leaving by another interface is masqueraded (table
    // ip bulkhead_uplink). uplink_dns: the upstream resolvers the netvm's DNAT sends DNS to
    // (empty: the non-loopback nameservers of the host's /etc/resolv.conf). When the backend
    // closes it deletes that table and turns forwarding back off if it found it off (a
    // killed bulkheadd cannot: its successor then finds forwarding on and leaves it on).
    std::string uplink_netns;
    std::string uplink_gateway = "10.136.0.1";
    std::vector<std::string> uplink_dns;
};

// What the backend applied to a domain's cgroup, read back from the kernel (for tests/tools).
struct SandboxLimits {
    uint64_t memory_max_bytes = 0;
    uint64_t pids_max = 0;
};

class SandboxHypervisor final : public Hypervisor {
public:
    explicit SandboxHypervisor(SandboxOptions options = {});
    ~SandboxHypervisor() override; // destroys every domain still alive
    SandboxHypervisor(SandboxHypervisor const&) = delete;
    SandboxHypervisor& operator=(SandboxHypervisor const&) = delete;

    std::string_view backend_name() const override { return "sandbox"; }

    Result<DomId> create(DomainSpec const& spec) override;
    Result<void> shutdown(DomId id) override;
    Result<void> destroy(DomId id) override;
    Result<void> pause(DomId id) override;
    Result<void> unpause(DomId id) override;
    Result<DomainInfo> info(DomId id) override;
    Result<std::vector<DomainInfo>> list() override;
    Result<void> set_memory_target(DomId id, uint64_t mib) override;

    Result<NetworkLinkInfo> attach_network(DomId id, NetworkLink const& link) override;
    Result<void> detach_network(DomId id) override;
    Result<void> apply_network_rules(DomId netvm, std::string const& ruleset) override;

    int event_fd() const override;
    Result<std::vector<HypervisorEvent>> take_events() override;

    Result<SandboxLimits> limits(DomId id);
    // PID of the domain's init as seen from dom0.
    Result<int> init_pid(DomId id);
    // Kills every domain left in cgroup_name (SandboxOptions::cgroup_name of a dom0 daemon
    // that died without stopping them) and removes its cgroups; returns how many there were.
    // For a daemon's start, before it creates any domain of its own.
    static Result<size_t> destroy_leftovers(std::string const& cgroup_name);
    // Errc::Unsupported (with the reason) when the kernel refuses UserNamespace::Mapped.
    static Result<void> probe_user_namespace(SandboxOptions const& options = {});
    // Host id of the domain's guest id 0: its range start when Mapped, 0 when Off.
    Result<uint32_t> guest_id_base(DomId id);

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

} // namespace bulkhead::dom0
