// GuiBridge: bulkheadd's side of the GUI on the sandbox backend. It runs bulkhead-guid on dom0's
// X display and, as the AgentHub the DomainManager calls when a domain's agent is awaited and
// when the domain is gone, tells it through its control pipe (`add NAME LABEL SOCKET`,
// `remove NAME`): the socket is vchan.0.<id>.6000.sock in the domain's own vchan directory
// (/run/qubes-vchan inside), so its connection's identity is dom0's. bulkhead-guid gets the
// daemon's policy directories (qubes.ClipboardPaste) and each domain's class and tags with
// it (for @type: and @tag: rules). Names, labels, classes and tags come from the store;
// nothing here reads guest data.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/dom0/domains/agent_hub.h>
#include <bulkhead/dom0/domains/layout.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace bulkhead::dom0 {

class GuiBridge final : public AgentHub {
public:
    // What the store says of a domain: its label name ("" when it has none: red is used),
    // its class (AppVM, DispVM, ...) and tags.
    struct Facts {
        std::string label;
        std::string klass;
        std::vector<std::string> tags;
    };
    using Describe = std::function<Facts(std::string const&)>;

    static Result<std::unique_ptr<GuiBridge>> start(AgentHub& inner, Layout layout,
                                                    std::string const& guid_program,
                                                    std::string const& display,
                                                    std::vector<std::string> const& policy_dirs,
                                                    Describe describe);
    ~GuiBridge() override; // closes the pipe (bulkhead-guid stops) and reaps it

    Result<void> attach(std::string const& name, DomId id,
                        std::chrono::steady_clock::time_point deadline) override;
    void detach(std::string const& name) override;

private:
    GuiBridge(AgentHub& inner, Layout layout, Describe describe)
        : m_inner(inner)
        , m_layout(std::move(layout))
        , m_describe(std::move(describe)) {}
    void tell(std::string const& line);

    AgentHub& m_inner;
    Layout m_layout;
    Describe m_describe;
    std::mutex m_mutex;
    UniqueFd m_control;
    pid_t m_pid = -1;
};

} // namespace bulkhead::dom0
