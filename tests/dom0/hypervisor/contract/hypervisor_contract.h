// The Hypervisor contract suite: what every backend must do, written once against the
// interface (Catch2 SECTIONs). A backend's test calls run_hypervisor_contract from a
// TEST_CASE with a ContractEnv that knows how to build specs and read guest results.
#pragma once

#include <bulkhead/dom0/hypervisor/hypervisor.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace bulkhead::dom0::contract {

enum class Storage { Private, Disposable };

struct ContractEnv {
    // A spec whose init runs `/bin/sh -c script` on the env's fixture template: three
    // layers, lowest first: busybox base; one with /etc/layer-a = "a2" and /etc/layer-b =
    // "b2"; one with /etc/layer-b = "b3". Private storage is kept per name across runs.
    std::function<DomainSpec(std::string const& name, std::string const& script, Storage)> spec;
    // A file the guest wrote under /rw of the named domain's private storage.
    std::function<std::optional<std::string>(std::string const& name, std::string const& path)>
        read_private;
    // The domain's memory limit as the backend enforces it (MiB).
    std::function<Result<uint64_t>(DomId)> memory_limit_mib;
    // A dom0 path that exists on the host and must not be visible in a guest.
    std::string host_marker;
    // How guests are kept from dom0's kernel:
    //   SharedKernel (sandbox): guests run on dom0's kernel, confined by seccomp; then
    //     syscall_probe is the guest path of a static program that tries keyctl, kexec_load,
    //     bpf and perf_event_open and prints "<name> <errno>" per line (0 = allowed).
    //   OwnKernel (xen): each guest has its own kernel and is an unprivileged Xen domain.
    enum class Kernel { SharedKernel, OwnKernel };
    Kernel kernel = Kernel::SharedKernel;
    std::string syscall_probe;
    // Empty: spec.init_argv runs as PID 1 (sandbox). Else the /proc/1/comm of the backend's
    // own PID 1, which runs spec.init_argv as its child (xen: bulkhead-xen-init stays PID 1
    // so the domain powers off when init ends).
    std::string backend_init;
    // How long a guest may take to boot, run and end (software-emulated Xen is slow).
    std::chrono::milliseconds event_timeout{10000};
};

void run_hypervisor_contract(Hypervisor& hv, ContractEnv const& env);

} // namespace bulkhead::dom0::contract
