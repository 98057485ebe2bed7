// System: a real bulkheadd (sandbox backend) in a temporary BULKHEAD_ROOT, for integration
// tests and benchmarks. Builds a busybox template layer, starts the daemon, runs the real
// qvm-* tools against it, and stops everything (domains included) when destroyed.
// Failures throw std::runtime_error (a test framework reports them; benchmarks abort).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/sys/proc.h>

#include <string>
#include <vector>

namespace bulkhead::testing {

struct ToolResult {
    int code = -1;
    std::string out;
    std::string err;
};

class System {
public:
    // policy: contents of a policy file installed as the only policy; daemon_args are
    // added to bulkheadd's command line.
    explicit System(std::string const& policy = "", std::vector<std::string> daemon_args = {});
    ~System();
    System(System const&) = delete;

    std::string const& root() const { return m_root; }
    std::string const& bin() const { return m_bin; }
    // Runs build/bin/<tool> args... with BULKHEAD_ROOT set; stdin_data fed to it.
    ToolResult tool(std::vector<std::string> args, std::string const& stdin_data = "");
    // Same, but throws unless it exits 0 (with its output and the daemon's log); returns stdout.
    std::string ok(std::vector<std::string> args, std::string const& stdin_data = "");
    // Environment for spawning tools directly.
    std::vector<std::string> env() const;
    // A busybox template "tmpl" with its base layer, and app domains of it.
    void make_template(std::string const& name = "tmpl");
    // Stacks an X layer (bulkhead-gui-layer: the host's Xvfb, xmessage, xclip, ...) on it.
    void add_gui_layer(std::string const& name = "tmpl");
    // A directory holding one file (path relative to the layer root) with content.
    std::string make_layer_dir(std::string const& rel_path, std::string const& content);
    void restart_daemon();
    // qvm-ls --raw-list once no listed name contains `part` (disposables are destroyed
    // asynchronously), or the last listing after 5 s.
    std::string raw_list_without(std::string const& part);
    std::string daemon_log() const;
    // dom0's GUI socket for a running domain (bulkheadd --gui-display), vchan.0.<id>.6000.sock
    // in its vchan directory, once it is there; throws after 10 s.
    std::string gui_socket(std::string const& domain) const;
    pid_t daemon_pid() const { return m_daemon; }

private:
    void start_daemon();
    void stop_daemon();

    std::string m_root;
    std::string m_bin;
    std::vector<std::string> m_daemon_args;
    pid_t m_daemon = -1;
    int m_layer_seq = 0;
};

// Whether host pid descends from ancestor (e.g. a domain of this test's daemon).
bool descends_from(pid_t pid, pid_t ancestor);
// Host pids of the processes whose comm is `comm` below ancestor.
std::vector<pid_t> processes_named(std::string const& comm, pid_t ancestor);

} // namespace bulkhead::testing
