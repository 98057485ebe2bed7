// DispvmPool: preloaded disposables, as Qubes 4.3 names them. The feature
// `preload-dispvm-max` (integer N) on a disposable template (template_for_dispvms=True)
// keeps N disposables of it created, started and paused. take() hands one out, unpaused
// (Running), instead of a cold create + start; the pool then refills in the background.
//
// One worker thread reconciles the pools with the store: when the store's generation
// changed (checked every 250 ms), every 2 s anyway (a preloaded disposable killed or
// unpaused by hand leaves its pool), and after a take. A take first quiets the worker for
// kRefillDelay: the refill (a store write, a domain launch) would otherwise compete with
// the request it serves for the CPU, the store and the backend. Creating a disposable
// never holds the pool's lock, so take() never waits for a refill.
// Thread-safe. stop() joins the worker and kills every disposable still in a pool.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/dom0/domains/domain_manager.h>
#include <bulkhead/dom0/store/store.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace bulkhead::dom0 {

class DispvmPool {
public:
    static constexpr char const* kFeature = "preload-dispvm-max";
    static constexpr uint64_t kMaxPerTemplate = 64; // larger values are clamped
    static constexpr std::chrono::milliseconds kRefillDelay{1000};

    struct Hooks {
        // Creates a new (halted) DispVM record of the template; returns its name.
        std::function<Result<std::string>(std::string const& dvm_template)> create_record;
        // Kills (if running) and forgets a disposable; must not block on the caller.
        std::function<void(std::string const& name)> destroy;
    };

    DispvmPool(Store& store, DomainManager& manager, Hooks hooks);
    ~DispvmPool();
    DispvmPool(DispvmPool const&) = delete;

    void start();
    // Joins the worker (a disposable being preloaded is finished, then killed) and kills
    // every preloaded disposable. Idempotent.
    void stop();

    // A preloaded disposable of dvm_template, unpaused and no longer in the pool, or
    // nullopt when none is ready. Wakes the worker to refill.
    std::optional<std::string> take(std::string const& dvm_template);
    // Ready (paused) disposables of a template, for logs and tests.
    size_t ready_count(std::string const& dvm_template);

private:
    void run();
    void reconcile();
    // Wanted pool size per template, from the store.
    std::map<std::string, uint64_t> targets();
    // Creates, starts and pauses one disposable of tmpl; adds it to the pool.
    Result<void> preload_one(std::string const& tmpl);
    void kill_now(std::string const& name);

    Store& m_store;
    DomainManager& m_manager;
    Hooks m_hooks;

    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping = false;
    bool m_kicked = false;
    std::chrono::steady_clock::time_point m_quiet_until{};  // no reconcile before (a take)
    std::map<std::string, std::deque<std::string>> m_ready; // template → paused disposables
    std::map<std::string, std::chrono::steady_clock::time_point> m_backoff; // after failures
    std::thread m_worker;
};

} // namespace bulkhead::dom0
