#include <bulkhead/base/event_loop.h>

#include <cerrno>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace bulkhead {

namespace {
uint32_t to_epoll(uint32_t ev) {
    uint32_t out = 0;
    if (ev & EventLoop::Readable)
        out |= EPOLLIN | EPOLLRDHUP;
    if (ev & EventLoop::Writable)
        out |= EPOLLOUT;
    return out;
}
uint32_t from_epoll(uint32_t ev) {
    uint32_t out = 0;
    if (ev & (EPOLLIN | EPOLLPRI))
        out |= EventLoop::Readable;
    if (ev & EPOLLOUT)
        out |= EventLoop::Writable;
    if (ev & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
        out |= EventLoop::Hangup | EventLoop::Readable;
    return out;
}
} // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep)
        return Error::from_errno("epoll_create1", errno);
    UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake)
        return Error::from_errno("eventfd", errno);
    std::unique_ptr<EventLoop> loop(new EventLoop(std::move(ep), std::move(wake)));
    int wfd = loop->m_wake.get();
    TRY(loop->watch(wfd, Readable, [l = loop.get()](uint32_t) { l->drain_posted(); }));
    return loop;
}

EventLoop::EventLoop(UniqueFd epoll, UniqueFd wake)
    : m_epoll(std::move(epoll))
    , m_wake(std::move(wake)) {}

EventLoop::~EventLoop() = default;

Result<void> EventLoop::watch(int fd, uint32_t events, FdCallback cb) {
    epoll_event ev{};
    ev.events = to_epoll(events);
    ev.data.fd = fd;
    bool existed = m_fds.count(fd) != 0;
    if (::epoll_ctl(m_epoll.get(), existed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
        return Error::from_errno("epoll_ctl", errno);
    m_fds[fd] = Watch{events, std::make_shared<FdCallback>(std::move(cb))};
    return {};
}

Result<void> EventLoop::modify(int fd, uint32_t events) {
    auto it = m_fds.find(fd);
    if (it == m_fds.end())
        return unexpected(Errc::NotFound, "event loop: fd not watched");
    if (it->second.events == events)
        return {};
    epoll_event ev{};
    ev.events = to_epoll(events);
    ev.data.fd = fd;
    if (::epoll_ctl(m_epoll.get(), EPOLL_CTL_MOD, fd, &ev) < 0)
        return Error::from_errno("epoll_ctl", errno);
    it->second.events = events;
    return {};
}

void EventLoop::unwatch(int fd) {
    if (m_fds.erase(fd))
        ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::add_timer(Clock::duration after, std::function<void()> cb) {
    TimerId id = m_next_timer++;
    auto when = Clock::now() + after;
    m_timers.emplace(id, std::pair{when, std::move(cb)});
    m_timer_order.emplace(when, id);
    return id;
}

void EventLoop::cancel_timer(TimerId id) {
    m_timers.erase(id);
}

void EventLoop::post(std::function<void()> cb) {
    {
        std::lock_guard lock(m_post_mutex);
        m_posted.push_back(std::move(cb));
    }
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_wake.get(), &one, sizeof one);
}

void EventLoop::drain_posted() {
    uint64_t v;
    [[maybe_unused]] auto n = ::read(m_wake.get(), &v, sizeof v);
    std::vector<std::function<void()>> work;
    {
        std::lock_guard lock(m_post_mutex);
        work.swap(m_posted);
    }
    for (auto& w : work)
        w();
}

int EventLoop::next_timeout_ms(Clock::duration cap) const {
    auto limit = cap;
    for (auto it = m_timer_order.begin(); it != m_timer_order.end(); ++it) {
        if (!m_timers.count(it->second))
            continue; // cancelled; removed when it comes due
        limit = std::min<Clock::duration>(limit, it->first - Clock::now());
        break;
    }
    if (limit <= Clock::duration::zero())
        return 0;
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(limit).count();
    return int(std::min<int64_t>(ms, 1 << 30));
}

void EventLoop::fire_timers() {
    auto now = Clock::now();
    while (!m_timer_order.empty() && m_timer_order.begin()->first <= now) {
        TimerId id = m_timer_order.begin()->second;
        m_timer_order.erase(m_timer_order.begin());
        auto it = m_timers.find(id);
        if (it == m_timers.end())
            continue;
        auto cb = std::move(it->second.second);
        m_timers.erase(it);
        cb();
    }
}

Result<void> EventLoop::run_once(Clock::duration timeout) {
    epoll_event events[64];
    int n = ::epoll_wait(m_epoll.get(), events, 64, next_timeout_ms(timeout));
    if (n < 0) {
        if (errno == EINTR)
            return {};
        return Error::from_errno("epoll_wait", errno);
    }
    for (int i = 0; i < n; ++i) {
        auto it = m_fds.find(events[i].data.fd);
        if (it == m_fds.end())
            continue;            // removed by an earlier callback in this batch
        auto cb = it->second.cb; // keep alive even if the callback unwatches itself
        (*cb)(from_epoll(events[i].events));
    }
    fire_timers();
    return {};
}

Result<void> EventLoop::run() {
    m_stopping = false;
    while (!m_stopping)
        TRY(run_once(std::chrono::hours(1)));
    return {};
}

} // namespace bulkhead
