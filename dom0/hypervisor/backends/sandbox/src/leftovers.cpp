// SandboxHypervisor::destroy_leftovers: the domains of a dom0 daemon that died without
// stopping them (SIGKILL, a crash). Their inits were its children; they now run unmanaged,
// still holding their volumes. Everything in the dead daemon's cgroups is killed.
#include "cgroup.h"

#include <bulkhead/dom0/hypervisor/sandbox/sandbox_hypervisor.h>

namespace bulkhead::dom0 {

Result<size_t> SandboxHypervisor::destroy_leftovers(std::string const& cgroup_name) {
    if (cgroup_name.empty() || cgroup_name.find('/') != std::string::npos || cgroup_name[0] == '.')
        return unexpected(Errc::Invalid, "bad cgroup name '" + cgroup_name + "'");
    auto leaves = TRY(sandbox::DomainCgroup::leaves_of(cgroup_name));
    for (auto& cg : leaves) {
        TRY_CTX(cg.kill_all(), "killing a previous daemon's domain");
        TRY_CTX(cg.remove(), "removing a previous daemon's domain cgroup");
    }
    sandbox::DomainCgroup::remove_group(cgroup_name);
    return leaves.size();
}

} // namespace bulkhead::dom0
