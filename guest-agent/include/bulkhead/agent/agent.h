// Agent: the guest's qrexec endpoint and PID 1 of a sandbox domain. One event loop:
//  - control vchan with dom0: vchan SERVER on port 512 for peer 0, HELLO, then
//    MSG_EXEC_CMDLINE / MSG_JUST_EXEC (each run by a forked handler, see request.h; when the
//    handler ends, MSG_CONNECTION_TERMINATED{connect_domain, connect_port} goes to dom0) and
//    MSG_SERVICE_CONNECT / MSG_SERVICE_REFUSED (passed to the waiting qrexec-client-vm). A bad
//    frame or EOF closes the connection and the agent listens again for dom0.
//  - the local agent socket for qrexec-client-vm (protocol in local_protocol.h): its trigger
//    goes to dom0 as MSG_TRIGGER_SERVICE3 with an ident made here.
//  - signals: SIGCHLD reaps every child (PID 1 / subreaper), SIGTERM stops children, exits 0.
//  - the GUI (socket vchan): an inotify watch on the vchan directory. When dom0's GUI socket
//    (vchan.0.<own id>.6000.sock, bulkheadd --gui-display) appears, the template's
//    cfg.gui_session runs once (as root, its own session: the domain's X server on :0 and
//    bulkhead-gui-agent); a template without it gets an error in the log. Commands get
//    DISPLAY=:0 in a template with X (see request.h).
// Trusts nothing from dom0 or local clients that the qrexec validator has not passed.
#pragma once

#include <bulkhead/agent/request.h>
#include <bulkhead/base/result.h>

#include <memory>

namespace bulkhead::agent {

class Agent {
public:
    static Result<std::unique_ptr<Agent>> create(AgentConfig cfg);
    ~Agent();
    // Serves until SIGTERM (then returns 0) or a fatal error.
    Result<int> run();

    struct State;

private:
    explicit Agent(std::unique_ptr<State> state);
    std::unique_ptr<State> m_state;
};

} // namespace bulkhead::agent
