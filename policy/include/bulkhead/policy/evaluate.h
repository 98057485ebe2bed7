// evaluate(): the qrexec policy decision for one call, a pure function of (policy, request,
// system info), with Qubes 4.2 semantics. Called by the dom0 broker per call and by
// qrexec-policy eval. The request's source is the channel's domain, set by the caller.
#pragma once

#include <bulkhead/policy/policy.h>
#include <bulkhead/policy/system_info.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace bulkhead::policy {

struct Request {
    std::string service;  // e.g. qubes.Filecopy
    std::string argument; // without the '+'; empty for none
    std::string source;   // domain name (from the channel, never from the payload)
    std::string target;   // as the caller asked: name, dom0, @default, @dispvm, @dispvm:X, uuid:…
};

struct Allow {
    std::string target; // resolved: name, dom0 or @dispvm:TEMPLATE
    std::string user;   // empty: DEFAULT
    bool autostart = true;
    bool notify = false;
};
struct Deny {
    bool notify = true;
};
struct Ask {
    std::vector<std::string> targets; // sorted, byte order
    std::optional<std::string> default_target;
    std::string user;
    bool autostart = true;
    bool notify = false;
};
using Decision = std::variant<Allow, Deny, Ask>;

Decision evaluate(Policy const& policy, Request const& request, SystemInfo const& info);

// Qubes' charsets: a service name is [A-Za-z0-9_.-]+, its argument [A-Za-z0-9_.+-]* (no '/',
// no spaces: both end up in file names and command lines); 64 bytes each in policy files.
bool valid_service_name(std::string_view name);
bool valid_service_argument(std::string_view argument);
// "SERVICE" or "SERVICE+ARG" as a guest asks for it: a valid name, an argument of valid
// characters (of any length the frame allows).
bool valid_service_call(std::string_view service_and_arg);

// Splits "SERVICE+ARG" into service and argument.
Request make_request(std::string source, std::string target, std::string_view service_and_arg);

// One line: "allow target=T user=U autostart=yes notify=no" | "deny notify=yes" |
// "ask default_target=T|- targets=A,B user=U autostart=yes notify=no".
std::string format_decision(Decision const& d);

} // namespace bulkhead::policy
