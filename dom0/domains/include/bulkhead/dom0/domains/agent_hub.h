// AgentHub: dom0's side of every domain's agent control connection (vchan port 512),
// implemented by the qrexec broker. The domain manager attaches a domain once the backend
// has created it and detaches it when it is gone.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/dom0/hypervisor/hypervisor.h>

#include <chrono>
#include <string>

namespace bulkhead::dom0 {

class AgentHub {
public:
    virtual ~AgentHub() = default;
    // Connects to the agent of domain `name` (id `id`) and exchanges HELLO; blocks the
    // calling thread (never the event loop) until done or deadline (Errc::Timeout).
    virtual Result<void> attach(std::string const& name, DomId id,
                                std::chrono::steady_clock::time_point deadline) = 0;
    // The domain is gone (or going): drop its connection and fail its pending calls.
    virtual void detach(std::string const& name) = 0;
};

} // namespace bulkhead::dom0
