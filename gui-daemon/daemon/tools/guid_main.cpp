// bulkhead-guid [--display :N] [--notice-file PATH] [--policy-dir DIR]... --domain
// NAME:LABEL:SOCKET ...: dom0's GUI daemon (notices for dom0's tray go to PATH, normally
// $BULKHEAD_ROOT/run/clipboard-notice; Ctrl+Shift+V asks qubes.ClipboardPaste in the qrexec
// policy of the DIRs, default /etc/qubes/policy.d, as bulkheadd does; --clipboard-max-bytes N:
// a domain's clipboard over N bytes, default 64,000, is refused as too large). For
// each domain, dom0 names the label (red, orange, yellow, green, gray, blue, purple, black) and the
// socket path it listens on, which must be reachable by that domain only (its vchan directory:
// <vchan dir>/vchan.0.<id>.6000.sock). Runs until SIGTERM/SIGINT or dom0's X server goes away.
#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>
#include <bulkhead/dom0/store/domain_record.h>
#include <bulkhead/gui/daemon/gui_daemon.h>
#include <bulkhead/rpc/gui/limits.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>
#include <sys/signalfd.h>
#include <unistd.h>

using namespace bulkhead;

namespace {

int usage() {
    std::fprintf(stderr,
                 "usage: bulkhead-guid [--display :N] [--notice-file PATH] [--control-fd N]\n"
                 "                     [--policy-dir DIR]... [--clipboard-max-bytes N]\n"
                 "                     [--domain NAME:LABEL:SOCKET ...]\n");
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    gui::daemon::GuiDaemonOptions o;
    o.policy_dirs.clear();
    int control_fd = -1;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--display" && i + 1 < argc) {
            o.display = argv[++i];
        } else if (a == "--control-fd" && i + 1 < argc) {
            control_fd = std::atoi(argv[++i]);
            if (control_fd < 3)
                return usage();
        } else if (a == "--clipboard-max-bytes" && i + 1 < argc) {
            // Below the protocol's cap, so a clipboard the gui-agent had to cut is refused.
            auto n = text::parse_u64(argv[++i]);
            if (!n || *n == 0 || *n >= rpc::gui::Limits{}.max_clipboard) {
                std::fprintf(stderr, "bulkhead-guid: --clipboard-max-bytes: 1 to %zu\n",
                             rpc::gui::Limits{}.max_clipboard - 1);
                return 2;
            }
            o.config.clipboard_max_bytes = size_t(*n);
        } else if (a == "--policy-dir" && i + 1 < argc) {
            o.policy_dirs.push_back(argv[++i]);
        } else if (a == "--notice-file" && i + 1 < argc) {
            o.notice_file = argv[++i];
        } else if (a == "--domain" && i + 1 < argc) {
            std::string v = argv[++i];
            auto c1 = v.find(':');
            auto c2 = c1 == std::string::npos ? c1 : v.find(':', c1 + 1);
            if (c2 == std::string::npos)
                return usage();
            auto label = dom0::find_label(std::string_view(v).substr(c1 + 1, c2 - c1 - 1));
            if (!label || c1 == 0 || c2 + 1 == v.size()) {
                std::fprintf(stderr, "bulkhead-guid: bad --domain '%s'\n", v.c_str());
                return 2;
            }
            o.domains.push_back(
                {v.substr(0, c1), {std::string(label->name), label->color}, v.substr(c2 + 1)});
        } else {
            return usage();
        }
    }
    if (o.domains.empty() && control_fd < 0)
        return usage();
    if (o.policy_dirs.empty())
        o.policy_dirs.push_back("/etc/qubes/policy.d");
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    // Each window's memfd stays open (XShm attaches it): up to the per-domain window cap each.
    (void)sys::raise_fd_limit();
    auto d = gui::daemon::GuiDaemon::create(o);
    if (!d) {
        std::fprintf(stderr, "bulkhead-guid: %s\n", d.error().message().c_str());
        return 1;
    }
    if (control_fd >= 0) {
        if (auto r = (*d)->watch_control(UniqueFd(control_fd)); !r) {
            std::fprintf(stderr, "bulkhead-guid: %s\n", r.error().message().c_str());
            return 1;
        }
    }
    UniqueFd sfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sfd ||
        !(*d)->loop().watch(sfd.get(), EventLoop::Readable, [&](uint32_t) { (*d)->stop(); })) {
        std::fprintf(stderr, "bulkhead-guid: signalfd failed\n");
        return 1;
    }
    if (auto r = (*d)->run(); !r) {
        std::fprintf(stderr, "bulkhead-guid: %s\n", r.error().message().c_str());
        return 1;
    }
    return 0;
}
