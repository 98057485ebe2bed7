// GuiXenRelay: on the xen backend, one thread per domain with a GUI that joins the domain's
// GUI vchan (dom0 the libxenvchan server on port 6000, the domain's gui-agent its client) to
// the socket bulkhead-guid listens on for that domain, so guid is the same program on both
// backends. The session's identity is the vchan's peer (Xen's), and the socket it reaches.
// When a session ends (either side closes), the relay listens again: a gui-agent that
// restarts gets a new session. Bytes are passed on unread; guid validates them.
// One domain's relay cannot stall another's (each has its own thread, every call non-blocking).
#pragma once

#include <bulkhead/base/unique_fd.h>
#include <bulkhead/rpc/channel.h>

#include <atomic>
#include <string>
#include <thread>

namespace bulkhead::dom0 {

class GuiXenRelay {
public:
    GuiXenRelay(std::string name, rpc::DomainId domid, std::string guid_socket);
    ~GuiXenRelay(); // stops the thread (closes both sides) and joins it
    GuiXenRelay(GuiXenRelay const&) = delete;
    GuiXenRelay& operator=(GuiXenRelay const&) = delete;

    // Sessions relayed so far (ended or running).
    uint64_t sessions() const { return m_sessions; }

private:
    void run();
    bool session(); // false: cancelled
    bool cancelled(int timeout_ms) const;

    std::string m_name;
    rpc::DomainId m_domid;
    std::string m_socket;
    UniqueFd m_cancel; // eventfd: readable once the relay must stop
    std::atomic<uint64_t> m_sessions{0};
    std::thread m_thread;
};

} // namespace bulkhead::dom0
