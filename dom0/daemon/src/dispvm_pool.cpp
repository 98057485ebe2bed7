#include "dispvm_pool.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/text.h>

#include <algorithm>
#include <vector>

namespace bulkhead::dom0 {
namespace {

Logger const log{"dispvm-pool"};

using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(250);     // store generation check
constexpr auto kPeriod = std::chrono::seconds(2);          // full reconcile anyway
constexpr auto kFailureBackoff = std::chrono::seconds(10); // after a failed preload

} // namespace

DispvmPool::DispvmPool(Store& store, DomainManager& manager, Hooks hooks)
    : m_store(store)
    , m_manager(manager)
    , m_hooks(std::move(hooks)) {}

DispvmPool::~DispvmPool() {
    stop();
}

void DispvmPool::start() {
    std::lock_guard lock(m_mutex);
    if (m_worker.joinable() || m_stopping)
        return;
    m_worker = std::thread([this] { run(); });
}

void DispvmPool::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_cv.notify_all();
    }
    if (m_worker.joinable())
        m_worker.join();
    std::vector<std::string> names;
    {
        std::lock_guard lock(m_mutex);
        for (auto& [tmpl, q] : m_ready)
            names.insert(names.end(), q.begin(), q.end());
        m_ready.clear();
    }
    // Killed in parallel: each kill waits for its exit event.
    std::vector<std::thread> killers;
    for (auto const& n : names)
        killers.emplace_back([this, n] { kill_now(n); });
    for (auto& t : killers)
        t.join();
}

std::optional<std::string> DispvmPool::take(std::string const& dvm_template) {
    for (;;) {
        std::string name;
        {
            std::lock_guard lock(m_mutex);
            m_kicked = true; // refill (or notice a changed feature) once the request ran
            m_quiet_until = Clock::now() + kRefillDelay;
            m_cv.notify_all();
            auto it = m_ready.find(dvm_template);
            if (m_stopping || it == m_ready.end() || it->second.empty())
                return std::nullopt;
            name = std::move(it->second.front());
            it->second.pop_front();
        }
        if (auto r = m_manager.unpause(name); r) {
            LOG_INFO(log, "preloaded disposable taken", {"template", dvm_template},
                     {"domain", name});
            return name;
        } else {
            LOG_WARN(log, "preloaded disposable unusable; destroying", {"domain", name},
                     {"error", r.error().message()});
            m_hooks.destroy(name);
        }
    }
}

size_t DispvmPool::ready_count(std::string const& dvm_template) {
    std::lock_guard lock(m_mutex);
    auto it = m_ready.find(dvm_template);
    return it == m_ready.end() ? 0 : it->second.size();
}

void DispvmPool::run() {
    uint64_t last_gen = ~uint64_t(0);
    Clock::time_point last_full{};
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        auto until = std::max(Clock::now() + kPoll, m_quiet_until);
        m_cv.wait_until(lock, until,
                        [&] { return m_stopping || (m_kicked && Clock::now() >= m_quiet_until); });
        if (m_stopping)
            break;
        if (Clock::now() < m_quiet_until)
            continue; // m_kicked stays set: reconcile once the quiet time is over
        bool kicked = std::exchange(m_kicked, false);
        lock.unlock();
        auto gen = m_store.generation();
        auto now = Clock::now();
        if (kicked || gen != last_gen || now - last_full >= kPeriod) {
            last_gen = gen;
            last_full = now;
            reconcile();
        }
        lock.lock();
    }
}

std::map<std::string, uint64_t> DispvmPool::targets() {
    std::map<std::string, uint64_t> want;
    auto records = m_store.list();
    if (!records) {
        LOG_WARN(log, "listing domains", {"error", records.error().message()});
        return want;
    }
    for (auto const& rec : *records) {
        auto f = rec.features.find(kFeature);
        if (f == rec.features.end() || rec.klass == Klass::DispVM)
            continue;
        auto n = text::parse_u64(f->second);
        if (!n || *n == 0)
            continue;
        auto tfd = m_store.get_property(rec.name, "template_for_dispvms");
        if (!tfd || tfd->value != "True")
            continue;
        want[rec.name] = std::min<uint64_t>(*n, kMaxPerTemplate);
    }
    return want;
}

void DispvmPool::reconcile() {
    auto want = targets();
    std::vector<std::string> surplus;
    {
        std::lock_guard lock(m_mutex);
        for (auto& [tmpl, q] : m_ready) {
            // Killed, or unpaused by hand (then it is an ordinary disposable in use).
            std::erase_if(
                q, [&](std::string const& n) { return m_manager.power_state(n) != "Paused"; });
            auto w = want.count(tmpl) ? want.at(tmpl) : 0;
            while (q.size() > w) {
                surplus.push_back(q.back());
                q.pop_back();
            }
        }
        std::erase_if(m_ready, [](auto const& kv) { return kv.second.empty(); });
    }
    for (auto const& n : surplus) {
        LOG_INFO(log, "preloaded disposable no longer wanted", {"domain", n});
        m_hooks.destroy(n);
    }
    for (auto const& [tmpl, n] : want) {
        for (;;) {
            {
                std::lock_guard lock(m_mutex);
                if (m_stopping || Clock::now() < m_quiet_until)
                    return; // a take: the worker goes on after kRefillDelay
                auto b = m_backoff.find(tmpl);
                if (b != m_backoff.end() && Clock::now() < b->second)
                    break;
                auto it = m_ready.find(tmpl);
                if (it != m_ready.end() && it->second.size() >= n)
                    break;
            }
            if (auto r = preload_one(tmpl); !r) {
                LOG_WARN(log, "preloading a disposable failed; retrying later", {"template", tmpl},
                         {"error", r.error().message()});
                std::lock_guard lock(m_mutex);
                m_backoff[tmpl] = Clock::now() + kFailureBackoff;
                break;
            }
        }
    }
}

Result<void> DispvmPool::preload_one(std::string const& tmpl) {
    auto t0 = Clock::now();
    auto name = TRY(m_hooks.create_record(tmpl));
    if (auto started = m_manager.start(name); !started) {
        m_hooks.destroy(name);
        return unexpected(started.error());
    }
    if (auto paused = m_manager.pause(name); !paused) {
        m_hooks.destroy(name);
        return unexpected(paused.error());
    }
    {
        std::lock_guard lock(m_mutex);
        if (!m_stopping) {
            m_ready[tmpl].push_back(name);
            m_backoff.erase(tmpl);
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
            LOG_INFO(log, "disposable preloaded", {"template", tmpl}, {"domain", name},
                     {"ms", std::to_string(ms.count())});
            return {};
        }
    }
    kill_now(name);
    return {};
}

void DispvmPool::kill_now(std::string const& name) {
    if (auto r = m_manager.kill(name); !r)
        LOG_WARN(log, "killing a preloaded disposable", {"domain", name},
                 {"error", r.error().message()});
}

} // namespace bulkhead::dom0
