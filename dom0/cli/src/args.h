// Args: the small argparse-style parser shared by the qvm-* tools (dom0/cli). Long and short
// options (--x=v, --x v, -x v, -xv, clustered short flags), positionals, `--`, and the
// common options every tool has: -h/--help, -v/--verbose, -q/--quiet, --admin-socket.
// Exit codes as Python's argparse: 0 after --help, 2 for usage errors.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::dom0::cli {

class Args {
public:
    // usage: what follows the program name in the usage line, e.g. "[options] VMNAME".
    Args(std::string prog, std::string usage, std::string description);

    // A flag (no value). Names are long names without "--"; short may be 0.
    Args& flag(std::string name, char short_name, std::string help);
    // An option taking a value; repeatable (values() returns every occurrence).
    Args& option(std::string name, char short_name, std::string metavar, std::string help);
    // Another long name for the option added last.
    Args& alias(std::string name);
    // Text printed after the option list by --help.
    Args& epilog(std::string text);

    // nullopt: carry on. Otherwise the tool exits with the value (help printed: 0;
    // usage error printed: 2).
    std::optional<int> parse(int argc, char** argv);

    bool has(std::string_view name) const;
    int count(std::string_view name) const;
    std::string value(std::string_view name, std::string fallback = {}) const;
    std::vector<std::string> values(std::string_view name) const;
    std::vector<std::string> const& positionals() const { return m_positionals; }
    bool quiet() const { return count("quiet") > count("verbose"); }
    bool verbose() const { return count("verbose") > count("quiet"); }
    std::string const& prog() const { return m_prog; }

    // Prints the usage line and "prog: error: msg" to stderr; returns 2.
    int usage_error(std::string const& msg) const;
    // Prints "prog: error: msg" to stderr; returns 1.
    int fail(std::string const& msg) const;

private:
    struct Opt {
        std::vector<std::string> names; // long names, first is canonical
        char short_name;
        std::string metavar; // empty: a flag
        std::string help;    // empty: hidden from --help
    };
    Opt const* find_long(std::string_view name) const;
    Opt const* find_short(char c) const;
    void print_help() const;

    std::string m_prog, m_usage, m_description, m_epilog;
    std::vector<Opt> m_opts;
    std::vector<std::pair<std::string, std::string>> m_seen; // canonical name, value
    std::vector<std::string> m_positionals;
};

} // namespace bulkhead::dom0::cli
