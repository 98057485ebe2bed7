#include <bulkhead/rpc/session/session.h>

#include "local_fd.h"

#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/qrexec/frame_writer.h>

#include <array>
#include <cerrno>
#include <optional>
#include <sys/socket.h>
#include <sys/wait.h>
#include <vector>

namespace bulkhead::rpc::session {

namespace {

using namespace qrexec;

enum class Role { Caller, Executor };

constexpr size_t read_chunk = max_data_chunk_v3;
// Local input is read only while less than this waits for the channel.
constexpr size_t high_water = 4 * read_chunk;
// Frames handled per turn before the other directions get a go.
constexpr int frames_per_turn = 16;

bool would_block(Error const& e) {
    return e.code() == Errc::System && (e.sys_errno() == EAGAIN || e.sys_errno() == EWOULDBLOCK);
}

size_t index(Stream s) {
    return size_t(s);
}

// Local input sent on the channel as one stream.
struct Source {
    LocalFd fd;
    bool active = false; // this role sends this stream
    bool done = false;   // its empty end-of-stream chunk is queued
};

// Local output fed from one stream of the channel.
struct Sink {
    LocalFd fd;
    bool active = false; // this role receives this stream
    bool ended = false;  // its end-of-stream chunk arrived
    bool eof_pending = false;
    std::vector<std::byte> pending;
    size_t off = 0;
    bool has_pending() const { return off < pending.size(); }
};

class Session {
public:
    Session(Channel& ch, Role role, SessionOptions const& opts)
        : m_ch(ch)
        , m_role(role)
        , m_opts(opts)
        , m_reader(Expect::Data)
        , m_buf(read_chunk) {}

    void add_source(Stream s, UniqueFd fd) {
        m_sources[index(s)].fd = LocalFd(std::move(fd));
        m_sources[index(s)].active = true;
    }
    void add_sink(Stream s, UniqueFd fd) {
        m_sinks[index(s)].fd = LocalFd(std::move(fd));
        m_sinks[index(s)].active = true;
    }
    Result<void> set_process(pid_t pid, UniqueFd pidfd, int exit_code) {
        m_pid = pid;
        m_exit_code = exit_code;
        if (pid > 0) {
            if (!pidfd) {
                auto fd = sys::pidfd_open(pid);
                if (fd)
                    pidfd = std::move(*fd);
            }
            m_pidfd = std::move(pidfd);
        }
        return {};
    }

    Result<int> run();

private:
    Result<bool> send();
    Result<bool> receive();
    Result<void> dispatch(Message& msg);
    Result<bool> pump_source(Stream s);
    bool drain(Sink& s);
    void end_sink(Sink& s);
    void close_local(LocalFd& fd);
    bool sinks_pending() const {
        for (auto const& s : m_sinks)
            if (s.has_pending())
                return true;
        return false;
    }
    bool sources_done() const {
        for (auto const& s : m_sources)
            if (s.active && !s.done)
                return false;
        return true;
    }
    Result<bool> reap(int flags);
    Result<void> wait(std::optional<std::chrono::steady_clock::time_point> deadline);

