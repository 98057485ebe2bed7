// bulkheadd: the dom0 daemon. See daemon.h.
#include "daemon.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/proc.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

using namespace bulkhead;

namespace {

constexpr char const* kUsage =
    "usage: bulkheadd [--backend auto|sandbox|xen] [--root DIR] [--policy-dir DIR]...\n"
    "                 [--agent-dir DIR] [--userns auto|on|off] [--xen-kernels-dir DIR]\n"
    "                 [--ask-agent none|dialog|script:PATH] [--ask-timeout SECONDS]\n"
    "                 [--uplink-netns PATH] [--uplink-dns ADDR]... [--gui-display DISPLAY]\n"
    "\n"
    "The Bulkhead dom0 daemon: domain store, domains, qrexec broker, admin API.\n"
    "  --backend     hypervisor backend (default auto: xen when this is dom0 on Xen)\n"
    "  --root        state directory (default $BULKHEAD_ROOT or /var/lib/bulkhead)\n"
    "  --policy-dir  qrexec policy directory; repeatable, first file name wins\n"
    "                (default /etc/qubes/policy.d)\n"
    "  --agent-dir   directory holding bulkhead-agent and the guest tools\n"
    "                (default: this program's directory)\n"
    "  --userns      sandbox: guest ids in a user namespace, mapped to an unprivileged\n"
    "                host range (default auto: when the kernel allows it)\n"
    "  --xen-kernels-dir  xen: guest kernels, one directory each holding vmlinuz\n"
    "                and initramfs (default /var/lib/bulkhead/vm-kernels)\n"
    "  --ask-agent   who answers a policy 'ask': dialog (bulkhead-ask-dialog, next to\n"
    "                this program), script:PATH (an executable run in dom0 with the\n"
    "                question as JSON on stdin; it prints the chosen target, or nothing\n"
    "                to deny), none (every ask is denied). Default: dialog when DISPLAY\n"
    "                or WAYLAND_DISPLAY is set, else none\n"
    "  --ask-timeout no answer within this many seconds is deny (default 60)\n"
    "  --uplink-netns  network namespace (path) that receives the uplink of a netvm\n"
    "                without a netvm (sys-net; on xen its vif, backend dom0); default:\n"
    "                this host's\n"
    "  --uplink-dns  upstream DNS resolver for that uplink; repeatable\n"
    "                (default: the non-loopback nameservers of /etc/resolv.conf)\n"
    "  --gui-display sandbox: run bulkhead-guid (next to this program) on this X display;\n"
    "                each running domain gets a GUI socket, vchan.0.<id>.6000.sock in\n"
    "                its vchan directory, for its bulkhead-gui-agent (default: no GUI)\n";

} // namespace

int main(int argc, char** argv) {
    dom0::DaemonOptions opts;
    opts.root = sys::getenv_or("BULKHEAD_ROOT", "/var/lib/bulkhead");
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bulkheadd: error: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--backend") {
            opts.backend = value();
        } else if (a == "--root") {
            opts.root = value();
        } else if (a == "--policy-dir") {
            opts.policy_dirs.push_back(value());
        } else if (a == "--agent-dir") {
            opts.agent_dir = value();
        } else if (a == "--xen-kernels-dir") {
            opts.xen_kernels_dir = value();
        } else if (a == "--userns") {
            opts.userns = value();
        } else if (a == "--uplink-netns") {
            opts.uplink_netns = value();
        } else if (a == "--uplink-dns") {
            opts.uplink_dns.push_back(value());
        } else if (a == "--gui-display") {
            opts.gui_display = value();
        } else if (a == "--ask-agent") {
            opts.ask_agent = value();
        } else if (a == "--ask-timeout") {
            auto v = value();
            char* end = nullptr;
            double secs = std::strtod(v.c_str(), &end);
            if (v.empty() || *end || !(secs > 0) || secs > 86400) {
                std::fprintf(stderr, "bulkheadd: error: bad --ask-timeout '%s'\n", v.c_str());
                return 2;
            }
            opts.ask_timeout = std::chrono::milliseconds(int64_t(secs * 1000));
        } else {
            std::fprintf(stderr, "bulkheadd: error: unknown argument '%s'\n%s", a.c_str(), kUsage);
            return 2;
        }
    }
    if (opts.policy_dirs.empty())
        opts.policy_dirs.push_back("/etc/qubes/policy.d");
    if (opts.agent_dir.empty()) {
        auto dir = sys::self_exe_dir();
        if (!dir) {
            std::fprintf(stderr, "bulkheadd: error: %s\n", dir.error().message().c_str());
            return 1;
        }
        opts.agent_dir = *dir;
    }
    sys::ignore_sigpipe();
    (void)sys::raise_fd_limit(); // a connection and a data endpoint per call in flight
    // Signals go to the waiting thread only (blocked before any other thread exists).
    if (auto r = sys::block_signals({SIGTERM, SIGINT, SIGHUP}); !r) {
        std::fprintf(stderr, "bulkheadd: error: %s\n", r.error().message().c_str());
        return 1;
    }
    auto daemon = dom0::Daemon::create(opts);
    if (!daemon) {
        std::fprintf(stderr, "bulkheadd: error: %s\n", daemon.error().message().c_str());
        return 1;
    }
    std::thread waiter([d = daemon->get()] {
        (void)sys::wait_signal({SIGTERM, SIGINT, SIGHUP});
        d->stop();
    });
    auto r = (*daemon)->run();
    (*daemon)->stop(); // the loop can only end through stop(); joins nothing twice
    // The waiter may still be in sigwait: wake it.
    (void)sys::kill(::getpid(), SIGTERM);
    waiter.join();
    daemon->reset();
    if (!r) {
        std::fprintf(stderr, "bulkheadd: error: %s\n", r.error().message().c_str());
        return 1;
    }
    return 0;
}
