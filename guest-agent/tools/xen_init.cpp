// bulkhead-xen-init: PID 1 of a Bulkhead domain on Xen, exec'd by the guest initramfs after
// switch_root. dom0 wrote what to run into xenstore while the domain was paused (see
// dom0/hypervisor/backends/xen/README.md):
//   bulkhead/hostname, bulkhead/argv/<i>, bulkhead/env/<i>   (relative to the domain's home)
// It sets the hostname, runs argv with exactly that environment as its only direct child,
// starts itself with --net (the domain's network links, xen_net.cpp), reaps every orphan, forwards
// SIGTERM (a PV shutdown from dom0 reaches it through the kernel's poweroff_cmd, which it points at
// itself with
// --signal-init), and powers the domain off when the child ends: on Xen a domain ends when its
// kernel stops, not when PID 1 exits (that would panic the guest kernel, which Xen reports as a
// crash). Any failure before the child runs is printed and powers off: fail closed. Before powering
// off it unmounts every file system it can and remounts the rest read-only, as any init must: a
// sync alone leaves the private volume's ext4 journal needing recovery, and its last metadata
// possibly only in the journal (dom0 reads the volume without replaying it). `bulkhead-xen-init
// --exit-status N` only reports N to dom0: the guest initramfs's /init uses it when it fails before
// this program runs, so that dom0 never sees such a domain exit 0.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "xen_net.h"
#include "xs_keys.h"

using bulkhead::xs::read_key;
using bulkhead::xs::read_list;

namespace {

constexpr char const* kSelf = "/usr/lib/bulkhead/bulkhead-xen-init";

// dom0 reports it as the domain's exit code (data/ is the domain's own to write).
bool report_status(int status) {
    xs_handle* xs = xs_open(0);
    if (!xs)
        return false;
    auto v = std::to_string(status & 0xff);
    bool ok = xs_write(xs, XBT_NULL, "data/bulkhead-exit", v.data(), unsigned(v.size()));
    xs_close(xs);
    return ok;
}

// A mount point as /proc/self/mounts spells it: space, tab, newline and backslash as \ooo.
std::string unescape_mount_path(std::string const& s) {
    auto octal = [&](size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '7'; };
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
            out += char((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

// Unmounts everything but the kernel's own file systems, innermost first (the reverse of
// /proc/self/mounts); what stays busy (the tools mount this program runs from) is remounted
// read-only, which flushes and checkpoints it just the same.
void unmount_all() {
    std::vector<std::string> points;
    {
        std::ifstream mounts("/proc/self/mounts");
        std::string line;
        while (std::getline(mounts, line)) {
            std::istringstream fields(line);
            std::string dev, dir;
            if (fields >> dev >> dir)
                points.push_back(unescape_mount_path(dir));
        }
    }
    for (auto it = points.rbegin(); it != points.rend(); ++it) {
        auto const& p = *it;
        if (p == "/" || p == "/proc" || p == "/sys" || p == "/dev")
            continue;
        if (::umount2(p.c_str(), 0) == 0)
            continue;
        if (::mount(nullptr, p.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0 &&
            errno != EINVAL)
            std::fprintf(stderr, "bulkhead-xen-init: cannot unmount or remount %s: %s\n", p.c_str(),
                         std::strerror(errno));
    }
}

[[noreturn]] void power_off(int status) {
    std::fprintf(stderr, "bulkhead-xen-init: powering off (init status %d)\n", status);
    report_status(status);
    std::fflush(stderr);
    if (::getpid() != 1)
        std::_Exit(status);
    ::kill(-1, SIGTERM);
    ::sleep(1);
    ::kill(-1, SIGKILL);
    ::sync();
    unmount_all();
    ::sync();
    ::reboot(RB_POWER_OFF);
    for (;;)
        ::pause();
}

[[noreturn]] void fail(std::string const& what) {
    std::fprintf(stderr, "bulkhead-xen-init: %s\n", what.c_str());
    power_off(1);
}

} // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "--signal-init") == 0)
        return ::kill(1, SIGTERM) == 0 ? 0 : 1;
    if (argc == 2 && std::strcmp(argv[1], "--net") == 0)
        return run_network();
    if (argc == 3 && std::strcmp(argv[1], "--exit-status") == 0)
        return report_status(std::atoi(argv[2])) ? 0 : 1;
    if (argc != 1) {
        std::fprintf(stderr,
                     "usage: bulkhead-xen-init [--signal-init | --exit-status N | --net]\n");
        return 2;
    }

    xs_handle* xs = xs_open(0);
    if (!xs)
        fail(std::string("xs_open: ") + std::strerror(errno));
    // dom0 writes the keys before it unpauses the domain; wait a little in case it did not.
    std::vector<std::string> args;
    for (int i = 0; i < 300 && args.empty(); ++i) {
        args = read_list(xs, "bulkhead/argv");
        if (args.empty())
            ::usleep(100 * 1000);
    }
    if (args.empty())
        fail("no bulkhead/argv in xenstore");
    auto env = read_list(xs, "bulkhead/env");
    std::string hostname;
    if (read_key(xs, "bulkhead/hostname", hostname) &&
        ::sethostname(hostname.data(), hostname.size()) != 0)
        fail(std::string("sethostname: ") + std::strerror(errno));
    xs_close(xs);

    if (::getpid() == 1) {
        if (FILE* f = std::fopen("/proc/sys/kernel/poweroff_cmd", "w")) {
            std::fprintf(f, "%s --signal-init\n", kSelf);
            std::fclose(f);
        }
    }

    sigset_t all;
    sigemptyset(&all);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGPWR, SIGHUP})
        sigaddset(&all, s);
    sigprocmask(SIG_BLOCK, &all, nullptr);

    // The domain's network links (and a netvm's clients): for the domain's whole life, as
    // root. If it cannot run, the domain has no network, which fails closed.
    if (pid_t net = ::fork(); net == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        char const* net_argv[] = {kSelf, "--net", nullptr};
        char const* net_env[] = {nullptr};
        ::execve(kSelf, const_cast<char**>(net_argv), const_cast<char**>(net_env));
        std::fprintf(stderr, "bulkhead-xen-init: exec %s --net: %s\n", kSelf, std::strerror(errno));
        std::_Exit(127);
    } else if (net < 0) {
        std::fprintf(stderr, "bulkhead-xen-init: fork: %s\n", std::strerror(errno));
    }

    pid_t child = ::fork();
    if (child < 0)
        fail(std::string("fork: ") + std::strerror(errno));
    if (child == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        ::setsid();
        std::vector<char*> a;
        for (auto& s : args)
            a.push_back(s.data());
        a.push_back(nullptr);
        std::vector<char*> e;
        for (auto& s : env)
            e.push_back(s.data());
        e.push_back(nullptr);
        ::execve(a[0], a.data(), e.data());
        std::fprintf(stderr, "bulkhead-xen-init: exec %s: %s\n", a[0], std::strerror(errno));
        std::_Exit(127);
    }

    int status = 0;
    for (;;) {
        siginfo_t si;
        int sig = ::sigwaitinfo(&all, &si);
        if (sig < 0)
            continue;
        if (sig == SIGCHLD) {
            bool done = false;
            for (;;) {
                int st = 0;
                pid_t p = ::waitpid(-1, &st, WNOHANG);
                if (p <= 0)
                    break;
                if (p == child) {
                    status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                    done = true;
                }
            }
            if (done)
                break;
        } else {
            ::kill(child, SIGTERM); // shutdown requested: the init decides how to end
        }
    }
    power_off(status);
}
