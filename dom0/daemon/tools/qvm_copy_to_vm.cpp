// qvm-copy-to-vm (dom0): copies files from dom0 into a domain, as Qubes' dom0 tool does: the
// Filecopy packer (qfile-agent, the same program the domains use) talks to the domain's
// qubes.Filecopy service through `qvm-run --pass-io --service`. Files land in the domain's
// ~/QubesIncoming/dom0/. Exit status: 0 when the domain confirmed every byte (matching
// CRC); otherwise the packer's or qvm-run's non-zero status (126: refused).
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <vector>

using namespace bulkhead;

namespace {

constexpr char const* kUsage =
    "usage: qvm-copy-to-vm [--help] [--without-progress] VMNAME FILE [FILE ...]\n"
    "\n"
    "Copy files from dom0 to VMNAME's ~/QubesIncoming/dom0/.\n"
    "\n"
    "options:\n"
    "  -h, --help          show this help message and exit\n"
    "  --without-progress  do not show progress (default: shown when stderr is a terminal)\n";

int fail(std::string const& msg, int code = 1) {
    std::fprintf(stderr, "qvm-copy-to-vm: error: %s\n", msg.c_str());
    return code;
}

} // namespace

int main(int argc, char** argv) {
    bool progress = true;
    std::vector<std::string> pos;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (a == "--without-progress") {
            progress = false;
        } else if (a == "--") {
            for (++i; i < argc; ++i)
                pos.push_back(argv[i]);
        } else if (a.size() > 1 && a[0] == '-') {
            std::fprintf(stderr, "%s", kUsage);
            return fail("unrecognized argument: " + a, 2);
        } else {
            pos.push_back(a);
        }
    }
    if (pos.size() < 2) {
        std::fprintf(stderr, "%s", kUsage);
        return fail("VMNAME and at least one FILE are required", 2);
    }
    auto dir = sys::self_exe_dir();
    if (!dir)
        return fail(dir.error().message());
    // to_vm: packer stdout → qvm-run stdin; from_vm: qvm-run stdout → packer stdin.
    auto to_vm = sys::pipe(O_CLOEXEC);
    auto from_vm = sys::pipe(O_CLOEXEC);
    if (!to_vm || !from_vm)
        return fail("pipe: " + (to_vm ? from_vm.error() : to_vm.error()).message());

    sys::SpawnOptions run;
    run.argv = {*dir + "/qvm-run", "--pass-io", "--no-filter-escape-chars",
                "--service",       "--",        pos[0],
                "qubes.Filecopy"};
    run.fds = {{0, to_vm->first.get()}, {1, from_vm->second.get()}, {2, 2}};
    sys::SpawnOptions pack;
    pack.argv = {*dir + "/qfile-agent"};
    if (!progress)
        pack.argv.push_back("--without-progress");
    pack.argv.push_back("--");
    pack.argv.insert(pack.argv.end(), pos.begin() + 1, pos.end());
    pack.fds = {{0, from_vm->first.get()}, {1, to_vm->second.get()}, {2, 2}};

    auto run_pid = sys::spawn(run);
    if (!run_pid)
        return fail(run_pid.error().message());
    auto pack_pid = sys::spawn(pack);
    for (auto* p : {&*to_vm, &*from_vm}) {
        p->first.reset();
        p->second.reset();
    }
    if (!pack_pid) {
        (void)sys::kill(*run_pid, SIGTERM);
        (void)sys::waitpid(*run_pid);
        return fail(pack_pid.error().message());
    }
    auto pack_status = sys::waitpid(*pack_pid);
    auto run_status = sys::waitpid(*run_pid);
    if (!pack_status || !run_status)
        return fail("waitpid failed");
    int run_code = run_status->code;
    if (run_code >= 125 && run_code <= 127)
        return run_code; // refused, service missing, ...: qvm-run said why
    return pack_status->code != 0 ? pack_status->code : run_code;
}
