#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bulkhead::sys {

void reset_signals_in_child() {
    for (int s = 1; s < NSIG; ++s)
        if (s != SIGKILL && s != SIGSTOP)
            ::signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

namespace {

// Closes [lo, hi] (hi may be ~0u).
void close_span(unsigned lo, unsigned hi) {
    if (lo > hi)
        return;
    if (::syscall(SYS_close_range, lo, hi, 0u) == 0)
        return;
    long max = ::sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (unsigned fd = lo; fd <= hi && fd < static_cast<unsigned>(max); ++fd)
        ::close(static_cast<int>(fd));
}

constexpr size_t kMaxSpawnFds = 64;

// In the child after fork: only async-signal-safe calls.
[[noreturn]] void child_exec(SpawnOptions const& opts, std::vector<char*>& argv,
                             std::vector<char*>* envp, int err_fd) {
    reset_signals_in_child();
    if (opts.new_session)
        ::setsid();
    // Move every source descriptor above the highest target first, so that a
    // mapping like {0 <- 1, 1 <- 0} cannot clobber itself.
    int top = 3;
    for (auto const& [to, from] : opts.fds)
        top = std::max({top, to + 1, from + 1});
    top = std::max(top, err_fd + 1);
    int staged[kMaxSpawnFds];
    size_t n = std::min(opts.fds.size(), kMaxSpawnFds);
    for (size_t i = 0; i < n; ++i) {
        staged[i] = ::fcntl(opts.fds[i].second, F_DUPFD_CLOEXEC, top);
        if (staged[i] < 0)
            goto fail;
        top = staged[i] + 1;
    }
    for (size_t i = 0; i < n; ++i) {
        if (::dup2(staged[i], opts.fds[i].first) < 0)
            goto fail;
    }
    {
        // Close everything >= 3 but the targets and the exec-error pipe (CLOEXEC).
        unsigned keep[kMaxSpawnFds + 1];
        size_t k = 0;
        keep[k++] = static_cast<unsigned>(err_fd);
        for (size_t i = 0; i < n; ++i)
            keep[k++] = static_cast<unsigned>(opts.fds[i].first);
        std::sort(keep, keep + k);
        unsigned next = 3;
        for (size_t i = 0; i < k; ++i) {
            if (keep[i] >= next) {
                if (keep[i] > next)
                    close_span(next, keep[i] - 1);
                next = keep[i] + 1;
            }
        }
        close_span(next, ~0u);
    }
    for (int std_fd = 0; std_fd < 3; ++std_fd) { // unlisted stdio: /dev/null, not ours
        bool listed = false;
        for (size_t i = 0; i < n && !listed; ++i)
            listed = opts.fds[i].first == std_fd;
        if (listed)
            continue;
        int null_fd = ::open("/dev/null", O_RDWR);
        if (null_fd < 0 || (null_fd != std_fd && ::dup2(null_fd, std_fd) < 0))
            goto fail;
        if (null_fd != std_fd)
            ::close(null_fd);
    }
    if (opts.credentials && ::geteuid() == 0) {
        auto const& c = *opts.credentials;
        if (::setgroups(c.groups.size(), c.groups.data()) < 0 || ::setgid(c.gid) < 0 ||
            ::setuid(c.uid) < 0)
            goto fail;
    }
    if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) < 0)
        goto fail;
    if (envp)
        ::execvpe(argv[0], argv.data(), envp->data());
    else
        ::execvp(argv[0], argv.data());
fail:
    int e = errno;
    [[maybe_unused]] auto w = ::write(err_fd, &e, sizeof e);
    ::_exit(127);
}
} // namespace

void close_from(int lowest) {
    close_span(static_cast<unsigned>(std::max(lowest, 0)), ~0u);
}

Result<pid_t> spawn(SpawnOptions const& opts) {
    if (opts.argv.empty())
        return unexpected(Errc::Invalid, "spawn: empty argv");
    if (opts.fds.size() > kMaxSpawnFds)
        return unexpected(Errc::Limit, "spawn: more than 64 descriptors");
    std::vector<char*> argv;
    for (auto const& a : opts.argv)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    if (opts.env) {
        for (auto const& e : *opts.env)
            envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
    }
    auto [err_r, err_w] = TRY(pipe(O_CLOEXEC));
    pid_t pid = ::fork();
    if (pid < 0)
        return Error::from_errno("fork", errno);
    if (pid == 0)
        child_exec(opts, argv, opts.env ? &envp : nullptr, err_w.get());
    err_w.reset();
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(err_r.get(), &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    if (n == sizeof child_errno) {
        (void)waitpid(pid);
        return Error::from_errno("exec " + opts.argv[0], child_errno);
    }
    return pid;
}

ExitStatus decode_wait_status(int status) {
    if (WIFEXITED(status))
        return {WEXITSTATUS(status), false};
    if (WIFSIGNALED(status))
        return {128 + WTERMSIG(status), true};
    return {-1, false};
}

Result<ExitStatus> waitpid(pid_t pid, int flags) {
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, flags);
        if (r == 0)
            return ExitStatus{-1, false};
        if (r > 0)
            return decode_wait_status(status);
        if (errno != EINTR)
            return Error::from_errno("waitpid", errno);
    }
}

