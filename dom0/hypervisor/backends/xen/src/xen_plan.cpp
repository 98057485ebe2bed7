// plan_domain: DomainSpec -> XenDomainPlan. Pure: no hypervisor, no files touched.
#include <bulkhead/base/text.h>
#include <bulkhead/dom0/hypervisor/xen/xen_plan.h>

#include <algorithm>

namespace bulkhead::dom0::xen {
namespace {

// A kernel name selects a directory under kernels_dir: one path component, no dot-dots.
bool valid_kernel_name(std::string const& k) {
    if (k.empty() || k.size() > 64 || k == "." || k == "..")
        return false;
    return std::all_of(k.begin(), k.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-' || c == '_' || c == '+';
    });
}

Result<void> check_value(std::string const& what, std::string const& v) {
    if (v.size() > kMaxXenstoreValue)
        return unexpected(Errc::Limit,
                          what + " is longer than " + std::to_string(kMaxXenstoreValue) + " bytes");
    if (v.find('\0') != std::string::npos)
        return unexpected(Errc::Invalid, what + " contains a NUL byte");
    return {};
}

} // namespace

std::string layer_image_path(std::string const& layer) {
    if (layer.size() > 9 && layer.ends_with(".squashfs"))
        return layer;
    return layer + ".squashfs";
}

std::string private_image_path(std::string const& private_dir) {
    return private_dir + ".img";
}

Result<XenDomainPlan> plan_domain(DomainSpec const& spec, XenOptions const& options) {
    if (!text::is_domain_name(spec.name))
        return unexpected(Errc::Invalid, "'" + text::escape(spec.name) + "' is not a domain name");
    if (spec.layers.empty())
        return unexpected(Errc::Invalid, "domain " + spec.name + " has no template layers");
    if (spec.layers.size() > kMaxLayers)
        return unexpected(Errc::Limit,
                          "domain " + spec.name + " has " + std::to_string(spec.layers.size()) +
                              " template layers; xen takes at most " + std::to_string(kMaxLayers));
    if (!spec.root_upper_dir.empty())
        return unexpected(Errc::Unsupported,
                          "domain " + spec.name +
                              ": a persistent root (TemplateVM/StandaloneVM) is not supported "
                              "by the xen backend yet");
    if (spec.virt_mode == VirtMode::Hvm)
        return unexpected(Errc::Unsupported,
                          "domain " + spec.name + ": HVM needs a device model; use pv or pvh");
    if (spec.init_argv.empty() || spec.init_argv[0].empty())
        return unexpected(Errc::Invalid, "domain " + spec.name + " has no init program");
    if (spec.memory_mib == 0 || spec.vcpus == 0)
        return unexpected(Errc::Invalid, "domain " + spec.name + " needs memory and a vcpu");

    XenDomainPlan plan;
    plan.name = spec.name;
    plan.uuid = spec.uuid;
    plan.type =
        (spec.virt_mode == VirtMode::Pvh && options.pvh_available) ? VirtMode::Pvh : VirtMode::Pv;

    std::string const kernel = spec.kernel.empty() ? options.default_kernel : spec.kernel;
    std::string dir;
    if (kernel.starts_with("/")) {
        if (kernel.find("/../") != std::string::npos || kernel.ends_with("/.."))
            return unexpected(Errc::Invalid, "kernel path '" + text::escape(kernel) + "'");
        dir = kernel;
    } else if (valid_kernel_name(kernel)) {
        dir = options.kernels_dir + "/" + kernel;
    } else {
        return unexpected(Errc::Invalid, "kernel '" + text::escape(kernel) + "' is not a name");
    }
    plan.kernel = dir + "/vmlinuz";
    plan.ramdisk = dir + "/initramfs";

    plan.memory_kib = spec.memory_mib * 1024;
    plan.maxmem_kib = std::max(spec.maxmem_mib, spec.memory_mib) * 1024;
    plan.vcpus = spec.vcpus;

    for (size_t i = 0; i < spec.layers.size(); ++i) {
        XenDisk d;
        d.kind = XenDisk::Kind::Layer;
        d.source = spec.layers[i];
        d.image = layer_image_path(spec.layers[i]);
        d.vdev = std::string("xvd") + char('a' + i);
        plan.disks.push_back(std::move(d));
    }
    bool const has_private = !spec.private_dir.empty();
    if (has_private) {
        XenDisk d;
        d.kind = XenDisk::Kind::Private;
        d.source = spec.private_dir;
        d.image = private_image_path(spec.private_dir);
        d.vdev = "xvdp";
        d.writable = true;
        plan.disks.push_back(std::move(d));
    }
    plan.cmdline =
        "console=hvc0 rdinit=/init quiet bulkhead.layers=" + std::to_string(spec.layers.size()) +
        " bulkhead.private=" + (has_private ? "1" : "0");
    if (spec.network_backend)
        plan.cmdline += " bulkhead.netvm=1";

    plan.xenstore.emplace_back("bulkhead/hostname", spec.name);
    for (size_t i = 0; i < spec.init_argv.size(); ++i) {
        TRY(check_value("init argument " + std::to_string(i), spec.init_argv[i]));
        plan.xenstore.emplace_back("bulkhead/argv/" + std::to_string(i), spec.init_argv[i]);
    }
    // The sandbox's socket directory means nothing here; the agent talks libxenvchan.
    std::vector<std::string> env;
    for (auto const& e : spec.init_env) {
        auto eq = e.find('=');
        if (eq == 0 || eq == std::string::npos)
            return unexpected(Errc::Invalid,
                              "environment entry '" + text::escape(e) + "' is not KEY=VALUE");
        auto key = e.substr(0, eq);
        if (key == "VCHAN_SOCKET_DIR" || key == "VCHAN_DOMAIN" || key == "BULKHEAD_VCHAN")
            continue;
        TRY(check_value("environment entry " + key, e));
        env.push_back(e);
    }
    env.push_back("BULKHEAD_VCHAN=xen");
    for (size_t i = 0; i < env.size(); ++i)
        plan.xenstore.emplace_back("bulkhead/env/" + std::to_string(i), env[i]);
    return plan;
}

std::optional<int> GuestExitValidator::parse(Untrusted<std::string> const& untrusted_value) {
    auto const& v = untrusted_value.open(key());
    if (v.empty() || v.size() > 3)
        return std::nullopt;
    int n = 0;
    for (char c : v) {
        if (c < '0' || c > '9')
            return std::nullopt;
        n = n * 10 + (c - '0');
    }
    if (n > 255)
        return std::nullopt;
    return n;
}

std::optional<FirewallAck>
FirewallAckValidator::parse(Untrusted<std::string> const& untrusted_value) {
    auto const& v = untrusted_value.open(key());
    if (v.size() > 4096)
        return std::nullopt;
    size_t i = 0;
    uint64_t gen = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
        if (i >= 19)
            return std::nullopt;
        gen = gen * 10 + uint64_t(v[i] - '0');
        ++i;
    }
    if (i == 0 || i == v.size() || v[i] != ' ')
        return std::nullopt;
    auto rest = std::string_view(v).substr(i + 1);
    FirewallAck ack;
    ack.gen = gen;
    if (rest == "ok") {
        ack.ok = true;
        return ack;
    }
    if (!rest.starts_with("error "))
        return std::nullopt;
    rest.remove_prefix(6);
    for (char c : rest.substr(0, 300))
        ack.error += (c >= 0x20 && c < 0x7f) ? c : '?';
    return ack;
}

} // namespace bulkhead::dom0::xen
