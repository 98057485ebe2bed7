// GuiBridge: bulkheadd's side of the GUI on the sandbox backend. It runs bulkhead-guid on dom0's
// X display and, as the AgentHub the DomainManager calls when a domain's agent is awaited and
// when the domain is gone, tells it through its control pipe (`add NAME LABEL SOCKET`,
// `remove NAME`): the socket is vchan.0.<id>.6000.sock in the domain's own vchan directory
// (/run/qubes-vchan inside), so its connection's identity is dom0's. Names and labels come
// from the store; nothing here reads guest data.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/dom0/domains/agent_hub.h>
#include <bulkhead/dom0/domains/layout.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace bulkhead::dom0 {

class GuiBridge final : public AgentHub {
public:
    // label_of: a domain's label name from the store ("" when it has none: red is used).
    static Result<std::unique_ptr<GuiBridge>>
    start(AgentHub& inner, Layout layout, std::string const& guid_program,
          std::string const& display, std::function<std::string(std::string const&)> label_of);
    ~GuiBridge() override; // closes the pipe (bulkhead-guid stops) and reaps it

    Result<void> attach(std::string const& name, DomId id,
                        std::chrono::steady_clock::time_point deadline) override;
    void detach(std::string const& name) override;

private:
    GuiBridge(AgentHub& inner, Layout layout,
              std::function<std::string(std::string const&)> label_of)
        : m_inner(inner)
        , m_layout(std::move(layout))
        , m_label_of(std::move(label_of)) {}
    void tell(std::string const& line);

    AgentHub& m_inner;
    Layout m_layout;
    std::function<std::string(std::string const&)> m_label_of;
    std::mutex m_mutex;
    UniqueFd m_control;
    pid_t m_pid = -1;
};

} // namespace bulkhead::dom0
