// XenHypervisor: the Hypervisor interface on real Xen, through libxl (Debian's libxen-dev).
// PV guests (PVH where the CPU has HAP), kernel + initramfs from dom0, template layers as
// read-only blkback disks, the private volume as a read-write one (see xen_plan.h for the
// guest contract). Death and shutdown come from libxl's event machinery, driven by one
// poller thread; every disappearance is one HypervisorEvent on event_fd().
// Needs dom0 on Xen (/dev/xen/privcmd, xenstored): otherwise create() fails with
// Errc::Unsupported naming what is missing.
#pragma once

#include <bulkhead/dom0/hypervisor/hypervisor.h>
#include <bulkhead/dom0/hypervisor/xen/xen_plan.h>

#include <memory>

namespace bulkhead::dom0::xen {

class XenHypervisor final : public Hypervisor {
public:
    static Result<std::unique_ptr<XenHypervisor>> open(XenOptions options = {});
    ~XenHypervisor() override;

    std::string_view backend_name() const override { return "xen"; }
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

    // Domains a previous bulkheadd created (they carry dom0's bulkhead/ keys in xenstore,
    // which no guest can write) and that this one does not manage: destroyed, and their
    // names returned for the log. Only the daemon calls this, once, before it creates any.
    Result<std::vector<std::string>> destroy_leftovers();

    // The memory target libxl holds for the domain (what the guest balloons to), in MiB.
    Result<uint64_t> memory_target_mib(DomId id);
    XenOptions const& options() const;

    struct Impl;

private:
    explicit XenHypervisor(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m;
};

// Whether this machine is dom0 on Xen (privcmd present).
bool running_on_xen();

// A file from a domain's private volume image, read in dom0 without mounting it (debugfs).
// Errc::NotFound when the volume or the file does not exist.
Result<std::string> read_private_file(std::string const& private_dir, std::string const& path);

} // namespace bulkhead::dom0::xen
