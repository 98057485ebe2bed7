// qrexec-client-vm TARGET SERVICE[+ARG] [LOCAL_PROGRAM [ARGS...]]: calls a service in another
// domain through the agent (protocol in local_protocol.h). On MSG_SERVICE_CONNECT it is the
// vchan SERVER for (connect_domain, connect_port) and the qrexec CALLER with its own stdio (or
// LOCAL_PROGRAM's: remote stdout → its stdin, its stdout → remote stdin); exits with the remote
// exit code (LOCAL_PROGRAM's when there is one, as Qubes does), 126 when refused, 255 when the
// call broke. --agent-socket PATH, else
// QREXEC_AGENT_SOCKET, else /var/run/qubes/qrexec-agent; VCHAN_DOMAIN / VCHAN_SOCKET_DIR as the
// agent exports them.
#include <bulkhead/agent/local_protocol.h>
#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/qrexec/frame_writer.h>
#include <bulkhead/rpc/session/session.h>
#include <bulkhead/rpc/socket_vchan.h>
#include <bulkhead/rpc/xen/env_transport.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

using namespace bulkhead;
using namespace bulkhead::rpc;
using namespace bulkhead::rpc::qrexec;
using namespace std::chrono_literals;

namespace {

constexpr int exit_broken = 255;

UniqueFd dup_or_none(int fd) {
    auto d = sys::dup(fd);
    return d ? std::move(*d) : UniqueFd();
}

int fail(std::string const& what) {
    std::fprintf(stderr, "qrexec-client-vm: %s\n", what.c_str());
    return exit_broken;
}

int usage() {
    std::fprintf(stderr, "usage: qrexec-client-vm [--agent-socket PATH] TARGET SERVICE[+ARG] "
                         "[LOCAL_PROGRAM [ARGS...]]\n");
    return 2;
}

// Asks the agent to trigger the call; returns dom0's answer.
Result<Message> trigger(std::string const& socket_path, DomainId own, std::string const& target,
                        std::string const& service) {
    auto fd = TRY_CTX(sys::unix_connect(socket_path), "agent socket " + socket_path);
    TRY(sys::set_nonblocking(fd.get()));
    SocketChannel ch(std::move(fd), own, 0);
    FrameWriter w;
    TRY(w.push(Hello{}));
    TRY(w.push(TriggerService3{target, std::string(agent::client_ident_placeholder), service}));
    TRY(w.flush_all(ch, 10s));
    FrameReader r(Expect::FromDaemon);
    for (;;) {
        auto msg = TRY_CTX(r.next(ch), "agent answer");
        if (!msg) {
            TRY(wait_ready(ch, WantWrite::No, std::chrono::milliseconds(-1)));
            continue;
        }
        auto& m = msg->message;
        if (std::holds_alternative<ServiceConnect>(m) || std::holds_alternative<ServiceRefused>(m))
            return m;
        if (!std::holds_alternative<Hello>(m))
            return unexpected(Errc::Protocol, "unexpected answer from the agent");
    }
}

} // namespace

int main(int argc, char** argv) {
    std::string socket_path =
        sys::getenv_or("QREXEC_AGENT_SOCKET", std::string(agent::default_agent_socket));
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (args.empty() && a == "--agent-socket" && i + 1 < argc) {
            socket_path = argv[++i];
        } else if (args.empty() && a.substr(0, 15) == "--agent-socket=") {
            socket_path = std::string(a.substr(15));
        } else if (args.empty() && a == "--") {
            continue;
        } else if (args.empty() && !a.empty() && a[0] == '-') {
            return usage();
        } else {
            args.emplace_back(a);
        }
    }
    if (args.size() < 2)
        return usage();
    auto tcfg = transport_config_from_env();
    if (!tcfg)
        return fail(tcfg.error().message());
    auto transport = make_transport(*tcfg);
    auto answer = trigger(socket_path, transport->local_domain(), args[0], args[1]);
    if (!answer)
        return fail(answer.error().message());
    auto* connect = std::get_if<ServiceConnect>(&*answer);
    if (!connect) {
        std::fprintf(stderr, "Request refused\n");
        return exit_request_refused;
    }
    auto listener = transport->listen(connect->connect_domain, connect->connect_port);
    if (!listener)
        return fail(listener.error().message());
    auto ch = accept_wait(**listener, 120s);
    if (!ch)
        return fail("data vchan: " + ch.error().message());
    listener->reset();

    session::CallerIo io;
    io.stderr_fd = dup_or_none(2);
    pid_t local = -1;
    if (args.size() > 2) {
        auto to_prog = sys::pipe(O_CLOEXEC);   // remote stdout → program stdin
        auto from_prog = sys::pipe(O_CLOEXEC); // program stdout → remote stdin
        if (!to_prog || !from_prog)
            return fail("pipe failed");
        sys::SpawnOptions o;
        o.argv.assign(args.begin() + 2, args.end());
        o.fds = {{0, to_prog->first.get()}, {1, from_prog->second.get()}, {2, 2}};
        auto pid = sys::spawn(o);
        if (!pid)
            return fail(pid.error().message());
        local = *pid;
        io.stdout_fd = std::move(to_prog->second);
        io.stdin_fd = std::move(from_prog->first);
    } else {
        io.stdin_fd = dup_or_none(0);
        io.stdout_fd = dup_or_none(1);
    }
    auto code = session::run_caller(**ch, std::move(io));
    if (local > 0) { // its status is the answer (a packer knows whether the peer confirmed)
        auto st = sys::waitpid(local);
        if (!st)
            return fail(st.error().message());
        return st->code;
    }
    if (!code)
        return fail(code.error().message());
    return *code;
}
