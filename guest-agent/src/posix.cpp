#include <bulkhead/agent/posix.h>

#include <bulkhead/base/sys/fd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
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
    sys::reset_signals_in_child();
}

void close_from(int lowest) {
    sys::close_from(lowest);
}

Result<pid_t> spawn_as(Command const& cmd) {
    sys::SpawnOptions opts;
    opts.argv = cmd.argv;
    opts.env = cmd.env;
    // The user's home, or / when it is missing, as a login would.
    auto home = cmd.cwd.empty() ? Result<struct stat>(unexpected(Errc::Invalid, "no home"))
                                : sys::stat(cmd.cwd);
    opts.cwd = home && S_ISDIR(home->st_mode) ? cmd.cwd : "/";
    opts.fds = cmd.fds;
    opts.new_session = cmd.new_session;
    opts.credentials = sys::SpawnOptions::Credentials{cmd.user.uid, cmd.user.gid, cmd.groups};
    return sys::spawn(opts);
}

} // namespace bulkhead::agent::posix
