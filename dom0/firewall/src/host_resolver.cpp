#include <bulkhead/dom0/firewall/host_resolver.h>

#include <arpa/inet.h>
#include <condition_variable>
#include <map>
#include <mutex>
#include <netdb.h>
#include <optional>
#include <thread>

namespace bulkhead::dom0::firewall {

using Clock = std::chrono::steady_clock;

struct HostResolver::State {
    Options options;
    Resolver lookup;
    std::mutex mutex;
    std::condition_variable done;
    struct Entry {
        std::optional<Result<std::vector<std::string>>> answer; // empty: lookup running
        Clock::time_point expires;
    };
    std::map<std::string, Entry> cache;
    size_t pending = 0;
};

HostResolver::HostResolver(Options options, Resolver lookup)
    : m(std::make_shared<State>()) {
    m->options = options;
    m->lookup = lookup ? std::move(lookup) : Resolver(system_resolve_v4);
}

HostResolver::~HostResolver() = default; // running lookups keep State alive until they end

Result<std::vector<std::string>> HostResolver::resolve(std::string const& host) {
    std::unique_lock lock(m->mutex);
    auto now = Clock::now();
    auto it = m->cache.find(host);
    bool running = it != m->cache.end() && !it->second.answer;
    if (it != m->cache.end() && it->second.answer && it->second.expires > now)
        return *it->second.answer;
    if (!running) {
        if (m->pending >= m->options.max_pending)
            return unexpected(Errc::Busy, "too many host name lookups running: " + host);
        m->cache[host] = State::Entry{};
        ++m->pending;
        std::thread([state = m, host] {
            auto answer = state->lookup(host);
            std::lock_guard l(state->mutex);
            auto ttl = answer ? state->options.ttl : state->options.negative_ttl;
            state->cache[host] = State::Entry{std::move(answer), Clock::now() + ttl};
            --state->pending;
            state->done.notify_all();
        }).detach();
    }
    bool answered = m->done.wait_for(lock, m->options.deadline, [&] {
        auto e = m->cache.find(host);
        return e != m->cache.end() && e->second.answer.has_value();
    });
    if (!answered)
        return unexpected(Errc::Timeout, "looking up " + host + " took longer than " +
                                             std::to_string(m->options.deadline.count()) + " ms");
    return *m->cache[host].answer;
}

Resolver HostResolver::as_resolver() {
    return [this](std::string const& host) { return resolve(host); };
}

Result<std::vector<std::string>> system_resolve_v4(std::string const& host) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0)
        return unexpected(Errc::NotFound, ::gai_strerror(rc));
    std::vector<std::string> out;
    for (auto* a = res; a; a = a->ai_next) {
        char buf[INET_ADDRSTRLEN];
        auto* sin = reinterpret_cast<sockaddr_in const*>(a->ai_addr);
        if (::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf))
            out.emplace_back(buf);
    }
    ::freeaddrinfo(res);
    return out;
}

} // namespace bulkhead::dom0::firewall
