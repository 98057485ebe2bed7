#include "libxl_config.h"

#include <cstdlib>
#include <cstring>

namespace bulkhead::dom0::xen {
namespace {

// libxl frees every string of a config with free(): give it malloc'd copies.
char* dup(std::string const& s) {
    return ::strdup(s.c_str());
}

} // namespace

Result<std::unique_ptr<LibxlDomainConfig>>
make_libxl_config(XenDomainPlan const& plan, std::vector<std::string> const& disk_targets) {
    if (disk_targets.size() != plan.disks.size())
        return unexpected(Errc::Internal, "one disk target per planned disk");
    auto out = std::make_unique<LibxlDomainConfig>();
    libxl_domain_config& cfg = out->cfg;
    libxl_domain_type const type =
        plan.type == VirtMode::Pvh ? LIBXL_DOMAIN_TYPE_PVH : LIBXL_DOMAIN_TYPE_PV;

    libxl_domain_create_info& c = cfg.c_info;
    c.type = type;
    c.name = dup(plan.name);
    if (!plan.uuid.empty()) {
        if (libxl_uuid_from_string(&c.uuid, plan.uuid.c_str()) != 0)
            return unexpected(Errc::Invalid, "uuid '" + plan.uuid + "' is not a uuid");
    } else {
        libxl_uuid_generate(&c.uuid);
    }
    libxl_defbool_set(&c.run_hotplug_scripts, true);

    libxl_domain_build_info& b = cfg.b_info;
    libxl_domain_build_info_init_type(&b, type);
    b.max_memkb = plan.maxmem_kib;
    b.target_memkb = plan.memory_kib;
    b.max_vcpus = int(plan.vcpus);
    // avail_vcpus: all of them online. libxl frees the map with free().
    b.avail_vcpus.size = (plan.vcpus + 7) / 8;
    b.avail_vcpus.map = static_cast<uint8_t*>(std::calloc(b.avail_vcpus.size, 1));
    if (!b.avail_vcpus.map)
        return unexpected(Errc::System, "out of memory");
    for (uint32_t i = 0; i < plan.vcpus; ++i)
        b.avail_vcpus.map[i / 8] |= uint8_t(1u << (i % 8));
    b.kernel = dup(plan.kernel);
    b.ramdisk = dup(plan.ramdisk);
    b.cmdline = dup(plan.cmdline);

    // Lifecycle actions: every end is final. dom0 never reboots or restarts a domain behind
    // the manager's back; the manager starts it again if it wants to.
    cfg.on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    cfg.on_reboot = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    cfg.on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    cfg.on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    cfg.on_soft_reset = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;

    cfg.num_disks = int(plan.disks.size());
    cfg.disks = static_cast<libxl_device_disk*>(
        std::calloc(plan.disks.size() ? plan.disks.size() : 1, sizeof(libxl_device_disk)));
    if (!cfg.disks)
        return unexpected(Errc::System, "out of memory");
    for (size_t i = 0; i < plan.disks.size(); ++i) {
        libxl_device_disk& d = cfg.disks[i];
        libxl_device_disk_init(&d);
        d.backend_domid = 0;
        d.pdev_path = dup(disk_targets[i]);
        d.vdev = dup(plan.disks[i].vdev);
        d.backend = LIBXL_DISK_BACKEND_PHY;
        d.format = LIBXL_DISK_FORMAT_RAW;
        d.readwrite = plan.disks[i].writable ? 1 : 0;
        d.removable = 0;
        d.is_cdrom = 0;
    }
    return out;
}

Result<std::string> to_libxl_json(XenDomainPlan const& plan,
                                  std::vector<std::string> const& disk_targets) {
    auto config = TRY(make_libxl_config(plan, disk_targets));
    // libxl's generated JSON writers only use the context to report allocation failure.
    char* json = libxl_domain_config_to_json(nullptr, &config->cfg);
    if (!json)
        return unexpected(Errc::Internal, "libxl_domain_config_to_json failed");
    std::string s(json);
    std::free(json);
    return s;
}

} // namespace bulkhead::dom0::xen
