// qrexec v3 data sessions: what runs on one data vchan once it is connected, as Qubes does it.
// Both ends send MSG_HELLO first and check the peer's. The EXECUTOR (the end running the
// process) sends MSG_DATA_STDOUT/STDERR chunks (empty = end of that stream), then
// MSG_DATA_EXIT_CODE, then closes; the CALLER sends MSG_DATA_STDIN (empty = end) and receives
// the rest. Blocking and poll-based (one thread or a forked child per session); every byte
// from the channel goes through the qrexec validator. Used by the guest agent, qrexec-client-vm
// and dom0. Memory is bounded: a slow local sink stops the reading of the channel.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/rpc/channel.h>

#include <chrono>
#include <string_view>
#include <sys/types.h>

namespace bulkhead::rpc::session {

struct SessionOptions {
    // Deadline for the peer's HELLO; the rest of the session has none (a process may run long).
    std::chrono::milliseconds hello_timeout{30000};
};

// The caller's local ends. The session owns them and closes each when its stream ends; it
// sets them non-blocking while it runs and restores their flags when it closes them.
struct CallerIo {
    UniqueFd stdin_fd;  // read and sent as DATA_STDIN; invalid = stdin ends at once
    UniqueFd stdout_fd; // DATA_STDOUT written here; invalid = discarded
    UniqueFd stderr_fd; // DATA_STDERR written here; invalid = discarded
};

// Runs the caller role to the end; returns the exit code the executor reported.
// Errc::Closed/Protocol when the channel ended or broke before the exit code.
Result<int> run_caller(Channel& ch, CallerIo io, SessionOptions const& opts = {});

// The executor's local ends (pipes to a child process, or one socket for both directions).
struct ExecutorIo {
    UniqueFd stdin_fd;  // DATA_STDIN written here; invalid = discarded. When it ends: a socket
                        // gets shutdown(SHUT_WR), anything else is closed.
    UniqueFd stdout_fd; // read and sent as DATA_STDOUT; invalid = sent as ended at once
    UniqueFd stderr_fd; // read and sent as DATA_STDERR; invalid = sent as ended at once
    // The process whose exit status is reported (waited for with waitpid, so it must be our
    // child). pid -1 = no process: `exit_code` is sent once stdout and stderr ended.
    pid_t pid = -1;
    UniqueFd pidfd; // optional: pidfd of pid (opened here when missing)
    int exit_code = 0;
};

// Runs the executor role to the end: streams until the process exited and its stdout and
// stderr ended, sends DATA_EXIT_CODE, flushes. Returns the exit code sent (the process's,
// 128 + signal when it was killed). Errc::Closed when the caller went away first (then the
// process is not waited for).
Result<int> run_executor(Channel& ch, ExecutorIo io, SessionOptions const& opts = {});

// For a request that cannot run (service not found, unknown user): HELLO, `message` on the
// stderr stream, both streams ended, exit_code, as an executor would.
Result<void> run_failed(Channel& ch, int exit_code, std::string_view message,
                        SessionOptions const& opts = {});

} // namespace bulkhead::rpc::session
