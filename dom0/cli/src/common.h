// What the qvm-* tools share: the admin socket connection, calls that turn an error reply
// into a printed one-line error, the domain list, and table output as qvm-ls prints it.
// The tools trust the daemon's replies (dom0) but never print control characters from them.
#pragma once

#include "args.h"

#include <bulkhead/base/result.h>
#include <bulkhead/dom0/api/api_client.h>

#include <optional>
#include <string>
#include <vector>

namespace bulkhead::dom0::cli {

// One entry point per tool: int tool(int argc, char** argv), argv[0] already the tool name.
using ToolMain = int (*)(int, char**);
struct Tool {
    char const* name;
    ToolMain main;
};
std::vector<Tool> const& tools();

// --admin-socket, else $BULKHEAD_ADMIN_SOCKET, else $BULKHEAD_ROOT/run/admin.sock.
std::string socket_path(Args const& args);

class Session {
public:
    // Connects or prints the error (exit status 1 in *status).
    static std::optional<Session> open(Args const& args, int* status);
    // The reply's Ok, or the error printed as "prog: error: ..." (nullopt).
    std::optional<admin::Ok> call(admin::Request const& req);
    // As call(), but returns the error instead of printing it.
    Result<admin::Ok> try_call(admin::Request const& req) { return m_client.call_ok(req); }
    // Every domain (sorted by name), or nullopt after printing the error.
    std::optional<std::vector<admin::DomainInfo>> domains(bool with_properties = false);
    Args const& args() const { return m_args; }

private:
    Session(Args const& args, ApiClient client)
        : m_args(args)
        , m_client(std::move(client)) {}
    Args const& m_args;
    ApiClient m_client;
};

// Terminal-safe text: control characters shown as \xNN.
std::string safe(std::string_view s);

// The VMNAME... | --all [--exclude X] shape, checked after parsing: a usage error's exit
// status, or nullopt when the combination is valid.
std::optional<int> check_domain_selection(Args& args);

// Resolves VMNAME positionals, or --all minus --exclude (dom0 never included by --all).
// Prints "no such domain" and returns nullopt when a named domain does not exist.
std::optional<std::vector<admin::DomainInfo>> select_domains(Session& s,
                                                             std::vector<std::string> const& names,
                                                             bool all,
                                                             bool with_properties = false);

// Columns padded to the widest cell, two spaces apart, no trailing blanks.
void print_table(std::vector<std::vector<std::string>> const& rows);

bool confirm(std::string const& question); // reads y/yes from stdin

} // namespace bulkhead::dom0::cli
