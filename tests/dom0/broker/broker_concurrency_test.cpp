// Broker + DomainManager under many threads, as bulkheadd runs them: the event loop on its
// own thread, in-memory agents (loopback channels) sending service calls from several
// threads at once, targets started on demand, killed and restarted while calls are in
// flight, dom0 calls, and the readers (power_state, calls_in_flight) polling meanwhile.
// Every call is answered, nothing stays in flight, nothing deadlocks; under TSan (make
// tsan) any data race fails the run.
#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/dom0/broker/broker.h>
#include <bulkhead/dom0/domains/domain_manager.h>
#include <bulkhead/rpc/loopback_channel.h>
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/qrexec/frame_writer.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

using namespace bulkhead;
using namespace bulkhead::dom0;
using namespace std::chrono_literals;
namespace q = bulkhead::rpc::qrexec;

namespace {

// Domains exist at once; every disappearance is an event on an eventfd the loop watches.
class ScriptedHypervisor final : public Hypervisor {
public:
    ScriptedHypervisor()
        : m_event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
    std::string_view backend_name() const override { return "scripted"; }
    Result<DomId> create(DomainSpec const&) override {
        std::lock_guard lock(m_mutex);
        return m_next++;
    }
    Result<void> shutdown(DomId id) override { return destroy(id); }
    Result<void> destroy(DomId id) override {
        {
            std::lock_guard lock(m_mutex);
            m_events.push_back({id, HypervisorEvent::Kind::Destroyed, 0});
        }
        uint64_t one = 1;
        (void)!::write(m_event.get(), &one, sizeof one);
        return {};
    }
    Result<void> pause(DomId) override { return {}; }
    Result<void> unpause(DomId) override { return {}; }
    Result<DomainInfo> info(DomId id) override { return DomainInfo{id, "", {}, 0}; }
    Result<std::vector<DomainInfo>> list() override { return std::vector<DomainInfo>{}; }
    Result<void> set_memory_target(DomId, uint64_t) override { return {}; }
    int event_fd() const override { return m_event.get(); }
    Result<std::vector<HypervisorEvent>> take_events() override {
        uint64_t n = 0;
        (void)!::read(m_event.get(), &n, sizeof n);
        std::lock_guard lock(m_mutex);
        return std::exchange(m_events, {});
    }

private:
    UniqueFd m_event;
    std::mutex m_mutex;
    DomId m_next = 1;
    std::vector<HypervisorEvent> m_events;
};

struct Config final : ConfigSource {
    std::string base;
    Result<StartConfig> start_config(std::string const& name) override {
        StartConfig c;
        c.name = name;
        c.layers = {base + "/layer"};
        c.disposable = true; // no private volume to make
        c.qrexec_timeout = 10s;
        return c;
    }
    Result<void> commit_template_layer(std::string const&, std::string const&) override {
        return {};
    }
    Result<void> forget_disposable(std::string const&) override { return {}; }
};

// A domain's agent: answers HELLO, runs each EXEC_CMDLINE at once (CONNECTION_TERMINATED),
// and sends the service calls queued by the test's caller threads, counting the answers.
class FakeAgent {
public:
    FakeAgent(std::unique_ptr<rpc::LoopbackChannel> ch)
        : m_ch(std::move(ch))
        , m_thread([this] { run(); }) {}
    ~FakeAgent() {
        m_stop = true;
        m_thread.join();
    }
    void call(std::string target, std::string service) {
        std::lock_guard lock(m_mutex);
        auto ident = std::to_string(++m_idents);
        m_pending.insert(ident);
        m_out.push_back(q::TriggerService3{std::move(target), ident, std::move(service)});
    }
    size_t unanswered() {
        std::lock_guard lock(m_mutex);
        return m_pending.size() + m_out.size();
    }
    std::atomic<int> connected{0}, refused{0}, executed{0};
    std::atomic<bool> closed{false};

private:
    void run() {
        q::FrameReader reader(q::Expect::FromDaemon);
        q::FrameWriter writer;
        (void)writer.push(q::Hello{});
        while (!m_stop && !closed) {
            {
                std::lock_guard lock(m_mutex);
                for (auto& m : m_out)
                    (void)writer.push(m);
                m_out.clear();
            }
            if (!writer.flush(*m_ch))
                closed = true;
            for (;;) {
                auto m = reader.next(*m_ch);
                if (!m) {
                    closed = true;
                    break;
                }
                if (!*m)
                    break;
                auto& msg = (*m)->message;
                if (auto const* e = std::get_if<q::ExecCmdline>(&msg)) {
                    ++executed;
                    (void)writer.push(q::ConnectionTerminated{e->connect_domain, e->connect_port});
                } else if (auto const* c = std::get_if<q::ServiceConnect>(&msg)) {
                    ++connected;
                    std::lock_guard lock(m_mutex);
                    m_pending.erase(c->ident);
                } else if (auto const* r = std::get_if<q::ServiceRefused>(&msg)) {
                    ++refused;
                    std::lock_guard lock(m_mutex);
                    m_pending.erase(r->ident);
                }
            }
            (void)rpc::wait_ready(*m_ch,
                                  writer.pending() ? rpc::WantWrite::Yes : rpc::WantWrite::No, 5ms);
            (void)m_ch->acknowledge();
        }
    }

