// ProcessAskAgent: answers an ask by running a dom0 program (a script, or bulkhead-ask-dialog)
// with the question as JSON on stdin (see to_json); its stdout is the answer (a target name,
// or nothing = deny), a non-zero exit is deny. At the timeout the program's whole process
// group is killed and the answer is deny. Used by bulkheadd for --ask-agent script:|dialog.
#pragma once

#include <bulkhead/dom0/ask/ask_agent.h>

#include <mutex>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bulkhead::dom0 {

class ProcessAskAgent final : public AskAgent {
public:
    // argv[0] must be an absolute path (no PATH search for something dom0 trusts).
    explicit ProcessAskAgent(std::vector<std::string> argv);

    Result<std::optional<std::string>> ask(AskQuestion const& q,
                                           std::chrono::milliseconds timeout) override;
    // Kills every running answerer (their asks return deny); later asks deny at once.
    void cancel_all() override;

    static constexpr size_t kMaxAnswer = 4096; // more output than this is garbage = deny

private:
    std::vector<std::string> m_argv;
    std::mutex m_mutex;
    std::set<pid_t> m_running; // not yet reaped: their pids cannot be reused
    bool m_cancelled = false;
};

} // namespace bulkhead::dom0