    Channel& m_ch;
    Role m_role;
    SessionOptions m_opts;
    FrameReader m_reader;
    FrameWriter m_writer;
    std::vector<std::byte> m_buf;
    std::array<Source, 3> m_sources;
    std::array<Sink, 3> m_sinks;
    bool m_hello = false;        // peer's HELLO arrived
    bool m_read_done = false;    // nothing more to read (exit code arrived)
    bool m_write_closed = false; // the peer cannot take more bytes
    pid_t m_pid = -1;
    UniqueFd m_pidfd;
    bool m_exited = false;
    int m_exit_code = 0;
    bool m_exit_sent = false;
    bool m_got_exit = false;
};

void Session::close_local(LocalFd& fd) {
    if (!fd)
        return;
    for (auto* other : {&m_sources[0].fd, &m_sources[1].fd, &m_sources[2].fd, &m_sinks[0].fd,
                        &m_sinks[1].fd, &m_sinks[2].fd}) {
        if (other != &fd && fd.same_file(*other)) {
            fd.hand_flags_to(*other);
            fd.close(true);
            return;
        }
    }
    fd.close();
}

void Session::end_sink(Sink& s) {
    s.eof_pending = false;
    if (s.fd && s.fd.is_socket())
        (void)::shutdown(s.fd.get(), SHUT_WR);
    close_local(s.fd);
}

// Writes what the sink holds; a sink that broke (EPIPE...) discards the rest of its stream.
bool Session::drain(Sink& s) {
    bool progress = false;
    while (s.has_pending()) {
        if (!s.fd) {
            s.off = s.pending.size();
            progress = true;
            break;
        }
        auto n = sys::write(s.fd.get(), std::span(s.pending).subspan(s.off));
        if (!n) {
            if (would_block(n.error()))
                break;
            close_local(s.fd);
            continue;
        }
        s.off += *n;
        progress = true;
    }
    if (!s.has_pending()) {
        s.pending.clear();
        s.off = 0;
        if (s.eof_pending) {
            end_sink(s);
            progress = true;
        }
    }
    return progress;
}

Result<void> Session::dispatch(Message& msg) {
    if (std::holds_alternative<Hello>(msg)) {
        m_hello = true;
        m_writer.set_version(m_reader.version());
        return {};
    }
    if (auto* chunk = std::get_if<DataChunk>(&msg)) {
        Sink& s = m_sinks[index(chunk->stream)];
        if (!s.active)
            return unexpected(Errc::Protocol, "qrexec data: stream sent the wrong way");
        if (s.ended)
            return unexpected(Errc::Protocol, "qrexec data: data after the end of its stream");
        if (chunk->bytes.empty()) {
            s.ended = true;
            s.eof_pending = true;
        } else {
            s.pending = std::move(chunk->bytes);
            s.off = 0;
        }
        drain(s);
        return {};
    }
    if (auto* code = std::get_if<ExitCode>(&msg)) {
        if (m_role != Role::Caller)
            return unexpected(Errc::Protocol, "qrexec data: exit code sent by the caller");
        m_exit_code = code->code;
        m_got_exit = true;
        m_read_done = true;
        return {};
    }
    return unexpected(Errc::Protocol, "qrexec data: unexpected message");
}

Result<bool> Session::receive() {
    bool progress = false;
    for (int i = 0; i < frames_per_turn && !m_read_done && !sinks_pending(); ++i) {
        auto msg = m_reader.next(m_ch);
        if (!msg) {
            if (msg.error().code() == Errc::Closed) {
                if (m_exit_sent) { // the caller has all it wanted and left
                    m_read_done = true;
                    return true;
                }
                if (m_role == Role::Caller)
                    return unexpected(Errc::Closed,
                                      "qrexec data: the other end closed before the exit code");
                return unexpected(Errc::Closed, "qrexec data: the caller went away");
            }
            return std::move(msg).error();
        }
        if (!*msg)
            break;
        progress = true;
        TRY(dispatch((*msg)->message));
    }
    return progress;
}

Result<bool> Session::send() {
    if (!m_writer.pending() || m_write_closed)
        return false;
    size_t before = m_writer.queued();
    auto r = m_writer.flush(m_ch);
    if (!r) {
        if (r.error().code() != Errc::Closed || m_role == Role::Executor)
            return std::move(r).error();
        m_write_closed = true; // the executor stopped reading stdin; keep receiving
        return true;
    }
    return m_writer.queued() != before;
}

Result<bool> Session::pump_source(Stream stream) {
    Source& s = m_sources[index(stream)];
    if (!s.active || s.done)
        return false;
    if (!s.fd) {
        m_writer.push_data(stream, {});
        s.done = true;
        return true;
    }
    auto n = sys::read(s.fd.get(), m_buf);
    if (!n && would_block(n.error()))
        return false;
    if (!n || *n == 0) { // end of input (a read error ends it too)
        m_writer.push_data(stream, {});
        close_local(s.fd);
        s.done = true;
        return true;
    }
    m_writer.push_data(stream, std::span(m_buf.data(), *n));
    return true;
}

// True when the process ended (its status is in m_exit_code).
Result<bool> Session::reap(int flags) {
    if (m_exited || m_pid <= 0)
        return m_exited || m_pid <= 0;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(m_pid, &status, flags);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return Error::from_errno("waitpid", errno);
    if (r == 0)
        return false;
    auto st = sys::decode_wait_status(status);
    if (st.code < 0)
        return false; // stopped or continued: still running
    m_exit_code = st.code;
    m_exited = true;
    m_pidfd.reset();
    return true;
}

Result<void> Session::wait(std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::vector<pollfd> fds;
    bool want_read = !m_read_done && !sinks_pending();
    bool want_write = m_writer.pending() && !m_write_closed;
    uint32_t ev = m_ch.watch_events(want_write ? WantWrite::Yes : WantWrite::No);
    short ch_events = 0;
    if (ev & EventLoop::Writable) { // socket-like: readable and writable are separate
        ch_events = short((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0));
    } else if (want_read || want_write) { // event-channel-like: one notification for all
        ch_events = POLLIN;
    }
    fds.push_back({m_ch.readiness_fd(), ch_events, 0});
    bool take_input = m_hello && !m_write_closed && m_writer.queued() < high_water;
    for (auto const& s : m_sources)
        fds.push_back({s.fd.get(), short(take_input && s.active && !s.done ? POLLIN : 0), 0});
    for (auto const& s : m_sinks)
        fds.push_back({s.fd.get(), short(s.has_pending() && s.fd ? POLLOUT : 0), 0});
    fds.push_back({m_pidfd.get(), short(!m_exited && m_pidfd ? POLLIN : 0), 0});
    for (auto& p : fds)
        if (p.events == 0)
            p.fd = -1; // poll ignores negative descriptors
    auto timeout = std::chrono::milliseconds(-1);
    if (deadline) {
        timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - sys::now());
        if (timeout.count() <= 0)
            return unexpected(Errc::Timeout, "qrexec data: no HELLO from the other end");
    }
    if (!m_exited && m_pid > 0 && !m_pidfd) // no pidfd (old kernel): poll the child
        timeout = timeout.count() < 0 ? std::chrono::milliseconds(20)
                                      : std::min(timeout, std::chrono::milliseconds(20));
    int n = TRY(poll_fds(fds, timeout));
    if (n > 0 && fds.front().revents)
        TRY(m_ch.acknowledge());
    return {};
}

Result<int> Session::run() {
    TRY(m_writer.push(Hello{}));
    auto const hello_deadline = sys::now() + m_opts.hello_timeout;
    for (;;) {
        bool progress = TRY(send());
        for (auto& s : m_sinks)
            progress |= drain(s);
        progress |= TRY(receive());
        // Local input: several chunks per turn while the channel keeps up (fewer, larger
        // writes), never more than high_water waiting.
        for (int turn = 0; turn < 4 && m_hello && !m_write_closed && m_writer.queued() < high_water;
             ++turn) {
            bool got = false;
            for (auto s : {Stream::Stdin, Stream::Stdout, Stream::Stderr})
                got |= TRY(pump_source(s));
            progress |= got;
            if (!got)
                break;
        }
        progress |= TRY(send());
        if (m_role == Role::Executor) {
            if (!m_exited && m_pid > 0)
                progress |= TRY(reap(WNOHANG));
            if (!m_exit_sent && sources_done() && (m_exited || m_pid <= 0)) {
                TRY(m_writer.push(ExitCode{m_exit_code}));
                m_exit_sent = true;
                progress = true;
            }
            if (m_exit_sent && !m_writer.pending())
                return m_exit_code;
        } else if (m_got_exit && !sinks_pending()) {
            for (auto& s : m_sinks)
                close_local(s.fd);
            return m_exit_code;
        }
        if (!progress)
            TRY(wait(m_hello ? std::nullopt : std::optional(hello_deadline)));
    }
}

} // namespace

