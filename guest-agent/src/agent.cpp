#include <bulkhead/agent/agent.h>

#include <bulkhead/agent/local_protocol.h>
#include <bulkhead/agent/posix.h>
#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/qrexec/frame_writer.h>
#include <bulkhead/rpc/socket_vchan.h>
#include <bulkhead/rpc/xen/env_transport.h>

#include <csignal>
#include <functional>
#include <map>
#include <sys/inotify.h>
#include <thread>
#include <unistd.h>

namespace bulkhead::agent {

namespace {

Logger const log("agent");

using namespace rpc::qrexec;

// A qrexec-client-vm waiting for dom0's answer to its trigger.
struct Client {
    std::unique_ptr<rpc::SocketChannel> ch;
    FrameReader reader{Expect::FromAgent};
    FrameWriter writer;
    std::string ident; // set once its trigger went to dom0
};

struct Handler {
    rpc::DomainId domain;
    rpc::Port port;
};

} // namespace

struct Agent::State {
    AgentConfig cfg;
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<rpc::Transport> transport;
    UniqueFd signals;
    UniqueFd agent_socket;
    // Control connection with dom0.
    std::unique_ptr<rpc::Listener> listener;
    std::unique_ptr<rpc::Channel> control;
    std::optional<FrameReader> reader;
    FrameWriter writer;
    bool control_ready = false; // dom0's HELLO arrived
    std::map<pid_t, Handler> handlers;
    std::map<int, Client> clients;      // by socket fd
    std::map<std::string, int> pending; // ident → client fd
    uint64_t next_ident = 1;
    bool stopping = false;
    // The domain's GUI: an inotify watch on the vchan directory until dom0's GUI socket is
    // there (Xen: a poll of xenstore for dom0's GUI vchan), then the template's gui_session
    // (its X server and gui-agent).
    UniqueFd gui_watch;
    std::function<void()> gui_poll; // (Xen)
    pid_t gui_pid = -1;
    // A session that ends is started again (its X server kept), after gui_backoff: doubled
    // each time one ends within 10 s of its start, up to 30 s; 1 s after a longer one.
    std::chrono::steady_clock::time_point gui_started;
    std::chrono::milliseconds gui_backoff{500};

    State(AgentConfig c, std::unique_ptr<EventLoop> l)
        : cfg(std::move(c))
        , loop(std::move(l))
        , transport(rpc::make_transport(transport_config(cfg))) {}

    Result<void> listen_for_dom0();
    void on_listener();
    void on_control();
    void drop_control(std::string const& why);
    void flush_control();
    Result<void> dispatch(Message& msg);
    void start_request(Request req);
    void answer_client(std::string const& ident, Message const& answer);
    void on_agent_socket();
    void on_client(int fd);
    void drop_client(int fd);
    void on_signals();
    void reap();
    Result<void> watch_for_gui();
    void on_gui_watch();
    void start_gui();
};

Result<void> Agent::State::watch_for_gui() {
    if (cfg.xen_vchan) {
        // Xen: dom0's GUI vchan server appears in xenstore; looked for twice a second.
        gui_poll = [this] {
            if (gui_offered(cfg))
                return start_gui();
            loop->add_timer(std::chrono::milliseconds(500), gui_poll);
        };
        gui_poll();
        return {};
    }
    int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0)
        return Error::from_errno("inotify_init1", errno);
    gui_watch = UniqueFd(fd);
    if (::inotify_add_watch(fd, cfg.vchan_dir.c_str(), IN_CREATE | IN_MOVED_TO) < 0)
        return Error::from_errno("inotify_add_watch " + cfg.vchan_dir, errno);
    TRY(loop->watch(fd, EventLoop::Readable, [this](uint32_t) { on_gui_watch(); }));
    on_gui_watch(); // dom0 may have made it before the watch existed
    return {};
}

void Agent::State::on_gui_watch() {
    alignas(inotify_event) char buf[4096];
    while (::read(gui_watch.get(), buf, sizeof buf) > 0) {
    } // the names only say "something new": the socket's existence is what counts
    if (!gui_offered(cfg))
        return;
    loop->unwatch(gui_watch.get());
    gui_watch.reset();
    start_gui();
}

