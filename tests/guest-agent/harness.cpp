#include "harness.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/rpc/session/session.h>

#include <csignal>
#include <future>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace bulkhead::test {

using namespace std::chrono_literals;
using namespace rpc::qrexec;

namespace {

std::vector<std::string> environment_with(std::vector<std::string> const& extra) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string s(*e);
        bool replaced = false;
        for (auto const& x : extra)
            if (s.substr(0, s.find('=') + 1) == x.substr(0, x.find('=') + 1))
                replaced = true;
        if (!replaced)
            env.push_back(s);
    }
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
}

std::future<std::string> collect(UniqueFd fd) {
    return std::async(std::launch::async, [fd = std::move(fd)]() mutable {
        auto s = sys::read_to_end(fd.get(), 256u << 20);
        return s ? std::move(*s) : std::string("<read error>");
    });
}

std::thread feed(UniqueFd fd, std::string data) {
    return std::thread(
        [fd = std::move(fd), d = std::move(data)]() mutable { (void)sys::write_all(fd.get(), d); });
}

} // namespace

std::string bin_dir() {
    return sys::self_exe_dir().value() + "/..";
}

std::string write_script(std::string const& path, std::string const& body) {
    (void)sys::write_file_atomic(path, body, 0755);
    return path;
}

Domain::Domain()
    : root(sys::make_temp_dir("/tmp/bh-agent-").value()) {
    for (auto sub : {"/vchan", "/services", "/services-local", "/rpc-config"})
        (void)sys::mkdir(root + sub);
    (void)sys::write_file_atomic(root + "/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                                   "user:x:1000:1000:user:/nonexistent:/bin/sh\n");
    (void)sys::write_file_atomic(root + "/group", "root:x:0:\nuser:x:1000:\nextra:x:1234:user\n");
}

Domain::~Domain() {
    (void)sys::remove_tree(root);
}

AgentProcess::AgentProcess(Domain const& d, rpc::DomainId id, std::vector<std::string> const& extra)
    : m_socket(d.root + "/agent-" + std::to_string(id) + ".sock") {
    sys::SpawnOptions o;
    o.argv = {bin_dir() + "/bulkhead-agent",
              "--agent-socket",
              m_socket,
              "--passwd=" + d.root + "/passwd",
              "--group=" + d.root + "/group",
              "--rpc-config-dir=" + d.root + "/rpc-config"};
    o.argv.insert(o.argv.end(), extra.begin(), extra.end());
    o.env = environment_with({"VCHAN_DOMAIN=" + std::to_string(id), "VCHAN_SOCKET_DIR=" + d.vchan(),
                              "QREXEC_SERVICE_PATH=" + d.root + "/services-local:" + d.services()});
    auto null = sys::open("/dev/null", O_RDWR).value();
    o.fds = {{0, null.get()}, {1, 2}, {2, 2}};
    m_pid = sys::spawn(o).value();
}

AgentProcess::~AgentProcess() {
    if (m_pid > 0)
        terminate();
}

int AgentProcess::terminate() {
    if (m_pid <= 0)
        return -1;
    (void)sys::kill(m_pid, SIGTERM);
    for (int i = 0; i < 500; ++i) {
        auto st = sys::waitpid(m_pid, WNOHANG);
        if (st && st->code >= 0) {
            m_pid = -1;
            return st->code;
        }
        std::this_thread::sleep_for(10ms);
    }
    (void)sys::kill(m_pid, SIGKILL);
    auto st = sys::waitpid(m_pid);
    m_pid = -1;
    return st ? st->code + 1000 : -1;
}

Dom0::Dom0(Domain const& d, rpc::DomainId agent)
    : m_transport(d.vchan(), 0)
    , m_agent(agent) {}

void Dom0::connect() {
    m_ch = m_transport.connect(m_agent, vchan_base_port, 10s).value();
    m_reader.emplace(Expect::FromAgent);
    m_kept.clear();
    send(Hello{});
    auto hello = next(10s).value();
    if (!hello || !std::holds_alternative<Hello>(*hello))
        throw std::runtime_error("no HELLO from the agent");
}

void Dom0::send(Message const& m) {
    send_raw(FrameWriter::encode(m).value());
}

void Dom0::send_raw(std::vector<std::byte> const& bytes) {
    (void)write_all(*m_ch, bytes, 10s);
}

Result<std::optional<Message>> Dom0::next(std::chrono::milliseconds timeout) {
    if (!m_kept.empty()) {
        auto m = std::move(m_kept.front());
        m_kept.erase(m_kept.begin());
        return std::optional(std::move(m));
    }
    auto const deadline = sys::now() + timeout;
    for (;;) {
        auto m = TRY(m_reader->next(*m_ch));
        if (m)
            return std::optional(std::move(m->message));
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - sys::now());
        if (left.count() <= 0 || !TRY(wait_ready(*m_ch, rpc::WantWrite::No, left)))
            return std::optional<Message>();
    }
}

