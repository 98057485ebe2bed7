// Process calls the guest agent needs beyond base/sys (signalfd, reaping any child, running a
// command as a user), each wrapped once with the call's name in its error. Static-link safe:
// no NSS. Callers: the agent and qrexec-client-vm.
#pragma once

#include <bulkhead/agent/passwd.h>
#include <bulkhead/base/result.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/unique_fd.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bulkhead::agent::posix {

// Blocks the signals, gives them a no-op handler (a PID 1 only receives handled signals) and
// returns a non-blocking signalfd for them.
Result<UniqueFd> signal_fd(std::initializer_list<int> signals);
// The next pending signal number on a signalfd, nullopt when none.
Result<std::optional<int>> read_signal(int sfd);

struct Reaped {
    pid_t pid;
    sys::ExitStatus status;
};
// Reaps one ended child (any pid) without blocking; nullopt when none is left to reap now.
Result<std::optional<Reaped>> reap_any();

// Orphaned descendants are re-parented to us (and reaped by reap_any), as PID 1 has them.
Result<void> become_subreaper();

// In a freshly forked child: unblocks every signal and restores default handlers.
void reset_signals();
// Closes every descriptor >= lowest (close_range, or a loop on old kernels).
void close_from(int lowest);

struct Command {
    std::vector<std::string> argv; // argv[0] is a path
    std::vector<std::string> env;
    std::string cwd; // empty or missing = "/"
    // The user to become. When we are not root we cannot switch: the command runs as us.
    PasswdEntry user;
    std::vector<gid_t> groups; // supplementary groups
    // {child fd, our fd}: the child's 0, 1, 2 (or more); every other descriptor is closed.
    std::vector<std::pair<int, int>> fds;
    bool new_session = true;
};

// fork + exec as cmd.user. Errors from exec (not found, not executable) come back here.
Result<pid_t> spawn_as(Command const& cmd);

} // namespace bulkhead::agent::posix