void Agent::State::start_gui() {
    if (!template_has_gui(cfg)) {
        LOG_ERROR(log, "dom0 gives this domain a GUI, but its template has no X server",
                  {"missing", cfg.gui_session});
        return;
    }
    sys::SpawnOptions o;
    o.argv = {cfg.gui_session};
    o.env = base_environment(cfg, "root", "/root", "/bin/sh");
    o.cwd = "/";
    auto null = sys::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null)
        o.fds = {{0, null->get()}, {1, 2}, {2, 2}};
    o.new_session = true;
    auto pid = sys::spawn(o);
    if (!pid) {
        cfg.gui_ended = true;
        LOG_ERROR(log, "cannot start the GUI session", {"program", cfg.gui_session},
                  {"error", pid.error().message()});
        return;
    }
    gui_pid = *pid;
    gui_started = sys::now();
    cfg.gui_ended = false;
    LOG_INFO(log, "GUI session started", {"program", cfg.gui_session}, {"pid", gui_pid});
}

Result<void> Agent::State::listen_for_dom0() {
    listener = TRY(transport->listen(0, vchan_base_port));
    TRY(loop->watch(listener->readiness_fd(), EventLoop::Readable,
                    [this](uint32_t) { on_listener(); }));
    return {};
}

void Agent::State::on_listener() {
    int const listen_fd = listener->readiness_fd(); // accept() closes it
    auto ch = listener->accept();
    if (!ch) {
        LOG_ERROR(log, "control accept", {"error", ch.error().message()});
        return;
    }
    if (!*ch)
        return;
    loop->unwatch(listen_fd);
    listener.reset();
    control = std::move(*ch);
    reader.emplace(Expect::FromDaemon);
    writer = FrameWriter();
    control_ready = false;
    (void)writer.push(Hello{});
    auto w = loop->watch(control->readiness_fd(), control->watch_events(rpc::WantWrite::Yes),
                         [this](uint32_t) { on_control(); });
    if (!w) {
        drop_control(w.error().message());
        return;
    }
    LOG_INFO(log, "dom0 connected");
    // dom0's HELLO (and more) may be in the ring already, its notification merged into the
    // connect's one that accept() consumed: on an event channel nothing would wake us for it,
    // and dom0 (no read from us, so no new notify request) would never notify again.
    on_control();
}

void Agent::State::drop_control(std::string const& why) {
    LOG_WARN(log, "control connection closed", {"why", why});
    if (control) {
        loop->unwatch(control->readiness_fd());
        control.reset();
    }
    reader.reset();
    control_ready = false;
    // Nobody will answer the waiting clients now.
    auto waiting = pending;
    for (auto const& [ident, fd] : waiting)
        answer_client(ident, ServiceRefused{ident});
    if (!stopping) {
        auto r = listen_for_dom0();
        if (!r)
            LOG_ERROR(log, "cannot listen for dom0", {"error", r.error().message()});
    }
}

void Agent::State::flush_control() {
    if (!control)
        return;
    auto r = writer.flush(*control);
    if (!r) {
        drop_control(r.error().message());
        return;
    }
    auto want = writer.pending() ? rpc::WantWrite::Yes : rpc::WantWrite::No;
    (void)loop->modify(control->readiness_fd(), control->watch_events(want));
}

void Agent::State::on_control() {
    if (!control)
        return;
    if (auto a = control->acknowledge(); !a)
        return drop_control(a.error().message());
    for (;;) {
        auto msg = reader->next(*control);
        if (!msg)
            return drop_control(msg.error().message());
        if (!*msg)
            break;
        if (auto d = dispatch((*msg)->message); !d)
            return drop_control(d.error().message());
        if (!control)
            return;
    }
    flush_control();
}

