// Processes, signals, time and environment, wrapped once.
#pragma once

#include <initializer_list>

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace bulkhead::sys {

struct SpawnOptions {
    std::vector<std::string> argv;               // argv[0] is looked up in PATH if it has no '/'
    std::optional<std::vector<std::string>> env; // nullopt = inherit
    std::string cwd;                             // empty = inherit
    // Descriptors the child gets: {child fd, parent fd}; everything else is closed.
    std::vector<std::pair<int, int>> fds;
    bool new_session = false;
    // Switch to these ids before exec (only when running as root; otherwise ignored).
    struct Credentials {
        uid_t uid = 0;
        gid_t gid = 0;
        std::vector<gid_t> groups; // supplementary groups
    };
    std::optional<Credentials> credentials;
};

// fork + exec; the child has only the descriptors listed in opts.fds, default signal
// handlers and an empty signal mask. Exec errors (not found, ...) come back here.
Result<pid_t> spawn(SpawnOptions const& opts);

// Async-signal-safe, for a freshly forked child: default handlers for every signal and an
// empty mask; closing every descriptor >= lowest (close_range, or a loop).
void reset_signals_in_child();
void close_from(int lowest);

struct ExitStatus {
    int code = 0; // exit code, or 128 + signal
    bool signaled = false;
};
Result<ExitStatus> waitpid(pid_t pid, int flags = 0); // WNOHANG: pid 0 → code -1
ExitStatus decode_wait_status(int status);

struct RunOutput {
    ExitStatus status;
    std::string out;
    std::string err;
};
// Runs argv to completion, capturing stdout/stderr, feeding stdin_data.
Result<RunOutput> run(std::vector<std::string> const& argv, std::string const& stdin_data = {});

Result<void> kill(pid_t pid, int sig);
Result<UniqueFd> pidfd_open(pid_t pid);
Result<void> pidfd_send_signal(int pidfd, int sig);

std::optional<std::string> getenv(char const* name);
std::string getenv_or(char const* name, std::string fallback);

// The gid of a group by name (getgrnam_r); nullopt when there is no such group.
Result<std::optional<gid_t>> lookup_group(std::string const& name);

// Monotonic clock.
inline std::chrono::steady_clock::time_point now() {
    return std::chrono::steady_clock::now();
}

// Ignores SIGPIPE process-wide (writes return EPIPE instead).
void ignore_sigpipe();
// Raises the soft RLIMIT_NOFILE to the hard limit (servers with many connections).
Result<void> raise_fd_limit();
// Blocks these signals in the calling thread (and threads it creates later).
Result<void> block_signals(std::initializer_list<int> signals);
// Waits for one of the (blocked) signals; returns its number.
Result<int> wait_signal(std::initializer_list<int> signals);

// Path of the running executable's directory (readlink /proc/self/exe).
Result<std::string> self_exe_dir();

} // namespace bulkhead::sys
