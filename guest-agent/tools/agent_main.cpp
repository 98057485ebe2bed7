// bulkhead-agent: the guest's qrexec agent (PID 1 of a sandbox domain). See agent.h.
//   VCHAN_DOMAIN + VCHAN_SOCKET_DIR (socket vchan) or BULKHEAD_VCHAN=xen (libxenvchan),
//   QREXEC_SERVICE_PATH from the environment;
//   --agent-socket PATH (default /var/run/qubes/qrexec-agent); --passwd FILE, --group FILE and
//   --rpc-config-dir DIR for tests; --gui-session PATH (default /etc/bulkhead/gui-session: run
//   when dom0's GUI socket appears; "" = never) and --x-socket PATH (default
//   /tmp/.X11-unix/X0: the X server commands wait for) for tests.
#include <bulkhead/agent/agent.h>
#include <bulkhead/agent/local_protocol.h>
#include <bulkhead/agent/service.h>
#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>
#include <bulkhead/rpc/xen/env_transport.h>

#include <arpa/inet.h>
#include <cstdio>
#include <string>
#include <string_view>
#include <unistd.h>

using namespace bulkhead;

namespace {

// dom0's DNS servers for this domain (the virtual pair its netvm answers, as Qubes' qubesdb
// /qubes-primary-dns), written once at start; only as a domain's PID 1 (sandbox), never
// when the agent runs on a host.
void write_resolv_conf(Logger const& log) {
    auto dns = sys::getenv("BULKHEAD_DNS");
    if (!dns || ::getpid() != 1)
        return;
    std::string conf;
    for (auto const& ns : text::split_ws(*dns)) {
        in_addr a{};
        if (::inet_pton(AF_INET, ns.c_str(), &a) == 1)
            conf += "nameserver " + ns + "\n";
    }
    if (conf.empty())
        return;
    if (auto r = sys::write_file_atomic("/etc/resolv.conf", conf, 0644); !r)
        LOG_WARN(log, "cannot write /etc/resolv.conf", {"error", r.error().message()});
}

int usage() {
    std::fprintf(
        stderr,
        "usage: bulkhead-agent [--agent-socket PATH] [--passwd FILE] "
        "[--group FILE] [--rpc-config-dir DIR] [--gui-session PATH]\n"
        "environment: VCHAN_DOMAIN, VCHAN_SOCKET_DIR or BULKHEAD_VCHAN=xen, QREXEC_SERVICE_PATH\n");
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    Logger const log("agent");
    agent::AgentConfig cfg;
    cfg.agent_socket = std::string(agent::default_agent_socket);
    cfg.rpc_config_dir = std::string(agent::default_rpc_config_dir);
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        std::string* target = nullptr;
        std::string_view name;
        for (auto [opt, field] :
             {std::pair{std::string_view("--agent-socket"), &cfg.agent_socket},
              std::pair{std::string_view("--passwd"), &cfg.passwd_file},
              std::pair{std::string_view("--group"), &cfg.group_file},
              std::pair{std::string_view("--rpc-config-dir"), &cfg.rpc_config_dir},
              std::pair{std::string_view("--gui-session"), &cfg.gui_session},
              std::pair{std::string_view("--x-socket"), &cfg.x_socket}}) {
            if (a == opt ||
                (a.size() > opt.size() && a.substr(0, opt.size()) == opt && a[opt.size()] == '=')) {
                target = field;
                name = opt;
            }
        }
        if (!target)
            return usage();
        if (a.size() > name.size()) {
            *target = std::string(a.substr(name.size() + 1));
        } else {
            if (i + 1 >= argc)
                return usage();
            *target = argv[++i];
        }
    }
    write_resolv_conf(log);
    auto transport = rpc::transport_config_from_env();
    if (!transport) {
        LOG_ERROR(log, "bad environment", {"error", transport.error().message()});
        return 2;
    }
    cfg.own_domain = transport->local;
    cfg.xen_vchan = transport->xen;
    cfg.vchan_dir = transport->socket_dir;
    cfg.service_path = agent::split_search_path(
        sys::getenv_or("QREXEC_SERVICE_PATH", std::string(agent::default_service_path)));
    auto a = agent::Agent::create(cfg);
    if (!a) {
        LOG_ERROR(log, "cannot start", {"error", a.error().message()});
        return 1;
    }
    auto r = (*a)->run();
    if (!r) {
        LOG_ERROR(log, "event loop failed", {"error", r.error().message()});
        return 1;
    }
    return *r;
}
