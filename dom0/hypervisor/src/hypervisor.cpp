#include <bulkhead/dom0/hypervisor/hypervisor.h>

namespace bulkhead::dom0 {

std::string_view to_string(PowerState state) {
    switch (state) {
    case PowerState::Running:
        return "running";
    case PowerState::Paused:
        return "paused";
    case PowerState::Stopping:
        return "stopping";
    }
    return "unknown";
}

std::string_view to_string(HypervisorEvent::Kind kind) {
    switch (kind) {
    case HypervisorEvent::Kind::Exited:
        return "exited";
    case HypervisorEvent::Kind::Crashed:
        return "crashed";
    case HypervisorEvent::Kind::Destroyed:
        return "destroyed";
    }
    return "unknown";
}

Result<NetworkLinkInfo> Hypervisor::attach_network(DomId, NetworkLink const&) {
    return unexpected(Errc::Unsupported,
                      std::string(backend_name()) + " backend: networking is not supported yet");
}

Result<void> Hypervisor::detach_network(DomId) {
    return unexpected(Errc::Unsupported,
                      std::string(backend_name()) + " backend: networking is not supported yet");
}

Result<void> Hypervisor::apply_network_rules(DomId, std::string const&) {
    return unexpected(Errc::Unsupported,
                      std::string(backend_name()) + " backend: networking is not supported yet");
}

} // namespace bulkhead::dom0
