#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/policy/policy_cache.h>

namespace bulkhead::policy {

namespace {
Logger const log{"policy"};
} // namespace

std::string PolicyCache::signature() const {
    std::string sig;
    for (auto const& dir : m_dirs) {
        auto names = sys::list_dir(dir);
        if (!names)
            continue;
        for (auto const& n : *names)
            if (auto st = sys::stat(dir + "/" + n))
                sig += dir + "/" + n + ":" + std::to_string(st->st_size) + ":" +
                       std::to_string(st->st_mtim.tv_sec) + "." +
                       std::to_string(st->st_mtim.tv_nsec) + ";";
    }
    return sig;
}

std::shared_ptr<Policy const> PolicyCache::current(std::string& error) {
    auto sig = signature();
    std::lock_guard lock(m_mutex);
    if (!m_loaded || sig != m_signature) {
        m_loaded = true;
        m_signature = sig;
        auto p = Policy::load(m_dirs);
        if (p) {
            m_policy = std::make_shared<Policy const>(std::move(*p));
            m_error.clear();
        } else {
            m_policy.reset();
            m_error = p.error().message();
            LOG_ERROR(log, "policy does not load; every call is denied", {"error", m_error});
        }
    }
    error = m_error;
    return m_policy;
}

} // namespace bulkhead::policy
