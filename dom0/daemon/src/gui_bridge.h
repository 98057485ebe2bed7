// GuiBridge: bulkheadd's side of the GUI. It runs bulkhead-guid on dom0's
// X display and, as the AgentHub the DomainManager calls when a domain's agent is awaited and
// when the domain is gone, tells it through its control pipe (`add NAME LABEL SOCKET`,
// `remove NAME`): the socket is vchan.0.<id>.6000.sock in the domain's own vchan directory
// (/run/qubes-vchan inside), so its connection's identity is dom0's. bulkhead-guid gets the
// daemon's policy directories (qubes.ClipboardPaste) and each domain's class and tags with
// it (for @type: and @tag: rules). Names, labels, classes and tags come from the store;
// nothing here reads guest data. On the xen backend the domain cannot reach that socket: a
// GuiXenRelay joins its GUI vchan (port 6000) to it, and guid is told the domain's id
// (`xen=ID`), the domain its grant references are mapped from.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/dom0/domains/agent_hub.h>
#include <bulkhead/dom0/domains/layout.h>

#include "gui_xen_relay.h"

#include <functional>
#include <map>
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

    enum class Backend { Sandbox, Xen };
    static Result<std::unique_ptr<GuiBridge>> start(AgentHub& inner, Layout layout,
                                                    std::string const& guid_program,
                                                    std::string const& display,
                                                    std::vector<std::string> const& policy_dirs,
                                                    Describe describe, Backend backend);
    ~GuiBridge() override; // closes the pipe (bulkhead-guid stops) and reaps it

    Result<void> attach(std::string const& name, DomId id,
                        std::chrono::steady_clock::time_point deadline) override;
    void detach(std::string const& name) override;

private:
    GuiBridge(AgentHub& inner, Layout layout, Describe describe, Backend backend)
        : m_inner(inner)
        , m_layout(std::move(layout))
        , m_describe(std::move(describe))
        , m_backend(backend) {}
    void tell(std::string const& line);

    AgentHub& m_inner;
    Layout m_layout;
    Describe m_describe;
    std::mutex m_mutex;
    UniqueFd m_control;
    pid_t m_pid = -1;
    Backend m_backend;
    std::mutex m_relays_mutex;
    std::map<std::string, std::unique_ptr<GuiXenRelay>> m_relays; // Xen: by domain name
};

} // namespace bulkhead::dom0
