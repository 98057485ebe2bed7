#include "hostile_agent.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/poll.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/base/text.h>

#include <csignal>
#include <fcntl.h>
#include <stdexcept>
#include <thread>

namespace bulkhead::hostile {
namespace {

[[noreturn]] void fail(std::string const& what) {
    throw std::runtime_error("hostile agent: " + what);
}

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds left(Clock::time_point deadline) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return std::max(d, std::chrono::milliseconds(0));
}

} // namespace

std::string le32(uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i)
        s[size_t(i)] = char((v >> (8 * i)) & 0xff);
    return s;
}

std::string header(uint32_t type, uint32_t len) {
    return le32(type) + le32(len);
}

std::string frame(uint32_t type, std::string_view payload) {
    return header(type, uint32_t(payload.size())) + std::string(payload);
}

std::string field(std::string_view s, size_t size) {
    std::string f(s.substr(0, size));
    f.resize(size, '\0');
    return f;
}

std::string trigger3_payload(std::string_view target, std::string_view ident,
                             std::string_view service) {
    return field(target, q::domain_name_size) + field(ident, q::ident_size) + std::string(service) +
           std::string(1, '\0');
}

std::string trigger3(std::string_view target, std::string_view ident, std::string_view service) {
    return frame(uint32_t(q::MsgType::TriggerService3), trigger3_payload(target, ident, service));
}

std::string hello(uint32_t version) {
    return frame(uint32_t(q::MsgType::Hello), le32(version));
}

std::string terminated(uint32_t domain, uint32_t port) {
    return frame(uint32_t(q::MsgType::ConnectionTerminated), le32(domain) + le32(port));
}

HostileAgent::HostileAgent(testing::System& s, std::string name)
    : m_s(s)
    , m_name(std::move(name)) {
    sys::ignore_sigpipe(); // dom0 hanging up must be an error from write, not a signal
}

HostileAgent::~HostileAgent() {
    close();
    if (m_starter > 0) {
        (void)sys::kill(m_starter, SIGKILL);
        (void)sys::waitpid(m_starter);
    }
}

std::string HostileAgent::vchan_dir() const {
    return m_s.root() + "/run/vchan/" + m_name;
}

void HostileAgent::begin_start() {
    close();
    auto id_file = vchan_dir() + "/hostile-init.id";
    (void)sys::mkdir_p(m_s.root() + "/test-out", 0700);
    (void)sys::unlink(id_file);
    auto out = sys::open(m_s.root() + "/test-out/start-" + m_name + ".out",
                         O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    auto null = sys::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (!out || !null)
        fail("cannot open qvm-start's output");
    sys::SpawnOptions o;
    o.argv = {m_s.bin() + "/qvm-start", m_name};
    o.env = m_s.env();
    o.fds = {{0, null->get()}, {1, out->get()}, {2, out->get()}};
    auto pid = sys::spawn(o);
    if (!pid)
        fail("qvm-start: " + pid.error().message());
    m_starter = *pid;
    auto deadline = Clock::now() + 20s;
    std::string content;
    while ((content = sys::read_file(id_file).value_or("")).empty() || content.back() != '\n') {
        if (Clock::now() > deadline)
            fail("no hostile-init.id from " + m_name + "; daemon log:\n" + m_s.daemon_log());
        std::this_thread::sleep_for(2ms);
    }
    auto id = text::parse_u64(content.substr(0, content.size() - 1));
    if (!id)
        fail("bad hostile-init.id");
    m_id = uint32_t(*id);
    auto path = rpc::SocketTransport::socket_path(vchan_dir(), m_id, 0, q::vchan_base_port);
    auto l = sys::unix_listen(path, 4);
    if (!l)
        fail("listen " + path + ": " + l.error().message());
    m_listener = std::move(*l);
    auto ready = sys::poll_one(m_listener.get(), POLLIN, 20s);
    if (!ready || !*ready)
        fail("dom0 did not connect to " + path);
    auto fd = sys::accept(m_listener.get(), SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (!fd || !*fd)
        fail("accept: " + (fd ? std::string("nothing") : fd.error().message()));
    m_listener.reset();
    (void)sys::unlink(path);
    m_ch = std::make_unique<rpc::SocketChannel>(std::move(*fd), 0, q::vchan_base_port);
    m_reader.emplace(q::Expect::FromDaemon);
}

testing::ToolResult HostileAgent::finish_start(std::chrono::milliseconds timeout) {
    testing::ToolResult r;
    auto deadline = Clock::now() + timeout;
    for (;;) {
        auto st = sys::waitpid(m_starter, WNOHANG);
        if (!st)
            fail("waitpid qvm-start");
        if (st->code != -1) {
            r.code = st->code;
            break;
        }
        if (Clock::now() > deadline) {
            (void)sys::kill(m_starter, SIGKILL);
            (void)sys::waitpid(m_starter);
            r.code = -1;
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    m_starter = -1;
    r.err = sys::read_file(m_s.root() + "/test-out/start-" + m_name + ".out").value_or("");
    return r;
}

void HostileAgent::start() {
    begin_start();
    auto h = next(20s);
    if (h.kind != Reply::Kind::Message || !std::holds_alternative<q::Hello>(*h.message))
        fail("dom0 did not send HELLO first");
    send(hello());
    auto r = finish_start();
    if (r.code != 0)
        fail("qvm-start " + m_name + " failed: " + r.err);
}

bool HostileAgent::try_send(std::string_view bytes) {
    if (!m_ch)
        return false;
    auto deadline = Clock::now() + 30s;
    auto data = std::as_bytes(std::span(bytes.data(), bytes.size()));
    while (!data.empty()) {
        auto n = m_ch->write(data);
        if (!n)
            return false;
        data = data.subspan(*n);
        if (*n == 0) {
            if (Clock::now() > deadline)
                fail("dom0 stopped reading for 30 s");
            (void)sys::poll_one(m_ch->readiness_fd(), POLLOUT, 100ms);
        }
    }
    return true;
}

void HostileAgent::send(std::string_view bytes) {
    if (!try_send(bytes))
        fail("dom0 closed the control connection of " + m_name);
}

Reply HostileAgent::next(std::chrono::milliseconds timeout) {
    Reply r;
    if (!m_ch) {
        r.kind = Reply::Kind::Closed;
        r.error = "not connected";
        return r;
    }
    auto deadline = Clock::now() + timeout;
    for (;;) {
        auto m = m_reader->next(*m_ch);
        if (!m) {
            r.kind = Reply::Kind::Closed;
            r.error = m.error().message();
            return r;
        }
        if (*m) {
            r.kind = Reply::Kind::Message;
            r.message = std::move((*m)->message);
            return r;
        }
        auto ms = left(deadline);
        if (ms.count() == 0)
            return r; // Timeout
        (void)sys::poll_one(m_ch->readiness_fd(), POLLIN, ms);
    }
}

bool HostileAgent::closed_within(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
        auto r = next(left(deadline));
        if (r.kind == Reply::Kind::Closed)
            return true;
        if (r.kind == Reply::Kind::Timeout)
            return false;
    }
}

std::string HostileAgent::refused(std::chrono::milliseconds timeout) {
    auto r = next(timeout);
    if (r.kind != Reply::Kind::Message)
        return "";
    if (auto const* ref = std::get_if<q::ServiceRefused>(&*r.message))
        return ref->ident;
    return "";
}

void HostileAgent::close() {
    m_ch.reset();
    m_reader.reset();
    m_listener.reset();
}

} // namespace bulkhead::hostile
