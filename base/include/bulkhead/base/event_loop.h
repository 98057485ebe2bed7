// EventLoop: a small single-threaded epoll loop. Watch fds for readability/writability,
// run timers, and accept work posted from other threads (post() is the only thread-safe
// call). Callbacks may add or remove watches, including their own, while dispatching.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace bulkhead {

class EventLoop {
public:
    enum Events : uint32_t { Readable = 1, Writable = 2, Hangup = 4 };
    using FdCallback = std::function<void(uint32_t events)>;
    using TimerId = uint64_t;
    using Clock = std::chrono::steady_clock;

    static Result<std::unique_ptr<EventLoop>> create();
    ~EventLoop();

    // One watch per fd; watching again replaces it.
    Result<void> watch(int fd, uint32_t events, FdCallback cb);
    Result<void> modify(int fd, uint32_t events);
    void unwatch(int fd);
    bool watching(int fd) const { return m_fds.count(fd) != 0; }

    TimerId add_timer(Clock::duration after, std::function<void()> cb);
    void cancel_timer(TimerId id);

    // Thread-safe: runs cb on the loop thread soon.
    void post(std::function<void()> cb);

    // Runs until stop(). Returns an error only if epoll itself fails.
    Result<void> run();
    // Dispatches ready events once, waiting at most timeout.
    Result<void> run_once(Clock::duration timeout);
    void stop() { m_stopping = true; }
    bool stopping() const { return m_stopping; }

private:
    EventLoop(UniqueFd epoll, UniqueFd wake);
    void drain_posted();
    int next_timeout_ms(Clock::duration cap) const;
    void fire_timers();

    struct Watch {
        uint32_t events;
        std::shared_ptr<FdCallback> cb;
    };
    UniqueFd m_epoll;
    UniqueFd m_wake;
    std::unordered_map<int, Watch> m_fds;
    std::multimap<Clock::time_point, TimerId> m_timer_order;
    std::unordered_map<TimerId, std::pair<Clock::time_point, std::function<void()>>> m_timers;
    TimerId m_next_timer = 1;
    std::mutex m_post_mutex;
    std::vector<std::function<void()>> m_posted;
    bool m_stopping = false;
};

} // namespace bulkhead
