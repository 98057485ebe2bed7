#include "clipboard_policy.h"

#include <bulkhead/base/log.h>

namespace bulkhead::gui::daemon {

namespace {
Logger const log{"guid"};
} // namespace

void ClipboardPolicy::set_domain(policy::DomainInfo d) {
    d.power_state = "Running";
    auto name = d.name;
    m_domains[name] = std::move(d);
}

void ClipboardPolicy::forget(std::string const& name) {
    m_domains.erase(name);
}

policy::Decision ClipboardPolicy::decide(policy::Request const& request) {
    std::string error;
    auto pol = m_cache.current(error);
    if (!pol) {
        LOG_WARN(log, "clipboard paste denied: the policy does not load", {"error", error});
        return policy::Deny{true};
    }
    policy::SystemInfo info;
    policy::DomainInfo dom0;
    dom0.name = "dom0";
    dom0.type = policy::DomainType::AdminVM;
    dom0.power_state = "Running";
    info.add(std::move(dom0));
    for (auto const& [name, d] : m_domains)
        info.add(d);
    auto decision = policy::evaluate(*pol, request, info);
    LOG_INFO(log, "clipboard paste policy", {"source", request.source}, {"target", request.target},
             {"decision", policy::format_decision(decision)});
    return decision;
}

} // namespace bulkhead::gui::daemon
