// Running one request from dom0 (MSG_EXEC_CMDLINE / MSG_JUST_EXEC), in a process the agent
// forked for it: connect the data vchan as client to (connect_domain, connect_port), start
// the command or service as its user, stream stdio as the qrexec EXECUTOR, report the exit code.
// Callers: the agent's control loop (after fork) and tests. Trusts the already-validated message.
#pragma once

#include <bulkhead/rpc/channel.h>
#include <bulkhead/rpc/xen/env_transport.h>

#include <chrono>
#include <string>
#include <vector>

namespace bulkhead::agent {

struct AgentConfig {
    rpc::DomainId own_domain = 0;
    bool xen_vchan = false;   // libxenvchan (BULKHEAD_VCHAN=xen), else the socket vchan
    std::string vchan_dir;    // VCHAN_SOCKET_DIR (socket vchan only)
    std::string agent_socket; // where qrexec-client-vm finds us
    std::vector<std::string> service_path;
    std::string rpc_config_dir = "/etc/qubes/rpc-config";
    std::string passwd_file = "/etc/passwd";
    std::string group_file = "/etc/group";
    // Matches the caller's HELLO wait (rpc::SessionOptions::hello_timeout): a guest under
    // emulation (the Xen e2e) can take seconds to set up its first data vchan.
    std::chrono::milliseconds connect_timeout{30000};
    // The template's GUI startup (a layer made by bulkhead-gui-layer): the agent runs it once
    // dom0's GUI socket appears in vchan_dir; while it exists, commands get DISPLAY=:0 and
    // wait (at most gui_wait) for x_socket once dom0 gave the GUI. Absent: no X (busybox).
    std::string gui_session = "/etc/bulkhead/gui-session";
    std::string x_socket = "/tmp/.X11-unix/X0";
    std::chrono::milliseconds gui_wait{15000};
    bool gui_ended = false; // set by the agent when its gui_session ended: nothing to wait for
};

enum class RequestKind { Exec, JustExec };

struct Request {
    RequestKind kind = RequestKind::Exec;
    rpc::DomainId connect_domain = 0;
    rpc::Port connect_port = 0;
    std::string user;
    std::string command; // "nogui:" still on it, as received
};

// The transport the agent and what it runs use.
inline rpc::TransportConfig transport_config(AgentConfig const& cfg) {
    return rpc::TransportConfig{cfg.xen_vchan, cfg.own_domain, cfg.vchan_dir};
}

// Runs the request to its end. Returns the exit status for the handler process: 0 when the
// session ran (whatever the command's own exit code), 1 when it could not (no data vchan).
int run_request(AgentConfig const& cfg, Request const& req);

// The environment a command gets (PATH, HOME, USER, SHELL, the vchan variables for
// qrexec-client-vm, QREXEC_AGENT_SOCKET, DISPLAY when the template has X), before any
// service variables.
std::vector<std::string> base_environment(AgentConfig const& cfg, std::string const& user,
                                          std::string const& home, std::string const& shell);

// The domain's GUI. Sandbox: dom0 serves vchan.0.<own>.6000.sock in the vchan directory when
// it gives the domain a GUI (bulkheadd --gui-display); gui_socket_path is "" on Xen. Xen: dom0
// is a libxenvchan server for the domain on port 6000 (its ring-ref readable in xenstore).
inline constexpr uint32_t gui_port = 6000; // bulkhead-gui-agent's and Qubes' GUI vchan port
inline constexpr char const* gui_display = ":0";
std::string gui_socket_path(AgentConfig const& cfg);
// Whether dom0 gives this domain a GUI now (its socket or its vchan server is there).
bool gui_offered(AgentConfig const& cfg);
// The template has X: its gui_session is an executable file.
bool template_has_gui(AgentConfig const& cfg);
// In a command's process, before it starts: when dom0 gave a GUI, the template has X and its
// session has not ended,
// waits until the X server listens (cfg.x_socket) or cfg.gui_wait passes, so that
// `qvm-start work; qvm-run work xmessage hi` finds its display. Returns whether it listens.
bool wait_for_display(AgentConfig const& cfg);

} // namespace bulkhead::agent
