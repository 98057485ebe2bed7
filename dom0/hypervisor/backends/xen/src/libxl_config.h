// XenDomainPlan -> libxl_domain_config. Internal to the xen backend: the only place a plan
// becomes libxl types. Works without a libxl context (so it is tested anywhere).
#pragma once

#include <bulkhead/dom0/hypervisor/xen/xen_plan.h>

extern "C" { // libxl.h has no C++ guards
#include <libxl.h>
#include <libxl_utils.h>
}

#include <memory>

namespace bulkhead::dom0::xen {

// Owns an initialised libxl_domain_config; disposes it.
struct LibxlDomainConfig {
    LibxlDomainConfig() { libxl_domain_config_init(&cfg); }
    ~LibxlDomainConfig() { libxl_domain_config_dispose(&cfg); }
    LibxlDomainConfig(LibxlDomainConfig const&) = delete;
    LibxlDomainConfig& operator=(LibxlDomainConfig const&) = delete;
    libxl_domain_config cfg;
};

// disk_targets[i] is the dom0 block device (or file) that backs plan.disks[i].
Result<std::unique_ptr<LibxlDomainConfig>>
make_libxl_config(XenDomainPlan const& plan, std::vector<std::string> const& disk_targets);

} // namespace bulkhead::dom0::xen
