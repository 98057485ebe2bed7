// ClipboardPolicy: bulkhead-guid's answer to "may SOURCE's clipboard be pasted into TARGET",
// qrexec policy service qubes.ClipboardPaste, from the same policy files and evaluator dom0
// uses for qrexec calls (policy::PolicyCache, policy::evaluate), re-read when they change.
// System info: the domains guid was told about (names, type and tags from dom0's control
// stream; running) and dom0. Everything here is dom0 data. Not thread-safe (guid's loop).
#pragma once

#include <bulkhead/policy/evaluate.h>
#include <bulkhead/policy/policy_cache.h>

#include <map>
#include <string>
#include <vector>

namespace bulkhead::gui::daemon {

class ClipboardPolicy {
public:
    explicit ClipboardPolicy(std::vector<std::string> dirs)
        : m_cache(std::move(dirs)) {}

    // A domain guid serves (replaces what was known of it).
    void set_domain(policy::DomainInfo d);
    void forget(std::string const& name);
    // A policy that does not load, or no rule: Deny.
    policy::Decision decide(policy::Request const& request);

private:
    policy::PolicyCache m_cache;
    std::map<std::string, policy::DomainInfo> m_domains;
};

} // namespace bulkhead::gui::daemon
