// The hostile suite's fixture: a real bulkheadd (System, sandbox backend) whose domains run
// hostile-init as PID 1, a well-behaved domain `good` (the real agent), and `hostile`, whose
// agent is the test (HostileAgent). Measures good's `qvm-run -p` latency before anything
// hostile happens and checks every case against a bound derived from it; snapshots dom0's
// files to check that nothing was written outside the places dom0 chose.
#pragma once

#include "hostile_agent.h"
#include "system.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace bulkhead::hostile {

// Every string the hostile domain chooses carries this, so a file named after one is found.
inline constexpr char const* kMarker = "HSTL";

// The suite's --agent-dir: every tool of the build, with hostile-init as bulkhead-agent.
struct ToolsDir {
    std::string path;
    ToolsDir();
    ~ToolsDir();
};

class Fixture {
public:
    Fixture();

    // One `qvm-run -p good 'echo ok'`: checks its output, returns its duration in seconds.
    double good_call();
    // good answers (three calls) within the bound, qvm-ls serves, bulkheadd runs.
    void good_is_fine();
    // Calls into good back to back on another thread while fn runs (at least `min_calls`);
    // each must succeed within the bound. Returns the durations.
    std::vector<double> good_during(std::function<void()> const& fn, int min_calls = 3);
    void daemon_alive();
    bool halted_within(std::string const& name, std::chrono::milliseconds timeout);
    // dom0 hung up on the hostile agent, the domain was killed (fail closed), and the
    // daemon log says why (contains `why`, logged after mark).
    void dropped(size_t mark, std::string const& why);
    // Restarts the hostile domain with a correct handshake (after a case that killed it).
    void restart_hostile();
    // The running domain's id (VCHAN_DOMAIN of its init), 0 if not found.
    uint32_t domid(std::string const& name) const;
    size_t log_mark() const { return s.daemon_log().size(); }
    std::string log_since(size_t mark) const;
    // No path under $BULKHEAD_ROOT outside the domains' own directories appeared since the
    // fixture was set up, and no file anywhere there or in /tmp carries kMarker.
    void nothing_written_outside();

    ToolsDir tools;
    testing::System s;
    HostileAgent bad;
    double base_p99 = 0;
    double bound = 0;

private:
    std::set<std::string> snapshot() const;
    std::set<std::string> m_before;
};

// The next message from dom0 must be MSG_SERVICE_CONNECT for ident; returns it.
q::ServiceConnect connected(HostileAgent& bad, std::string const& ident);
// Serves the caller's side of an allowed call as the hostile domain's data endpoint (the
// source listens, dom0 links it into the target's directory): sends `input`, returns the
// target's exit code and what its service printed.
std::pair<int, std::string> run_call(HostileAgent& bad, q::ServiceConnect const& c,
                                     std::string const& input);

// The p99 of samples (the largest for fewer than 100).
double p99(std::vector<double> samples);

} // namespace bulkhead::hostile