Result<void> Agent::State::dispatch(Message& msg) {
    if (std::holds_alternative<Hello>(msg)) {
        writer.set_version(reader->version());
        control_ready = true;
        return {};
    }
    if (auto* e = std::get_if<ExecCmdline>(&msg)) {
        start_request(Request{RequestKind::Exec, e->connect_domain, e->connect_port,
                              std::move(e->user), std::move(e->command)});
    } else if (auto* j = std::get_if<JustExec>(&msg)) {
        start_request(Request{RequestKind::JustExec, j->connect_domain, j->connect_port,
                              std::move(j->user), std::move(j->command)});
    } else if (auto* c = std::get_if<ServiceConnect>(&msg)) {
        answer_client(c->ident, *c);
    } else if (auto* r = std::get_if<ServiceRefused>(&msg)) {
        answer_client(r->ident, *r);
    } else {
        return unexpected(Errc::Protocol, "unexpected message from dom0");
    }
    return {};
}

void Agent::State::start_request(Request req) {
    pid_t pid = ::fork();
    if (pid < 0) {
        LOG_ERROR(log, "fork", {"error", Error::from_errno("fork", errno).message()});
        (void)writer.push(ConnectionTerminated{req.connect_domain, req.connect_port});
        return;
    }
    if (pid == 0) {
        // The handler: its own process group (so SIGTERM reaches its command), none of the
        // agent's descriptors, default signals.
        posix::reset_signals();
        ::setpgid(0, 0);
        posix::close_from(3);
        ::_exit(run_request(cfg, req));
    }
    ::setpgid(pid, pid);
    handlers[pid] = Handler{req.connect_domain, req.connect_port};
    LOG_DEBUG(log, "request", {"pid", pid}, {"user", req.user}, {"command", req.command});
}

void Agent::State::answer_client(std::string const& ident, Message const& answer) {
    auto it = pending.find(ident);
    if (it == pending.end()) {
        LOG_WARN(log, "answer for an unknown request", {"ident", ident});
        return;
    }
    int fd = it->second;
    pending.erase(it);
    auto c = clients.find(fd);
    if (c == clients.end())
        return;
    if (c->second.writer.push(answer))
        (void)c->second.writer.flush(*c->second.ch); // ~50 bytes into an empty socket buffer
    drop_client(fd);
}

