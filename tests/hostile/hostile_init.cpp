// hostile-init: PID 1 of every domain in the hostile suite, installed as `bulkhead-agent` in
// the suite's own --agent-dir. A domain whose name starts with "hostile" gets a silent init
// that writes its domain id to /run/qubes-vchan/hostile-init.id and waits: the test (on the
// host) then plays that domain's agent on the domain's control vchan, with bytes of its
// choosing. Every other domain runs the real agent (the same library bulkhead-agent links,
// with bulkhead-agent's defaults).
#include <bulkhead/agent/agent.h>
#include <bulkhead/agent/local_protocol.h>
#include <bulkhead/agent/service.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/rpc/socket_vchan.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <sys/wait.h>

using namespace bulkhead;

namespace {

// Reaps children and waits for SIGTERM/SIGINT; the test owns the control vchan.
int silent_init(std::string const& vchan_dir, rpc::DomainId id) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGCHLD})
        sigaddset(&set, s);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    if (!sys::write_file_atomic(vchan_dir + "/hostile-init.id", std::to_string(id) + "\n", 0644))
        return 1;
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            return 1;
        if (sig == SIGCHLD) {
            while (::waitpid(-1, nullptr, WNOHANG) > 0) {
            }
            continue;
        }
        return 0;
    }
}

} // namespace

int main() {
    auto transport = rpc::SocketTransport::from_env();
    if (!transport) {
        std::fprintf(stderr, "hostile-init: %s\n", transport.error().message().c_str());
        return 2;
    }
    if (sys::getenv_or("BULKHEAD_DOMAIN", "").rfind("hostile", 0) == 0)
        return silent_init(transport->dir(), transport->local_domain());
    agent::AgentConfig cfg;
    cfg.agent_socket = std::string(agent::default_agent_socket);
    cfg.rpc_config_dir = std::string(agent::default_rpc_config_dir);
    cfg.own_domain = transport->local_domain();
    cfg.vchan_dir = transport->dir();
    cfg.service_path = agent::split_search_path(
        sys::getenv_or("QREXEC_SERVICE_PATH", std::string(agent::default_service_path)));
    auto a = agent::Agent::create(cfg);
    if (!a) {
        std::fprintf(stderr, "hostile-init: %s\n", a.error().message().c_str());
        return 1;
    }
    auto r = (*a)->run();
    return r ? *r : 1;
}
