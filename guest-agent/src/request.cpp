#include <bulkhead/agent/request.h>

#include <bulkhead/agent/passwd.h>
#include <bulkhead/agent/posix.h>
#include <bulkhead/agent/service.h>
#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/qrexec/protocol.h>
#include <bulkhead/rpc/session/session.h>
#include <bulkhead/rpc/socket_vchan.h>
#include <bulkhead/rpc/xen/xen_vchan.h>

#include <cerrno>
#include <unistd.h>

namespace bulkhead::agent {

namespace {

Logger const log("agent");

using rpc::qrexec::exit_problem;
using rpc::qrexec::exit_request_refused;
using rpc::qrexec::exit_service_not_found;

struct Plan {
    posix::Command cmd;
    UniqueFd socket; // a socket service: stream to this instead of a process
};

// What to run, or the exit code and message to report instead.
struct Refusal {
    int code;
    std::string message;
};

Result<Plan> plan_service(AgentConfig const& cfg, ServiceCall const& call, Plan plan,
                          Refusal& refusal) {
    auto file = TRY(find_service(cfg.service_path, call));
    if (!file) {
        refusal = {exit_service_not_found, "Service " + call.full_name() + " not found\n"};
        return unexpected(Errc::NotFound, "service not found");
    }
    auto options = load_service_config(cfg.rpc_config_dir, call);
    if (file->kind == ServiceFile::Kind::Socket) {
        auto sock = sys::unix_connect(file->path);
        if (!sock) {
            refusal = {exit_problem, "Service " + call.full_name() + " is not listening\n"};
            return std::move(sock).error();
        }
        if (!options.skip_service_descriptor) {
            std::string header = call.full_name() + " " + call.source;
            header.push_back('\0');
            TRY(sys::write_all(sock->get(), header));
        }
        plan.socket = std::move(*sock);
        return plan;
    }
    if (file->kind == ServiceFile::Kind::Executable)
        plan.cmd.argv = {file->path};
    else
        plan.cmd.argv = {"/bin/sh", file->path};
    if (file->pass_arg)
        plan.cmd.argv.push_back(call.arg);
    plan.cmd.env.push_back("QREXEC_REMOTE_DOMAIN=" + call.source);
    plan.cmd.env.push_back("QREXEC_SERVICE_FULL_NAME=" + call.full_name());
    if (!call.arg.empty())
        plan.cmd.env.push_back("QREXEC_SERVICE_ARGUMENT=" + call.arg);
    plan.cmd.env.push_back("QREXEC_AGENT_PID=" + std::to_string(::getppid()));
    return plan;
}

Result<Plan> plan_request(AgentConfig const& cfg, Request const& req, Refusal& refusal) {
    auto user = TRY(lookup_user(req.user, cfg.passwd_file));
    if (!user) {
        refusal = {exit_request_refused, "User " + req.user + " does not exist\n"};
        return unexpected(Errc::NotFound, "unknown user");
    }
    Plan plan;
    plan.cmd.user = *user;
    plan.cmd.groups = lookup_groups(user->name, cfg.group_file);
    plan.cmd.groups.insert(plan.cmd.groups.begin(), user->gid);
    plan.cmd.cwd = user->home;
    plan.cmd.env = base_environment(cfg, user->name, user->home, user->shell);
    std::string command(strip_nogui(req.command));
    auto call = parse_service_call(command);
    if (!call) {
        refusal = {exit_service_not_found, "Malformed service request\n"};
        return std::move(call).error();
    }
    if (*call)
        return plan_service(cfg, **call, std::move(plan), refusal);
    // A command (not a service, not "nogui:") right after qvm-start: X may still be starting.
    if (command.size() == req.command.size())
        (void)wait_for_display(cfg);
    plan.cmd.argv = {"/bin/sh", "-c", command};
    return plan;
}

Result<void> run_session(rpc::Channel& ch, AgentConfig const& cfg, Request const& req) {
    Refusal refusal{exit_problem, "Request failed\n"};
    auto plan = plan_request(cfg, req, refusal);
    if (!plan) {
        LOG_WARN(log, "request refused", {"user", req.user}, {"why", plan.error().message()});
        return rpc::session::run_failed(ch, refusal.code, refusal.message);
    }
    rpc::session::ExecutorIo io;
    if (plan->socket) {
        io.stdin_fd = TRY(sys::dup(plan->socket.get()));
        io.stdout_fd = std::move(plan->socket);
        TRY(rpc::session::run_executor(ch, std::move(io)));
        return {};
    }
    auto [in_r, in_w] = TRY(sys::pipe(O_CLOEXEC));
    auto [out_r, out_w] = TRY(sys::pipe(O_CLOEXEC));
    auto [err_r, err_w] = TRY(sys::pipe(O_CLOEXEC));
    plan->cmd.fds = {{0, in_r.get()}, {1, out_w.get()}, {2, err_w.get()}};
    auto pid = posix::spawn_as(plan->cmd);
    if (!pid) {
        int code = pid.error().sys_errno() == ENOENT ? exit_service_not_found : 126;
        return rpc::session::run_failed(ch, code, pid.error().message() + "\n");
    }
    in_r.reset();
    out_w.reset();
    err_w.reset();
    io.stdin_fd = std::move(in_w);
    io.stdout_fd = std::move(out_r);
    io.stderr_fd = std::move(err_r);
    io.pid = *pid;
    TRY(rpc::session::run_executor(ch, std::move(io)));
    return {};
}

int run_just_exec(AgentConfig const& cfg, Request const& req) {
    Refusal refusal{exit_problem, ""};
    auto plan = plan_request(cfg, req, refusal);
    if (!plan) {
        LOG_WARN(log, "request refused", {"user", req.user}, {"why", plan.error().message()});
        return 0;
    }
    if (plan->socket)
        return 0; // a socket service without streams: connecting was all there was to do
    auto null = sys::open("/dev/null", O_RDWR);
    if (!null) {
        LOG_ERROR(log, "no /dev/null", {"error", null.error().message()});
        return 1;
    }
    plan->cmd.fds = {{0, null->get()}, {1, null->get()}, {2, null->get()}};
    auto pid = posix::spawn_as(plan->cmd);
    if (!pid)
        LOG_WARN(log, "exec failed", {"error", pid.error().message()});
    return 0; // the command runs on; the agent (subreaper or PID 1) reaps it
}

} // namespace

std::vector<std::string> base_environment(AgentConfig const& cfg, std::string const& user,
                                          std::string const& home, std::string const& shell) {
    std::vector<std::string> env{
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=" + home,
        "USER=" + user,
        "LOGNAME=" + user,
        "SHELL=" + shell,
        "QREXEC_AGENT_SOCKET=" + cfg.agent_socket,
    };
    for (auto& e : rpc::transport_environment(transport_config(cfg)))
        env.push_back(std::move(e));
    if (template_has_gui(cfg))
        env.push_back(std::string("DISPLAY=") + gui_display);
    return env;
}

std::string gui_socket_path(AgentConfig const& cfg) {
    if (cfg.xen_vchan)
        return {};
    return rpc::SocketTransport::socket_path(cfg.vchan_dir, 0, cfg.own_domain, gui_port);
}

bool template_has_gui(AgentConfig const& cfg) {
    return !cfg.gui_session.empty() && ::access(cfg.gui_session.c_str(), X_OK) == 0;
}

bool gui_offered(AgentConfig const& cfg) {
    if (cfg.xen_vchan)
        return rpc::XenTransport::server_published(0, cfg.own_domain, gui_port);
    return sys::exists(gui_socket_path(cfg));
}

bool wait_for_display(AgentConfig const& cfg) {
    if (cfg.gui_ended || !template_has_gui(cfg) || !gui_offered(cfg))
        return false;
    auto const deadline = sys::now() + cfg.gui_wait;
    for (;;) {
        if (auto st = sys::stat(cfg.x_socket); st && S_ISSOCK(st->st_mode))
            return true;
        if (sys::now() >= deadline) {
            LOG_WARN(log, "the domain's X server is not up", {"socket", cfg.x_socket});
            return false;
        }
        ::usleep(20000);
    }
}

int run_request(AgentConfig const& cfg, Request const& req) {
    if (req.kind == RequestKind::JustExec)
        return run_just_exec(cfg, req);
    auto transport = rpc::make_transport(transport_config(cfg));
    auto ch = transport->connect(req.connect_domain, req.connect_port, cfg.connect_timeout);
    if (!ch) {
        LOG_ERROR(log, "data vchan", {"domain", req.connect_domain}, {"port", req.connect_port},
                  {"error", ch.error().message()});
        return 1;
    }
    auto r = run_session(**ch, cfg, req);
    if (!r) {
        LOG_WARN(log, "data session ended early", {"domain", req.connect_domain},
                 {"port", req.connect_port}, {"error", r.error().message()});
        return 1;
    }
    return 0;
}

} // namespace bulkhead::agent
