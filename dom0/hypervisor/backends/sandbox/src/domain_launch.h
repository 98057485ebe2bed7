// Starts one sandbox domain's init: clone into new namespaces, let dom0 place it in its
// cgroup, then inside: overlay root, /rw, /home, /proc, /dev, /tmp,
// binds, pivot_root, hostname, lo up, seccomp, capability drop, exec. Called by
// SandboxHypervisor::create with a fully prepared plan (no allocation after clone).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>

#include <functional>
#include <linux/filter.h>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bulkhead::dom0::sandbox {

struct LaunchBind {
    std::string source; // host path
    std::string target; // absolute path under the new root's mount point
    bool writable = false;
};

struct LaunchPlan {
    std::string root; // mount point for the overlay (on the host, in volatile_dir)
    std::string overlay_options;
    std::string private_dir; // empty: disposable
    std::string hostname;
    std::vector<LaunchBind> binds;
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::vector<sock_filter> const* seccomp = nullptr;
    bool user_namespace = false;
    uint32_t guest_root_id = 0; // user_namespace: host id of guest root (owns /rw, /home)
    // user_namespace: each template layer is mounted idmapped (through idmap_userns_fd,
    // host id n shown as guest_root_id + n) at its target before the overlay uses it.
    std::vector<LaunchBind> idmapped_layers; // source: layer dir, target: mount point
    int idmap_userns_fd = -1;
    int console_fd = -1; // init's stdout and stderr
};

struct Launched {
    pid_t pid = -1;
    UniqueFd pidfd;
};

// before_start runs in dom0 once the child exists and before it does anything (cgroup).
// With user_namespace, map_ids runs once the child has entered its user namespace (after
// its mounts, before seccomp and exec) to write its uid_map/gid_map.
// Errc::Unsupported when the kernel refuses the namespaces.
Result<Launched> launch_domain(LaunchPlan const& plan,
                               std::function<Result<void>(pid_t)> const& before_start,
                               std::function<Result<void>(pid_t)> const& map_ids = {});

} // namespace bulkhead::dom0::sandbox

namespace bulkhead::dom0::sandbox {

struct ChildExit {
    bool exited = false; // false: still running (only when not blocking)
    int code = 0;        // CLD_EXITED: the exit code; else 128 + signal
    int signal = 0;      // 0 when it exited normally
};
// waitid(P_PIDFD): reaps the domain's init.
Result<ChildExit> wait_init(int pidfd, bool block);

// Whether this kernel lets dom0 give a process its own user namespace with guest ids
// 0..65535 mapped to host_base..: a child enters one, is mapped, becomes its root.
Result<void> probe_user_namespace(uint32_t host_base);

// A user namespace mapping 0..65535 to host_base.. (held by the fd only; for idmapped
// mounts).
Result<UniqueFd> make_mapped_userns(uint32_t host_base);

} // namespace bulkhead::dom0::sandbox