Result<int> run_caller(Channel& ch, CallerIo io, SessionOptions const& opts) {
    Session s(ch, Role::Caller, opts);
    s.add_source(Stream::Stdin, std::move(io.stdin_fd));
    s.add_sink(Stream::Stdout, std::move(io.stdout_fd));
    s.add_sink(Stream::Stderr, std::move(io.stderr_fd));
    return s.run();
}

Result<int> run_executor(Channel& ch, ExecutorIo io, SessionOptions const& opts) {
    Session s(ch, Role::Executor, opts);
    s.add_sink(Stream::Stdin, std::move(io.stdin_fd));
    s.add_source(Stream::Stdout, std::move(io.stdout_fd));
    s.add_source(Stream::Stderr, std::move(io.stderr_fd));
    TRY(s.set_process(io.pid, std::move(io.pidfd), io.exit_code));
    return s.run();
}

Result<void> run_failed(Channel& ch, int exit_code, std::string_view message,
                        SessionOptions const& opts) {
    ExecutorIo io;
    io.exit_code = exit_code;
    if (!message.empty()) {
        auto [r, w] = TRY(sys::pipe(O_CLOEXEC));
        // A pipe holds 64 KiB; a longer message is cut rather than blocking here.
        TRY(sys::write_all(w.get(), message.substr(0, 4096)));
        io.stderr_fd = std::move(r);
    }
    TRY(run_executor(ch, std::move(io), opts));
    return {};
}

} // namespace bulkhead::rpc::session
