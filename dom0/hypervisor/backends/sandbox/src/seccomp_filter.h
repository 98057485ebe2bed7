// The sandbox's seccomp filter, compiled once in dom0 (libseccomp) into a classic BPF
// program that a domain's init installs just before exec. Denied calls return EPERM.
#pragma once

#include <bulkhead/base/result.h>

#include <linux/filter.h>
#include <vector>

namespace bulkhead::dom0::sandbox {

// Kernel-level operations a guest never needs: kexec, modules, new mounts, ptrace,
// keyrings, bpf, perf, namespace changes, clock and swap changes, reboot.
Result<std::vector<sock_filter>> build_seccomp_filter();

} // namespace bulkhead::dom0::sandbox