    std::unique_ptr<rpc::LoopbackChannel> m_ch;
    std::mutex m_mutex;
    std::vector<q::Message> m_out;
    std::set<std::string> m_pending;
    uint64_t m_idents = 0;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// Connecting to a domain's agent makes a new FakeAgent on the other end of a loopback pair.
struct Agents {
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<FakeAgent>> live;
    std::vector<std::shared_ptr<FakeAgent>> retired;
    std::shared_ptr<FakeAgent> get(std::string const& name) {
        std::lock_guard lock(mutex);
        auto it = live.find(name);
        return it == live.end() ? nullptr : it->second;
    }
};

class AgentTransport final : public rpc::Transport {
public:
    AgentTransport(Agents& agents, std::string name)
        : m_agents(agents)
        , m_name(std::move(name)) {}
    rpc::DomainId local_domain() const override { return 0; }
    Result<std::unique_ptr<rpc::Listener>> listen(rpc::DomainId, rpc::Port) override {
        return unexpected(Errc::Unsupported, "not here");
    }
    Result<std::unique_ptr<rpc::Channel>> connect(rpc::DomainId peer, rpc::Port port,
                                                  std::chrono::milliseconds) override {
        auto pair = TRY(rpc::LoopbackChannel::create_pair(0, peer, port));
        auto agent = std::make_shared<FakeAgent>(std::move(pair.second));
        std::lock_guard lock(m_agents.mutex);
        if (auto old = m_agents.live.find(m_name); old != m_agents.live.end())
            m_agents.retired.push_back(old->second);
        m_agents.live[m_name] = agent;
        return std::unique_ptr<rpc::Channel>(std::move(pair.first));
    }

private:
    Agents& m_agents;
    std::string m_name;
};

struct TestPlumbing final : Plumbing {
    Agents& agents;
    std::atomic<int> routed{0}, unrouted{0};
    explicit TestPlumbing(Agents& a)
        : agents(a) {}
    std::unique_ptr<rpc::Transport> transport_for(std::string const& domain) override {
        return std::make_unique<AgentTransport>(agents, domain);
    }
    Result<UniqueFd> dom0_data_server(Endpoint const&, rpc::Port) override {
        return UniqueFd(::eventfd(0, EFD_CLOEXEC));
    }
    Result<void> route(Endpoint const&, Endpoint const&, rpc::Port,
                       std::chrono::milliseconds) override {
        ++routed;
        return {};
    }
    void unroute(Endpoint const&, Endpoint const&, rpc::Port) override { ++unrouted; }
};

struct Host final : BrokerHost {
    DomainManager* manager = nullptr;
    EventLoop* loop = nullptr;
    std::atomic<int> lost{0};
    policy::Decision decide(std::string const&, std::string const& target,
                            std::string const& service) override {
        if (service == "test.Echo" && target.rfind("@", 0) != 0 && target != "dom0")
            return policy::Allow{target, "", true, false};
        return policy::Deny{};
    }
    Result<DomId> start_domain(std::string const& name) override { return manager->start(name); }
    std::optional<DomId> running_id(std::string const& name) override {
        if (manager->power_state(name) != "Running")
            return std::nullopt;
        return manager->running_id(name);
    }
    Result<std::string> create_dispvm(std::string const&) override {
        return unexpected(Errc::Unsupported, "no disposables here");
    }
    void destroy_dispvm(std::string const&) override {}
    std::string default_user(std::string const&) override { return "user"; }
    void agent_lost(std::string const& name) override {
        ++lost;
        manager->on_agent_lost(name);
    }
};

} // namespace

TEST_CASE("broker and domain manager under many threads", "[concurrency]") {
    auto root = sys::make_temp_dir("/tmp/bulkhead-broker-");
    REQUIRE(root);
    REQUIRE(sys::mkdir_p(*root + "/layer"));
    auto loop = EventLoop::create();
    REQUIRE(loop);
    ScriptedHypervisor hv;
    Config config;
    config.base = *root;
    Agents agents;
    TestPlumbing plumbing(agents);
    Host host;
    auto broker = std::make_unique<Broker>(**loop, plumbing, host);
    Layout layout(*root);
    REQUIRE(layout.prepare());
    auto manager = std::make_unique<DomainManager>(hv, config, *broker, layout, *root + "/tools");
    host.manager = manager.get();
    host.loop = loop->get();
    REQUIRE((*loop)->watch(hv.event_fd(), EventLoop::Readable,
                           [&](uint32_t) { manager->on_hypervisor_events(); }));
    std::thread loop_thread([&] { (void)(*loop)->run(); });

    std::vector<std::string> const sources = {"s0", "s1", "s2", "s3"};
    std::vector<std::string> const targets = {"s0", "s1", "t0", "t1", "t2"};
    for (auto const& s : sources)
        REQUIRE(manager->start(s));

    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    // Callers: each source gets calls from two threads at once, allowed and denied.
    for (size_t i = 0; i < sources.size() * 2; ++i)
        threads.emplace_back([&, i] {
            std::mt19937 rng{unsigned(i)};
            auto const& src = sources[i % sources.size()];
            for (int n = 0; n < 300; ++n) {
                auto agent = agents.get(src);
                if (agent)
                    agent->call(targets[rng() % targets.size()],
                                rng() % 4 ? "test.Echo" : "test.Denied");
                if (n % 25 == 0)
                    std::this_thread::sleep_for(1ms);
            }
        });
    // Churn: targets killed and started while calls into them are in flight.
    threads.emplace_back([&] {
        std::mt19937 rng(99);
        while (!stop) {
            auto const& t = targets[2 + rng() % 3];
            if (rng() % 2)
                (void)manager->kill(t);
            else
                (void)manager->start(t);
            std::this_thread::sleep_for(2ms);
        }
    });
    // dom0 calls, and readers.
    std::atomic<int> dom0_calls{0};
    threads.emplace_back([&] {
        while (!stop) {
            auto c =
                broker->exec_from_dom0(sources[dom0_calls % sources.size()], "user", "true", [] {});
            if (c)
                ++dom0_calls;
            std::this_thread::sleep_for(1ms);
        }
    });
    threads.emplace_back([&] {
        while (!stop) {
            for (auto const& t : targets)
                (void)manager->power_state(t);
            (void)manager->running_names();
            (void)broker->calls_in_flight();
            std::this_thread::yield();
        }
    });
    for (size_t i = 0; i < sources.size() * 2; ++i)
        threads[i].join();

    // Every call from the sources gets its answer.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    size_t left = 0;
    do {
        left = 0;
        for (auto const& s : sources)
            if (auto a = agents.get(s))
                left += a->unanswered();
        if (left == 0)
            break;
        std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < deadline);
    stop = true;
    for (size_t i = sources.size() * 2; i < threads.size(); ++i)
        threads[i].join();
    CHECK(left == 0);
    int connected = 0, refused = 0, executed = 0;
    for (auto const& s : sources) {
        auto a = agents.get(s);
        REQUIRE(a);
        CHECK_FALSE(a->closed);
        connected += a->connected;
        refused += a->refused;
    }
    {
        std::lock_guard lock(agents.mutex);
        for (auto const& [name, a] : agents.live)
            executed += a->executed;
        for (auto const& a : agents.retired)
            executed += a->executed;
    }
    WARN(connected << " calls connected, " << refused << " refused, " << executed << " executed, "
                   << dom0_calls << " dom0 calls");
    CHECK(connected + refused == int(sources.size() * 2 * 300));
    CHECK(connected > 0);
    CHECK(refused > 0);
    CHECK(host.lost == 0); // nobody's agent connection broke

    // Everything ends: calls finish, domains stop, nothing stays in flight.
    manager->shutdown_all(5s);
    deadline = std::chrono::steady_clock::now() + 20s;
    while (broker->calls_in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    CHECK(broker->calls_in_flight() == 0);
    CHECK(manager->running_names().empty());
    (*loop)->post([&] { (*loop)->stop(); });
    loop_thread.join();
    manager.reset();
    broker.reset();
    {
        std::lock_guard lock(agents.mutex);
        agents.live.clear();
        agents.retired.clear();
    }
    (void)sys::remove_tree(*root);
}
