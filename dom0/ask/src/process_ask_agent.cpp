#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/ask/process_ask_agent.h>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

namespace bulkhead::dom0 {
namespace {

Logger const log{"ask"};

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return int(std::max<int64_t>(d.count(), 0));
}

// Writes to a pipe whose reader may be gone without a process-wide SIGPIPE: the signal is
// blocked in this thread and a pending one consumed.
ssize_t write_no_sigpipe(int fd, std::string_view data) {
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t w = ::write(fd, data.data(), data.size());
    int saved = errno;
    if (w < 0 && errno == EPIPE) {
        timespec zero{0, 0};
        while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = saved;
    return w;
}

// Kills the answerer's whole process group (it is a session leader) and reaps it.
void kill_and_reap(pid_t pid) {
    (void)sys::kill(-pid, SIGKILL);
    (void)sys::kill(pid, SIGKILL);
    (void)sys::waitpid(pid);
}

} // namespace

ProcessAskAgent::ProcessAskAgent(std::vector<std::string> argv)
    : m_argv(std::move(argv)) {}

Result<std::optional<std::string>> ProcessAskAgent::ask(AskQuestion const& q,
                                                        std::chrono::milliseconds timeout) {
    if (m_argv.empty() || m_argv[0].empty() || m_argv[0][0] != '/')
        return unexpected(Errc::Invalid, "ask agent: the program path must be absolute");
    auto deadline = Clock::now() + timeout;
    auto [in_r, in_w] = TRY(sys::pipe(O_CLOEXEC));
    auto [out_r, out_w] = TRY(sys::pipe(O_CLOEXEC));
    sys::SpawnOptions opts;
    opts.argv = m_argv;
    opts.fds = {{0, in_r.get()}, {1, out_w.get()}, {2, STDERR_FILENO}};
    opts.new_session = true; // its own process group: the timeout kills all of it
    pid_t pid;
    {
        std::lock_guard lock(m_mutex);
        if (m_cancelled)
            return std::optional<std::string>{};
        pid = TRY(sys::spawn(opts));
        m_running.insert(pid);
    }
    // Before anything reaps pid: cancel_all must not signal a reused pid.
    auto forget = [&] {
        std::lock_guard lock(m_mutex);
        m_running.erase(pid);
    };
    in_r.reset();
    out_w.reset();
    auto pidfd = sys::pidfd_open(pid);
    if (!pidfd) {
        forget();
        kill_and_reap(pid);
        return unexpected(pidfd.error());
    }
    (void)sys::set_nonblocking(in_w.get());
    (void)sys::set_nonblocking(out_r.get());

    std::string const input = to_json(q);
    size_t fed = 0;
    std::string answer;
    bool exited = false;
    bool garbage = false;
    while (out_r || !exited) {
        pollfd pfds[3];
        nfds_t n = 0;
        if (out_r)
            pfds[n++] = {out_r.get(), POLLIN, 0};
        if (in_w)
            pfds[n++] = {in_w.get(), POLLOUT, 0};
        if (!exited)
            pfds[n++] = {pidfd->get(), POLLIN, 0};
        int left = ms_left(deadline);
        if (left == 0)
            break;
        int r = ::poll(pfds, n, left);
        if (r < 0 && errno != EINTR) {
            forget();
            kill_and_reap(pid);
            return Error::from_errno("poll", errno);
        }
        for (nfds_t i = 0; i < n; ++i) {
            if (!pfds[i].revents)
                continue;
            int fd = pfds[i].fd;
            if (in_w && fd == in_w.get()) {
                ssize_t w = write_no_sigpipe(fd, std::string_view(input).substr(fed));
                if (w > 0)
                    fed += size_t(w);
                if ((w < 0 && errno != EAGAIN && errno != EINTR) || fed == input.size())
                    in_w.reset(); // done, or the answerer does not read its question
            } else if (out_r && fd == out_r.get()) {
                char buf[1024];
                ssize_t got = ::read(fd, buf, sizeof buf);
                if (got > 0) {
                    answer.append(buf, size_t(got));
                    if (answer.size() > kMaxAnswer) {
                        garbage = true;
                        out_r.reset();
                    }
                } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    out_r.reset();
                }
            } else if (fd == pidfd->get()) {
                exited = true; // still a zombie: its pid (and group) cannot be reused yet
            }
        }
        if (garbage)
            break;
    }
    forget();
    if (!exited || out_r) {
        kill_and_reap(pid);
        if (garbage) {
            LOG_WARN(log, "ask answerer wrote too much; deny", {"program", m_argv[0]});
            return std::optional<std::string>{};
        }
        LOG_WARN(log, "ask answerer timed out; killed; deny", {"program", m_argv[0]},
                 {"service", q.service}, {"source", q.source});
        return std::optional<std::string>{};
    }
    (void)sys::kill(-pid, SIGKILL); // anything it left behind in its group
    auto status = TRY(sys::waitpid(pid));
    if (garbage || status.code != 0)
        return std::optional<std::string>{};
    auto chosen = accept_answer(q, answer);
    if (!chosen && !answer.empty())
        LOG_WARN(log, "ask answer is not an offered target; deny", {"answer", answer},
                 {"service", q.service}, {"source", q.source});
    return chosen;
}

void ProcessAskAgent::cancel_all() {
    std::lock_guard lock(m_mutex);
    m_cancelled = true;
    for (pid_t pid : m_running)
        (void)sys::kill(-pid, SIGKILL);
}

} // namespace bulkhead::dom0
