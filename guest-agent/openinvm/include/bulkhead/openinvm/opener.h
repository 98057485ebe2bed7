// Which program opens a received file or URL in the service domain ("the default
// application"), and running it to completion. Order: BULKHEAD_OPEN_CMD, then the first
// command line of /etc/bulkhead/open-command, then `mimeopen -n` (what Qubes' qubes-open
// runs: it waits for the application), then xdg-open (which may return before the
// application exits: an edit made after that is not sent back), then mailcap's `see`, all
// found on PATH. The command is split on whitespace (no shell); the file or URL is
// appended as the last argument. Caller: service.cpp. Trusts its configuration.
#pragma once

#include <bulkhead/base/result.h>

#include <optional>
#include <string>
#include <vector>

namespace bulkhead::openinvm {

inline constexpr char const* kOpenCommandFile = "/etc/bulkhead/open-command";

struct OpenerConfig {
    std::optional<std::string> env_command; // BULKHEAD_OPEN_CMD
    std::string config_path = kOpenCommandFile;
    std::string path_env; // PATH searched for xdg-open / see
};

// BULKHEAD_OPEN_CMD, BULKHEAD_OPEN_COMMAND_FILE (else kOpenCommandFile), PATH.
OpenerConfig opener_config_from_env();

// The argv prefix; Errc::NotFound when nothing can open files here.
Result<std::vector<std::string>> resolve_opener(OpenerConfig const& cfg);

// Runs prefix + target with stdin /dev/null and stdout/stderr on log_fd, waits for it
// (a viewer's exit ends the edit), and returns its exit code.
Result<int> run_opener(std::vector<std::string> const& prefix, std::string const& target,
                       int log_fd);

} // namespace bulkhead::openinvm
