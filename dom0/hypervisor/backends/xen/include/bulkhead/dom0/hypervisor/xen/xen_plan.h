// XenDomainPlan: what the xen backend will ask libxl for, derived from a DomainSpec without
// touching a hypervisor, so the whole mapping is unit-tested on any machine. The backend
// turns a plan into libxl's domain config (to_libxl_json shows libxl's own JSON form of it).
//
// The guest contract (what the dom0-supplied kernel + initramfs expect; see ../README.md):
//   kernel      <kernels_dir>/<spec.kernel or default>/vmlinuz, ramdisk .../initramfs
//   disks       template layer i (lowest first) -> xvda, xvdb, ... read-only squashfs images;
//               private volume -> xvdp, read-write ext4 image (absent for a disposable)
//   cmdline     console=hvc0 rdinit=/init quiet bulkhead.layers=<N> bulkhead.private=<0|1>
//   xenstore    /local/domain/<id>/bulkhead/{hostname, argv/<i>, env/<i>}, written by dom0
//               while the domain is still paused; PID 1 (bulkhead-xen-init) reads them.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/untrusted.h>
#include <bulkhead/dom0/hypervisor/hypervisor.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bulkhead::dom0::xen {

struct XenOptions {
    // Qubes-style: one directory per kernel, holding vmlinuz and initramfs.
    std::string kernels_dir = "/var/lib/bulkhead/vm-kernels";
    std::string default_kernel = "default";
    // PVH needs hardware virtualization (HAP); without it PVH specs run as PV.
    bool pvh_available = false;
    // Size of a new private volume image.
    uint64_t private_size_mib = 2048;
    // The uplink (attach_network with backend 0, sys-net's link): vif<id>.0 has its backend in
    // dom0 and lands in this network namespace (empty: dom0's own) with uplink_gateway/32;
    // forwarding and NAT there as on the sandbox. uplink_dns: the upstream resolvers (empty:
    // dom0's resolv.conf).
    std::string uplink_netns;
    std::string uplink_gateway = "10.136.0.1";
    std::vector<std::string> uplink_dns;
    // How long a vif may take to connect, and a netvm to answer a ruleset (TCG is slow).
    int network_timeout_ms = 90000;
};

struct XenDisk {
    enum class Kind { Layer, Private };
    Kind kind = Kind::Layer;
    std::string image;  // dom0 file: squashfs (layer) or ext4 (private)
    std::string source; // what the image is made from: the layer or private directory
    std::string vdev;   // xvda ...
    bool writable = false;
};

struct XenDomainPlan {
    std::string name;
    std::string uuid; // may be empty: libxl picks one
    VirtMode type = VirtMode::Pv;
    std::string kernel;
    std::string ramdisk;
    std::string cmdline;
    uint64_t memory_kib = 0;
    uint64_t maxmem_kib = 0;
    uint32_t vcpus = 1;
    std::vector<XenDisk> disks;
    // Relative to the guest's /local/domain/<id>/. The backend adds env VCHAN_DOMAIN=<id>.
    std::vector<std::pair<std::string, std::string>> xenstore;
};

inline constexpr size_t kMaxLayers = 15;          // xvda..xvdo; xvdp is the private volume
inline constexpr size_t kMaxXenstoreValue = 2048; // well under XENSTORE_PAYLOAD_MAX

// Validates the spec for Xen and maps it. Errors: Invalid (bad name, no layers, too many,
// an argv/env entry too long or env without '='), Unsupported (HVM; a persistent root upper,
// which needs a template-commit path the xen backend does not have yet).
Result<XenDomainPlan> plan_domain(DomainSpec const& spec, XenOptions const& options);

// The image file backing a layer directory (a regular file is its own image).
std::string layer_image_path(std::string const& layer);
// The ext4 image holding a domain's private volume.
std::string private_image_path(std::string const& private_dir);

// libxl's JSON form of the domain config the backend would create, with the disks' images
// attached at the given dom0 devices (one per plan disk; the backend's loop devices).
Result<std::string> to_libxl_json(XenDomainPlan const& plan,
                                  std::vector<std::string> const& disk_targets);

// Where a guest reports its init's exit status (bulkhead-xen-init writes it before powering
// off), relative to the guest's own home: a key the guest may write, so its value is untrusted.
inline constexpr char const* kExitStatusKey = "data/bulkhead-exit";

// The one opener of that value: a decimal 0..255 with nothing else, or nullopt.
class GuestExitValidator final : public Validator {
public:
    static std::optional<int> parse(Untrusted<std::string> const& untrusted_value);
};

// The network contract with the guests (all relative to a domain's home; see
// dom0/hypervisor/backends/xen/README.md). dom0 writes, the guest reads:
//   bulkhead/net/config            "ADDRESS GATEWAY" of the domain's eth0
//   bulkhead/net/clients/<domid>   in a netvm: "ADDRESS GATEWAY" of that client's vif<domid>.0
//   bulkhead/firewall/current      in a netvm: "GEN CHUNKS"; the ruleset (nft -f text) is
//   bulkhead/firewall/<GEN>/<i>    the concatenation of its chunks
// The netvm writes (so dom0 reads it as untrusted):
inline constexpr char const* kFirewallAckKey =
    "data/bulkhead-firewall"; // "GEN ok" | "GEN error TEXT"

// The one opener of a netvm's ruleset answer. Accepted: "<gen> ok" (decimal gen, no leading
// sign), or "<gen> error <text>" where text is returned with every byte outside printable
// ASCII replaced by '?' and cut at 300 bytes. Anything else: nullopt.
struct FirewallAck {
    uint64_t gen = 0;
    bool ok = false;
    std::string error;
};
class FirewallAckValidator final : public Validator {
public:
    static std::optional<FirewallAck> parse(Untrusted<std::string> const& untrusted_value);
};

} // namespace bulkhead::dom0::xen
