#include "seccomp_filter.h"

#include <bulkhead/base/sys/fd.h>

#include <cerrno>
#include <cstring>
#include <seccomp.h>

namespace bulkhead::dom0::sandbox {

namespace {
constexpr char const* kDenied[] = {
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "mount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "setns",
    "unshare",
    "open_by_handle_at",
    "name_to_handle_at",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "iopl",
    "ioperm",
    "userfaultfd",
    "lookup_dcookie",
    "quotactl",
    "syslog",
    "vhangup",
    "nfsservctl",
    "uselib",
    "personality",
    "fanotify_init",
};

struct Ctx {
    scmp_filter_ctx ctx;
    ~Ctx() { seccomp_release(ctx); }
};
} // namespace

Result<std::vector<sock_filter>> build_seccomp_filter() {
    Ctx c{seccomp_init(SCMP_ACT_ALLOW)};
    if (!c.ctx)
        return unexpected(Errc::Internal, "seccomp_init failed");
    // Installed while init still holds CAP_SYS_ADMIN: no_new_privs is not needed, so
    // guest root may still switch users with setuid helpers.
    if (int rc = seccomp_attr_set(c.ctx, SCMP_FLTATR_CTL_NNP, 0); rc < 0)
        return Error::from_errno("seccomp_attr_set", -rc);
    for (auto name : kDenied) {
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
            continue; // not on this architecture
        if (int rc = seccomp_rule_add(c.ctx, SCMP_ACT_ERRNO(EPERM), nr, 0); rc < 0)
            return Error::from_errno(std::string("seccomp_rule_add ") + name, -rc);
    }
    // The program is a few hundred bytes: it fits a pipe's buffer.
    auto [rd, wr] = TRY(sys::pipe());
    if (int rc = seccomp_export_bpf(c.ctx, wr.get()); rc < 0)
        return Error::from_errno("seccomp_export_bpf", -rc);
    wr = UniqueFd();
    auto bytes = TRY(sys::read_to_end(rd.get(), 1 << 16));
    if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0)
        return unexpected(Errc::Internal, "seccomp_export_bpf: bad program size");
    std::vector<sock_filter> prog(bytes.size() / sizeof(sock_filter));
    std::memcpy(prog.data(), bytes.data(), bytes.size());
    return prog;
}

} // namespace bulkhead::dom0::sandbox