bool Dom0::wait_terminated(rpc::DomainId domain, rpc::Port port,
                           std::chrono::milliseconds timeout) {
    auto matches = [&](Message const& m) {
        auto* t = std::get_if<ConnectionTerminated>(&m);
        return t && t->domain == domain && t->port == port;
    };
    for (auto it = m_kept.begin(); it != m_kept.end(); ++it)
        if (matches(*it)) {
            m_kept.erase(it);
            return true;
        }
    auto kept = std::move(m_kept);
    m_kept.clear();
    auto const deadline = sys::now() + timeout;
    bool found = false;
    while (!found) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - sys::now());
        if (left.count() <= 0)
            break;
        auto m = next(left);
        if (!m || !*m)
            break;
        if (matches(**m))
            found = true;
        else
            kept.push_back(std::move(**m));
    }
    m_kept = std::move(kept);
    return found;
}

Output call(rpc::Channel& ch, std::string input) {
    auto [in_r, in_w] = sys::pipe(O_CLOEXEC).value();
    auto [out_r, out_w] = sys::pipe(O_CLOEXEC).value();
    auto [err_r, err_w] = sys::pipe(O_CLOEXEC).value();
    auto feeder = feed(std::move(in_w), std::move(input));
    auto out = collect(std::move(out_r));
    auto err = collect(std::move(err_r));
    rpc::session::CallerIo io;
    io.stdin_fd = std::move(in_r);
    io.stdout_fd = std::move(out_w);
    io.stderr_fd = std::move(err_w);
    Output o;
    o.code = rpc::session::run_caller(ch, std::move(io), {.hello_timeout = 20s});
    feeder.join();
    o.out = out.get();
    o.err = err.get();
    return o;
}

Output Dom0::exec(std::string const& user, std::string const& command, std::string input) {
    auto port = next_port();
    auto listener = m_transport.listen(m_agent, port).value();
    send(ExecCmdline{0, port, user, command});
    auto ch = accept_wait(*listener, 20s);
    if (!ch) {
        Output o;
        o.code = std::move(ch).error();
        return o;
    }
    auto o = call(**ch, std::move(input));
    if (!wait_terminated(0, port, 20s))
        o.code = Error(Errc::Protocol, "no CONNECTION_TERMINATED for port " + std::to_string(port));
    return o;
}

ProgramResult run_program(std::vector<std::string> const& argv,
                          std::vector<std::string> const& extra_env, std::string const& input) {
    auto [in_r, in_w] = sys::pipe(O_CLOEXEC).value();
    auto [out_r, out_w] = sys::pipe(O_CLOEXEC).value();
    auto [err_r, err_w] = sys::pipe(O_CLOEXEC).value();
    sys::SpawnOptions o;
    o.argv = argv;
    o.env = environment_with(extra_env);
    o.fds = {{0, in_r.get()}, {1, out_w.get()}, {2, err_w.get()}};
    pid_t pid = sys::spawn(o).value();
    in_r.reset();
    out_w.reset();
    err_w.reset();
    auto feeder = feed(std::move(in_w), input);
    auto out = collect(std::move(out_r));
    auto err = collect(std::move(err_r));
    ProgramResult r;
    r.code = sys::waitpid(pid).value().code;
    feeder.join();
    r.out = out.get();
    r.err = err.get();
    return r;
}

} // namespace bulkhead::test
