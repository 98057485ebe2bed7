// Hypervisor: the only door from dom0 to a hypervisor (ARCHITECTURE.md). Called by the
// domain manager; implemented by backends/xen (libxl) and backends/sandbox (namespaces).
// Project types only cross it: no libxl, xenstore or errno. Trusts its caller (dom0).
//
// Lifecycle of one domain, as every backend must report it (the contract suite checks it):
//
//              create()                      pause()
//   (none) ─────────────▶ Running ◀──────────────────────▶ Paused
//                          │   ▲        unpause()            │
//          shutdown() /    │   │                             │ destroy()
//          guest exits     ▼   │                             ▼
//                       Stopping ──(exits, or timeout → destroy)──▶ (gone)
//   Running ──destroy()──────────────────────────────────────────▶ (gone)
//   Running ──guest crashes─────▶ (gone, event Crashed)
//
// create() returns once the domain exists and its init is running (not once the agent
// is ready: the manager waits for the agent's HELLO). Every disappearance produces
// exactly one HypervisorEvent on event_fd(), whoever caused it.
#pragma once

#include <bulkhead/base/result.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::dom0 {

using DomId = uint32_t; // 0 is dom0; backends assign the rest (Xen: libxl's domid)

enum class PowerState { Running, Paused, Stopping };
enum class VirtMode { Pv, Pvh, Hvm };

struct BindMount {
    std::string host_path; // in dom0
    std::string guest_path;
    bool writable = false;
};

struct DomainSpec {
    std::string name; // validated domain name (Qubes rules), for logs and the hostname
    std::string uuid;
    // Root file system: read-only template layers, lowest first. Sandbox: directories;
    // Xen: image files exported as read-only block devices.
    std::vector<std::string> layers;
    // Discarded at shutdown: the overlay's upper layer (and work dir). dom0 wipes it.
    std::string volatile_dir;
    // If set, the root overlay's upper layer (and work dir) live here instead of in
    // volatile_dir, and the backend never wipes it: a TemplateVM's or StandaloneVM's root
    // changes persist (dom0 commits a halted template's changes as a new layer).
    std::string root_upper_dir;
    // Persistent /home and /rw; empty for a disposable (everything volatile).
    std::string private_dir;
    uint64_t memory_mib = 400;
    uint64_t maxmem_mib = 4000;
    uint32_t vcpus = 2;
    std::string kernel; // Xen: kernel directory; sandbox: ignored
    // Serves other domains' network links (a netvm). Xen: the guest loads netback and
    // nftables; sandbox: nothing to do.
    bool network_backend = false;
    VirtMode virt_mode = VirtMode::Pvh;
    // PID 1 of the domain (the guest agent) and its environment. The backend adds
    // VCHAN_DOMAIN=<id> (the domain's own id) to the environment.
    std::vector<std::string> init_argv;
    std::vector<std::string> init_env;
    // Host directories dom0 chooses to show inside (vchan socket dir, tools).
    std::vector<BindMount> binds;
};

struct DomainInfo {
    DomId id = 0;
    std::string name;
    PowerState state = PowerState::Running;
    uint64_t memory_kib = 0; // current usage where the backend can tell, else the target
};

// A domain's network device, as Qubes plugs it: inside the domain it is `eth0` with
// `address`/32, a route to `gateway` on the link and a default route through it; its other
// end is `vif<id>.0` in the backend domain (the netvm) with `gateway`/32 and a /32 route to
// `address`. Backend 0 is dom0's side: the host uplink of a netvm that has no netvm of its
// own (sys-net), where the backend picks the gateway and the upstream resolvers.
struct NetworkLink {
    DomId backend = 0;
    std::string address; // IPv4 dotted quad, chosen by dom0
    std::string gateway; // the backend's address toward the domain ("" for backend 0)
};

struct NetworkLinkInfo {
    std::string gateway;          // what the domain routes through
    std::vector<std::string> dns; // backend 0: the uplink's upstream resolvers
};

struct HypervisorEvent {
    enum class Kind { Exited, Crashed, Destroyed };
    DomId id = 0;
    Kind kind = Kind::Exited;
    // PID 1's status (Xen: as the guest's init reported it at poweroff; the shutdown
    // reason for other ends). Guest-controlled on both: informational only.
    int exit_code = 0;
};

class Hypervisor {
public:
    virtual ~Hypervisor() = default;

    virtual std::string_view backend_name() const = 0;

    virtual Result<DomId> create(DomainSpec const& spec) = 0;
    // Asks the guest to shut down (Xen: PV shutdown; sandbox: SIGTERM to init).
    virtual Result<void> shutdown(DomId id) = 0;
    // Immediate and unconditional.
    virtual Result<void> destroy(DomId id) = 0;
    virtual Result<void> pause(DomId id) = 0;
    virtual Result<void> unpause(DomId id) = 0;
    virtual Result<DomainInfo> info(DomId id) = 0;
    virtual Result<std::vector<DomainInfo>> list() = 0;
    virtual Result<void> set_memory_target(DomId id, uint64_t mib) = 0;

    // Networking (backends without it return Errc::Unsupported). attach_network replaces the
    // domain's link if it has one; the backend domain must be running. detach_network
    // removes it (no link: success). apply_network_rules loads a whole nftables ruleset
    // (`nft -f` text) in a running netvm, atomically: on failure its old rules stay.
    virtual Result<NetworkLinkInfo> attach_network(DomId id, NetworkLink const& link);
    virtual Result<void> detach_network(DomId id);
    virtual Result<void> apply_network_rules(DomId netvm, std::string const& ruleset);

    // Readable when events are pending; the owner's event loop watches it.
    virtual int event_fd() const = 0;
    virtual Result<std::vector<HypervisorEvent>> take_events() = 0;
};

// Names for logs and tools ("running", "paused", "stopping"; "exited", "crashed", "destroyed").
std::string_view to_string(PowerState state);
std::string_view to_string(HypervisorEvent::Kind kind);

} // namespace bulkhead::dom0
