// Static probe run inside a sandbox domain by the contract suite: tries calls the seccomp
// filter must deny and prints "<name> <errno>" (0 = the call was allowed).
#include <cerrno>
#include <cstdio>
#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {
void report(char const* name, long rc) {
    std::printf("%s %d\n", name, rc < 0 ? errno : 0);
}
} // namespace

int main() {
    report("keyctl", ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1));
    report("kexec_load", ::syscall(SYS_kexec_load, 0, 0, nullptr, 0));
    report("bpf", ::syscall(SYS_bpf, 0, nullptr, 0));
    report("perf_event_open", ::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0));
    return 0;
}