void Agent::State::on_agent_socket() {
    for (;;) {
        auto fd = sys::accept(agent_socket.get(), SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (!fd || !*fd)
            return;
        int raw = fd->get();
        Client c;
        c.ch = std::make_unique<rpc::SocketChannel>(std::move(*fd), cfg.own_domain, 0);
        (void)c.writer.push(Hello{});
        (void)c.writer.flush(*c.ch);
        clients.emplace(raw, std::move(c));
        if (!loop->watch(raw, EventLoop::Readable, [this, raw](uint32_t) { on_client(raw); }))
            drop_client(raw);
    }
}

void Agent::State::on_client(int fd) {
    auto it = clients.find(fd);
    if (it == clients.end())
        return;
    Client& c = it->second;
    for (;;) {
        auto msg = c.reader.next(*c.ch);
        if (!msg)
            return drop_client(fd); // gone or malformed
        if (!*msg)
            return;
        auto& m = (*msg)->message;
        if (std::holds_alternative<Hello>(m))
            continue;
        auto* t = std::get_if<TriggerService3>(&m);
        if (!t || !c.ident.empty())
            return drop_client(fd);
        c.ident = "a" + std::to_string(next_ident++);
        pending[c.ident] = fd;
        if (!control || !control_ready) {
            answer_client(c.ident, ServiceRefused{c.ident});
            return;
        }
        LOG_DEBUG(log, "trigger", {"target", t->target_domain}, {"service", t->service_name});
        if (auto p = writer.push(TriggerService3{t->target_domain, c.ident, t->service_name}); !p)
            return answer_client(c.ident, ServiceRefused{c.ident});
        flush_control();
        return;
    }
}

void Agent::State::drop_client(int fd) {
    auto it = clients.find(fd);
    if (it == clients.end())
        return;
    if (!it->second.ident.empty())
        pending.erase(it->second.ident);
    loop->unwatch(fd);
    clients.erase(it);
}

void Agent::State::reap() {
    for (;;) {
        auto r = posix::reap_any();
        if (!r || !*r)
            return;
        if ((*r)->pid == gui_pid) {
            gui_pid = -1;
            cfg.gui_ended = true;
            using namespace std::chrono_literals;
            gui_backoff = sys::now() - gui_started > 10s
                              ? std::chrono::milliseconds(1s)
                              : std::min<std::chrono::milliseconds>(gui_backoff * 2, 30s);
            LOG_WARN(log, "GUI session ended; started again once dom0 offers a GUI",
                     {"program", cfg.gui_session}, {"status", (*r)->status.code},
                     {"after_ms", gui_backoff.count()});
            loop->add_timer(gui_backoff, [this] {
                if (auto w = watch_for_gui(); !w)
                    LOG_ERROR(log, "cannot watch for dom0's GUI", {"error", w.error().message()});
            });
            continue;
        }
        auto h = handlers.find((*r)->pid);
        if (h == handlers.end())
            continue; // an orphan we inherited, or a JUST_EXEC command
        auto [domain, port] = h->second;
        handlers.erase(h);
        if (control && control_ready) {
            (void)writer.push(ConnectionTerminated{domain, port});
            flush_control();
        }
    }
}

void Agent::State::on_signals() {
    for (;;) {
        auto s = posix::read_signal(signals.get());
        if (!s || !*s)
            return;
        if (**s == SIGCHLD)
            reap();
        else if (**s == SIGTERM || **s == SIGINT) {
            stopping = true;
            loop->stop();
        }
    }
}

Agent::Agent(std::unique_ptr<State> state)
    : m_state(std::move(state)) {}
Agent::~Agent() = default;

Result<std::unique_ptr<Agent>> Agent::create(AgentConfig cfg) {
    auto loop = TRY(EventLoop::create());
    auto st = std::make_unique<State>(std::move(cfg), std::move(loop));
    if (::getpid() != 1)
        (void)posix::become_subreaper(); // orphans come back to us, as to PID 1
    st->signals = TRY(posix::signal_fd({SIGCHLD, SIGTERM, SIGINT}));
    auto const& path = st->cfg.agent_socket;
    if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0)
        TRY(sys::mkdir_p(path.substr(0, slash), 0755));
    st->agent_socket = TRY(sys::unix_listen(path, 128, SOCK_CLOEXEC | SOCK_NONBLOCK));
    TRY(sys::chmod(path, 0666));
    if (!st->cfg.xen_vchan)
        TRY(sys::mkdir_p(st->cfg.vchan_dir, 0755));
    return std::unique_ptr<Agent>(new Agent(std::move(st)));
}

Result<int> Agent::run() {
    State& s = *m_state;
    TRY(s.loop->watch(s.signals.get(), EventLoop::Readable, [&s](uint32_t) { s.on_signals(); }));
    TRY(s.loop->watch(s.agent_socket.get(), EventLoop::Readable,
                      [&s](uint32_t) { s.on_agent_socket(); }));
    TRY(s.listen_for_dom0());
    if (auto r = s.watch_for_gui(); !r)
        LOG_ERROR(log, "cannot watch for dom0's GUI socket", {"error", r.error().message()});
    LOG_INFO(log, "agent ready", {"domain", s.cfg.own_domain},
             {"vchan", s.cfg.xen_vchan ? std::string("xen") : s.cfg.vchan_dir});
    s.reap(); // anything that ended before the signalfd existed
    TRY(s.loop->run());
    // SIGTERM: stop every request (its whole process group), then wait a little for them.
    if (::getpid() == 1)
        (void)sys::kill(-1, SIGTERM);
    for (auto const& [pid, h] : s.handlers)
        (void)sys::kill(-pid, SIGTERM);
    auto const deadline = sys::now() + std::chrono::seconds(3);
    for (;;) {
        auto r = posix::reap_any();
        if (r && *r) {
            s.handlers.erase((*r)->pid);
            continue;
        }
        if (s.handlers.empty() || sys::now() >= deadline)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto const& [pid, h] : s.handlers)
        (void)sys::kill(-pid, SIGKILL);
    (void)sys::unlink(s.cfg.agent_socket);
    LOG_INFO(log, "agent stopped");
    return 0;
}

} // namespace bulkhead::agent
