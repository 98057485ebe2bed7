// PolicyCache: the policy of a set of directories, loaded once and reloaded when any file in
// them changes (name, size or mtime), so an edit under /etc/qubes/policy.d applies to the
// next decision. Shared by bulkheadd (qrexec calls) and bulkhead-guid (clipboard pastes).
// Thread-safe. A policy that fails to load is no policy: the caller denies.
#pragma once

#include <bulkhead/policy/policy.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace bulkhead::policy {

class PolicyCache {
public:
    explicit PolicyCache(std::vector<std::string> dirs)
        : m_dirs(std::move(dirs)) {}

    // The current policy, or null with `error` set when it does not load (logged once per
    // change of the files).
    std::shared_ptr<Policy const> current(std::string& error);
    std::vector<std::string> const& dirs() const { return m_dirs; }

private:
    std::string signature() const;

    std::vector<std::string> m_dirs;
    std::mutex m_mutex;
    bool m_loaded = false;
    std::string m_signature;
    std::shared_ptr<Policy const> m_policy;
    std::string m_error;
};

} // namespace bulkhead::policy
