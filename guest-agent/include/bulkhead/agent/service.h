// What a request from dom0 asks the agent to run: `QUBESRPC service[+arg] source` parsing,
// the `nogui:` prefix, service lookup along QREXEC_SERVICE_PATH and the per-service options in
// /etc/qubes/rpc-config, as Qubes' agent does. The command comes from dom0 (validated by the
// codec); names are checked again here before they touch a path.
#pragma once

#include <bulkhead/base/result.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::agent {

inline constexpr std::string_view default_service_path = "/usr/local/etc/qubes-rpc:/etc/qubes-rpc";
inline constexpr std::string_view default_rpc_config_dir = "/etc/qubes/rpc-config";

// A leading "nogui:" is dropped (we have no GUI session to wait for).
std::string_view strip_nogui(std::string_view command);

struct ServiceCall {
    std::string service; // e.g. qubes.Echo
    std::string arg;     // after '+', may be empty
    std::string source;  // calling domain's name, as dom0 says
    std::string full_name() const { return arg.empty() ? service : service + "+" + arg; }
};

// nullopt when command is not a service call (no QUBESRPC keyword); Errc::Invalid when it is
// one but malformed (bad names, '/' or "..", missing source).
Result<std::optional<ServiceCall>> parse_service_call(std::string_view command);

struct ServiceConfig {
    bool wait_for_session = false;
    bool skip_service_descriptor = false;
};
// `key=value` lines, '#' comments; unknown keys ignored, booleans 1/0/true/false/yes/no.
ServiceConfig parse_service_config(std::string_view text);
// rpc-config/<service>+<arg>, then rpc-config/<service>; defaults when neither exists.
ServiceConfig load_service_config(std::string const& dir, ServiceCall const& call);

struct ServiceFile {
    std::string path;
    enum class Kind { Executable, Script, Socket } kind = Kind::Executable;
    bool pass_arg = false; // found as plain `service`: the argument becomes $1
};
// Per directory of search_path: `service+arg` first, then `service`. nullopt = not found.
Result<std::optional<ServiceFile>> find_service(std::vector<std::string> const& search_path,
                                                ServiceCall const& call);
std::vector<std::string> split_search_path(std::string_view colon_separated);

} // namespace bulkhead::agent