Result<RunOutput> run(std::vector<std::string> const& argv, std::string const& stdin_data) {
    auto [in_r, in_w] = TRY(pipe());
    auto [out_r, out_w] = TRY(pipe());
    auto [err_r, err_w] = TRY(pipe());
    SpawnOptions opts;
    opts.argv = argv;
    opts.fds = {{0, in_r.get()}, {1, out_w.get()}, {2, err_w.get()}};
    pid_t pid = TRY(spawn(opts));
    in_r.reset();
    out_w.reset();
    err_w.reset();
    TRY(set_nonblocking(in_w.get()));
    RunOutput result;
    size_t fed = 0;
    if (stdin_data.empty())
        in_w.reset();
    while (out_r || err_r) {
        pollfd pfds[3];
        int n = 0;
        if (out_r)
            pfds[n++] = {out_r.get(), POLLIN, 0};
        if (err_r)
            pfds[n++] = {err_r.get(), POLLIN, 0};
        if (in_w)
            pfds[n++] = {in_w.get(), POLLOUT, 0};
        if (::poll(pfds, nfds_t(n), -1) < 0 && errno != EINTR)
            return Error::from_errno("poll", errno);
        char buf[65536];
        for (int i = 0; i < n; ++i) {
            if (!pfds[i].revents)
                continue;
            if (pfds[i].fd == in_w.get()) {
                ssize_t w = ::write(in_w.get(), stdin_data.data() + fed, stdin_data.size() - fed);
                if (w > 0)
                    fed += size_t(w);
                if (w < 0 && errno != EAGAIN && errno != EINTR)
                    in_w.reset();
                if (fed == stdin_data.size())
                    in_w.reset();
                continue;
            }
            ssize_t r = ::read(pfds[i].fd, buf, sizeof buf);
            UniqueFd& fd = pfds[i].fd == out_r.get() ? out_r : err_r;
            std::string& sink = pfds[i].fd == out_r.get() ? result.out : result.err;
            if (r > 0)
                sink.append(buf, size_t(r));
            else if (r == 0 || (errno != EINTR && errno != EAGAIN))
                fd.reset();
        }
    }
    in_w.reset();
    result.status = TRY(waitpid(pid));
    return result;
}

Result<void> kill(pid_t pid, int sig) {
    if (::kill(pid, sig) < 0 && errno != ESRCH)
        return Error::from_errno("kill", errno);
    return {};
}

Result<UniqueFd> pidfd_open(pid_t pid) {
    int fd = int(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0)
        return Error::from_errno("pidfd_open", errno);
    return UniqueFd(fd);
}

Result<void> pidfd_send_signal(int pidfd, int sig) {
    if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0 && errno != ESRCH)
        return Error::from_errno("pidfd_send_signal", errno);
    return {};
}

std::optional<std::string> getenv(char const* name) {
    char const* v = ::getenv(name);
    if (!v)
        return std::nullopt;
    return std::string(v);
}

std::string getenv_or(char const* name, std::string fallback) {
    auto v = getenv(name);
    return v ? *v : std::move(fallback);
}

void ignore_sigpipe() {
    ::signal(SIGPIPE, SIG_IGN);
}

Result<void> raise_fd_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) < 0)
        return Error::from_errno("getrlimit", errno);
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) < 0)
        return Error::from_errno("setrlimit", errno);
    return {};
}

namespace {
sigset_t make_set(std::initializer_list<int> signals) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : signals)
        sigaddset(&set, s);
    return set;
}
} // namespace

Result<void> block_signals(std::initializer_list<int> signals) {
    auto set = make_set(signals);
    if (int rc = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0)
        return Error::from_errno("pthread_sigmask", rc);
    return {};
}

Result<int> wait_signal(std::initializer_list<int> signals) {
    auto set = make_set(signals);
    int sig = 0;
    if (int rc = ::sigwait(&set, &sig); rc != 0)
        return Error::from_errno("sigwait", rc);
    return sig;
}

Result<std::string> self_exe_dir() {
    auto exe = TRY(readlink("/proc/self/exe"));
    auto slash = exe.rfind('/');
    return exe.substr(0, slash == std::string::npos ? 0 : slash);
}

Result<std::optional<gid_t>> lookup_group(std::string const& name) {
    struct group gr {};
    struct group* out = nullptr;
    std::vector<char> buf(16384);
    int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &out);
    if (rc != 0 && rc != ENOENT && rc != ESRCH)
        return Error::from_errno("getgrnam_r", rc);
    if (!out)
        return std::optional<gid_t>();
    return std::optional<gid_t>(out->gr_gid);
}

} // namespace bulkhead::sys
