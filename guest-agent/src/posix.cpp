#include <bulkhead/agent/posix.h>

#include <bulkhead/base/sys/fd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bulkhead::agent::posix {

namespace {
void noop_handler(int) {}
} // namespace

Result<UniqueFd> signal_fd(std::initializer_list<int> signals) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : signals) {
        sigaddset(&set, s);
        struct sigaction sa {};
        sa.sa_handler = noop_handler;
        sigemptyset(&sa.sa_mask);
        if (::sigaction(s, &sa, nullptr) < 0)
            return Error::from_errno("sigaction", errno);
    }
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0)
        return Error::from_errno("sigprocmask", errno);
    int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return Error::from_errno("signalfd", errno);
    return UniqueFd(fd);
}

Result<std::optional<int>> read_signal(int sfd) {
    signalfd_siginfo info{};
    for (;;) {
        ssize_t n = ::read(sfd, &info, sizeof info);
        if (n == ssize_t(sizeof info))
            return std::optional<int>(int(info.ssi_signo));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return std::optional<int>();
        return Error::from_errno("read(signalfd)", n < 0 ? errno : EIO);
    }
}

Result<std::optional<Reaped>> reap_any() {
    for (;;) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            auto st = sys::decode_wait_status(status);
            if (st.code < 0)
                continue; // stopped/continued: not an end
            return std::optional(Reaped{pid, st});
        }
        if (pid == 0 || (pid < 0 && errno == ECHILD))
            return std::optional<Reaped>();
        if (errno != EINTR)
            return Error::from_errno("waitpid", errno);
    }
}

Result<void> become_subreaper() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        return Error::from_errno("prctl(PR_SET_CHILD_SUBREAPER)", errno);
    return {};
}

void reset_signals() {
    for (int s = 1; s < NSIG; ++s)
        if (s != SIGKILL && s != SIGSTOP)
            ::signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void close_from(int lowest) {
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, unsigned(lowest), ~0u, 0u) == 0)
        return;
#endif
    long max = ::sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = lowest; fd < max; ++fd)
        ::close(fd);
}

namespace {

// In the forked child: only async-signal-safe calls from here on.
[[noreturn]] void child(Command const& cmd, std::vector<char*> const& argv,
                        std::vector<char*> const& envp, int err_fd) {
    reset_signals();
    if (cmd.new_session)
        ::setsid();
    // Stage every source above all targets first, so {0 <- 1, 1 <- 0} cannot clobber itself.
    int top = err_fd + 1;
    for (auto const& [to, from] : cmd.fds)
        top = std::max({top, to + 1, from + 1});
    int staged[16];
    size_t n = std::min<size_t>(cmd.fds.size(), 16);
    int stage = 0;
    for (size_t i = 0; i < n; ++i) {
        staged[i] = ::fcntl(cmd.fds[i].second, F_DUPFD_CLOEXEC, top);
        if (staged[i] < 0)
            goto fail;
        top = staged[i] + 1;
    }
    for (size_t i = 0; i < n; ++i)
        if (::dup2(staged[i], cmd.fds[i].first) < 0)
            goto fail;
    // Everything above the targets goes, except the error pipe (CLOEXEC).
    for (size_t i = 0; i < n; ++i)
        stage = std::max(stage, cmd.fds[i].first + 1);
    for (int fd = stage; fd < err_fd; ++fd)
        ::close(fd);
    close_from(err_fd + 1);
    if (::geteuid() == 0) {
        if (::setgroups(cmd.groups.size(), cmd.groups.data()) < 0 || ::setgid(cmd.user.gid) < 0 ||
            ::setuid(cmd.user.uid) < 0)
            goto fail;
    }
    if (::chdir(cmd.cwd.empty() ? "/" : cmd.cwd.c_str()) < 0 && ::chdir("/") < 0)
        goto fail;
    ::execve(argv[0], argv.data(), envp.data());
fail:
    int e = errno;
    [[maybe_unused]] auto w = ::write(err_fd, &e, sizeof e);
    ::_exit(127);
}

} // namespace

Result<pid_t> spawn_as(Command const& cmd) {
    if (cmd.argv.empty())
        return unexpected(Errc::Invalid, "spawn: empty argv");
    if (cmd.fds.size() > 16)
        return unexpected(Errc::Limit, "spawn: more than 16 descriptors");
    std::vector<char*> argv, envp;
    for (auto const& a : cmd.argv)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto const& e : cmd.env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    auto [err_r, err_w] = TRY(sys::pipe(O_CLOEXEC));
    pid_t pid = ::fork();
    if (pid < 0)
        return Error::from_errno("fork", errno);
    if (pid == 0)
        child(cmd, argv, envp, err_w.get());
    err_w.reset();
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(err_r.get(), &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    if (n == ssize_t(sizeof child_errno)) {
        int status;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return Error::from_errno("exec " + cmd.argv[0], child_errno);
    }
    return pid;
}

} // namespace bulkhead::agent::posix
