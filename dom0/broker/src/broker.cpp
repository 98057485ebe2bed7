#include <bulkhead/base/log.h>
#include <bulkhead/base/text.h>
#include <bulkhead/dom0/broker/broker.h>
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/qrexec/frame_writer.h>

#include <algorithm>
#include <future>
#include <thread>

namespace bulkhead::dom0 {
namespace q = rpc::qrexec;
namespace {

Logger const log{"broker"};

std::chrono::milliseconds left(std::chrono::steady_clock::time_point deadline) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return std::max(d, std::chrono::milliseconds(0));
}

} // namespace

struct Broker::Conn {
    std::string name;
    DomId id = 0;
    std::unique_ptr<rpc::Channel> ch;
    q::FrameReader reader{q::Expect::FromAgent};
    q::FrameWriter writer;
    bool want_write = false;
};

struct Broker::Call {
    Endpoint source; // dom0 for qvm-run
    Endpoint target;
    std::string requested_target;
    std::string ident;
    std::string service;
    bool dispvm = false;
    bool from_dom0 = false;
    std::function<void()> on_end;
};

Broker::Broker(EventLoop& loop, Plumbing& plumbing, BrokerHost& host, BrokerOptions opts)
    : m_loop(loop)
    , m_plumbing(plumbing)
    , m_host(host)
    , m_opts(opts) {}

Broker::~Broker() {
    std::unique_lock lock(m_mutex);
    m_stopping = true;
    m_workers_done.wait_for(lock, std::chrono::seconds(30), [&] { return m_workers == 0; });
}

// ---------------------------------------------------------------------------------------
// Control connections

Result<void> Broker::attach(std::string const& name, DomId id,
                            std::chrono::steady_clock::time_point deadline) {
    auto transport = m_plumbing.transport_for(name);
    auto conn = std::make_unique<Conn>();
    conn->name = name;
    conn->id = id;
    {
        std::lock_guard lock(m_mutex);
        m_attaching[name] = false;
    }
    struct Done {
        Broker& b;
        std::string const& name;
        ~Done() {
            std::lock_guard lock(b.m_mutex);
            b.m_attaching.erase(name);
        }
    } done_attaching{*this, name};
    // In slices, so a domain that dies while booting (detach) ends the wait at once
    // instead of at the deadline: a booting guest can take a minute under emulation.
    for (;;) {
        auto slice = std::min<std::chrono::milliseconds>(left(deadline), std::chrono::seconds(1));
        auto ch = transport->connect(id, q::vchan_base_port, slice);
        if (ch) {
            conn->ch = std::move(*ch);
            break;
        }
        if (ch.error().code() != Errc::Timeout || std::chrono::steady_clock::now() >= deadline)
            return std::move(ch).error().prefix("connecting to the agent");
        std::lock_guard lock(m_mutex);
        if (m_attaching[name])
            return unexpected(Errc::Closed, "domain " + name + " is gone");
    }
    TRY(conn->writer.push(q::Hello{}));
    TRY_CTX(conn->writer.flush_all(*conn->ch, left(deadline)), "sending HELLO");
    for (;;) {
        auto m = TRY_CTX(conn->reader.next(*conn->ch), "reading HELLO");
        if (m) {
            if (!std::holds_alternative<q::Hello>(m->message))
                return unexpected(Errc::Protocol, "agent did not start with HELLO");
            break;
        }
        auto ready = TRY(rpc::wait_ready(*conn->ch, rpc::WantWrite::No, left(deadline)));
        if (!ready)
            return unexpected(Errc::Timeout, "no HELLO from the agent");
    }
    conn->writer.set_version(conn->reader.version());
    {
        std::lock_guard lock(m_mutex);
        m_ids[name] = id;
    }
    auto registered = std::make_shared<std::promise<Result<void>>>();
    auto done = registered->get_future();
    m_loop.post([this, c = std::shared_ptr<Conn>(conn.release()), registered]() mutable {
        auto name = c->name;
        drop(name, false); // a previous connection of the same name
        int fd = c->ch->readiness_fd();
        auto owned = std::make_unique<Conn>(std::move(*c));
        m_conns[name] = std::move(owned);
        auto r = m_loop.watch(fd, m_conns[name]->ch->watch_events(rpc::WantWrite::No),
                              [this, name](uint32_t ev) { on_event(name, ev); });
        if (!r) {
            m_conns.erase(name);
            registered->set_value(unexpected(r.error()));
            return;
        }
        registered->set_value({});
        on_event(name, EventLoop::Readable); // anything that came with HELLO
    });
    if (done.wait_until(deadline + std::chrono::seconds(5)) != std::future_status::ready)
        return unexpected(Errc::Timeout, "event loop did not take the connection");
    return done.get();
}

void Broker::detach(std::string const& name) {
    {
        std::lock_guard lock(m_mutex);
        m_ids.erase(name);
        if (auto it = m_attaching.find(name); it != m_attaching.end())
            it->second = true;
    }
    m_loop.post([this, name] { drop(name, false); });
}

void Broker::drop(std::string const& name, bool lost) {
    auto it = m_conns.find(name);
    if (it == m_conns.end())
        return;
    m_loop.unwatch(it->second->ch->readiness_fd());
    m_conns.erase(it);
    {
        // Calls still waiting for a worker die with their source's connection.
        std::lock_guard lock(m_mutex);
        if (auto q = m_queued.find(name); q != m_queued.end()) {
            m_in_flight[name] -= q->second.size();
            if (m_in_flight[name] == 0)
                m_in_flight.erase(name);
            m_queued.erase(q);
        }
    }
    end_calls_of(name);
    if (lost)
        m_host.agent_lost(name);
}

void Broker::on_event(std::string const& name, uint32_t events) {
    auto it = m_conns.find(name);
    if (it == m_conns.end())
        return;
    Conn& c = *it->second;
    if (auto r = c.ch->acknowledge(); !r) {
        drop(name, true);
        return;
    }
    if (events & EventLoop::Writable)
        flush(c);
    for (int budget = 256; budget > 0; --budget) { // fairness between domains
        auto m = c.reader.next(*c.ch);
        if (!m) {
            if (m.error().code() != Errc::Closed)
                LOG_WARN(log, "agent connection broken", {"domain", name},
                         {"error", m.error().message()});
            drop(name, true);
            return;
        }
        if (!*m)
            return;
        on_message(c, (*m)->message);
        if (!m_conns.count(name))
            return;
    }
    m_loop.post([this, name] { on_event(name, EventLoop::Readable); });
}

void Broker::flush(Conn& c) {
    auto done = c.writer.flush(*c.ch);
    if (!done) {
        auto name = c.name;
        m_loop.post([this, name] { drop(name, true); });
        return;
    }
    bool want = !*done;
    if (want != c.want_write) {
        c.want_write = want;
        (void)m_loop.modify(c.ch->readiness_fd(),
                            c.ch->watch_events(want ? rpc::WantWrite::Yes : rpc::WantWrite::No));
    }
}

void Broker::send(std::string const& name, DomId id, q::Message msg) {
    auto it = m_conns.find(name);
    if (it == m_conns.end() || it->second->id != id)
        return;
    if (auto r = it->second->writer.push(msg); !r) {
        LOG_ERROR(log, "cannot encode message", {"domain", name}, {"error", r.error().message()});
        return;
    }
    flush(*it->second);
}

void Broker::post_send(std::string const& name, DomId id, q::Message msg) {
    m_loop.post(
        [this, name, id, msg = std::move(msg)]() mutable { send(name, id, std::move(msg)); });
}

void Broker::on_message(Conn& c, q::Message const& m) {
    if (auto const* t3 = std::get_if<q::TriggerService3>(&m))
        return on_trigger(c, t3->target_domain, t3->ident, t3->service_name);
    if (auto const* t4 = std::get_if<q::TriggerService4>(&m)) // source name is ignored
        return on_trigger(c, t4->target_domain, t4->ident, t4->service_name);
    if (auto const* t2 = std::get_if<q::TriggerService>(&m))
        return on_trigger(c, t2->target_domain, t2->ident, t2->service_name);
    if (auto const* ct = std::get_if<q::ConnectionTerminated>(&m))
        return on_terminated(c, *ct);
    // HELLO again or anything else a validator let through for this direction: ignore.
    LOG_DEBUG(log, "ignored message", {"domain", c.name});
}

// ---------------------------------------------------------------------------------------
// Service calls

void Broker::on_trigger(Conn& c, std::string target, std::string ident, std::string service) {
    // Qubes' charset: the name reaches policy file lookups, logs and the target's command line.
    if (!policy::valid_service_call(service)) {
        LOG_WARN(log, "call refused: invalid service name", {"source", c.name},
                 {"service", text::escape(service)});
        send(c.name, c.id, q::ServiceRefused{std::move(ident)});
        return;
    }
    auto call = std::make_shared<Call>();
    call->source = {c.name, c.id};
    call->requested_target = std::move(target);
    call->ident = std::move(ident);
    call->service = std::move(service);
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping || m_in_flight[c.name] >= m_opts.max_calls_per_domain) {
            LOG_WARN(log, "call refused: too many in flight", {"source", c.name});
            send(c.name, c.id, q::ServiceRefused{call->ident});
            return;
        }
        ++m_in_flight[c.name];
        if (m_running[c.name] >= m_opts.max_workers_per_domain) {
            m_queued[c.name].push_back(std::move(call));
            return;
        }
        ++m_running[c.name];
        ++m_workers;
    }
    std::thread([this, call] { work(call); }).detach();
}

void Broker::work(std::shared_ptr<Call> call) {
    std::string const source = call->source.name;
    for (;;) {
        run_call(call);
        std::lock_guard lock(m_mutex);
        if (--m_in_flight[source] == 0)
            m_in_flight.erase(source);
        auto q = m_queued.find(source);
        if (q != m_queued.end() && !q->second.empty() && !m_stopping) {
            call = std::move(q->second.front());
            q->second.pop_front();
            continue;
        }
        if (q != m_queued.end() && q->second.empty())
            m_queued.erase(q);
        if (--m_running[source] == 0)
            m_running.erase(source);
        if (--m_workers == 0)
            m_workers_done.notify_all();
        return;
    }
}

void Broker::run_call(std::shared_ptr<Call> call) {
    auto const& src = call->source;
    auto refuse = [&](std::string_view why) {
        LOG_INFO(log, "call refused", {"source", src.name}, {"target", call->requested_target},
                 {"service", call->service}, {"why", std::string(why)});
        post_send(src.name, src.id, q::ServiceRefused{call->ident});
    };
    auto decision = m_host.decide(src.name, call->requested_target, call->service);
    if (std::holds_alternative<policy::Deny>(decision))
        return refuse("policy denied");
    policy::Allow allow;
    if (auto const* ask = std::get_if<policy::Ask>(&decision)) {
        auto chosen = m_host.ask(src.name, call->service, *ask);
        if (!chosen)
            return refuse("policy says ask and the answer is deny (or none)");
        if (std::find(ask->targets.begin(), ask->targets.end(), *chosen) == ask->targets.end())
            return refuse("policy says ask and the answer is not an offered target");
        LOG_INFO(log, "ask answered", {"source", src.name}, {"service", call->service},
                 {"target", *chosen});
        allow = policy::Allow{*chosen, ask->user, ask->autostart, ask->notify};
    } else {
        allow = std::get<policy::Allow>(decision);
    }
    std::string target = allow.target;
    if (target == "dom0" || target == "@adminvm")
        return refuse("dom0 services are not provided");
    if (target.rfind("@dispvm:", 0) == 0) {
        auto name = m_host.create_dispvm(target.substr(8));
        if (!name)
            return refuse(name.error().message());
        target = *name;
        call->dispvm = true;
    }
    auto id = m_host.running_id(target);
    if (!id) {
        if (!allow.autostart && !call->dispvm)
            return refuse("target is not running and autostart=no");
        auto started = m_host.start_domain(target);
        if (!started) {
            if (call->dispvm)
                m_host.destroy_dispvm(target);
            return refuse(started.error().message());
        }
        id = *started;
    }
    call->target = {target, *id};
    auto port = alloc_port();
    if (!port) {
        if (call->dispvm)
            m_host.destroy_dispvm(target);
        return refuse(port.error().message());
    }
    {
        std::lock_guard lock(m_mutex);
        m_calls[*port] = call;
    }
    post_send(src.name, src.id, q::ServiceConnect{*id, *port, call->ident});
    if (auto r = m_plumbing.route(src, call->target, *port, m_opts.connect_timeout); !r) {
        LOG_WARN(log, "data connection not made", {"source", src.name}, {"target", target},
                 {"error", r.error().message()});
        m_loop.post([this, p = *port] { end_call(p); });
        return;
    }
    std::string user = allow.user.empty() ? m_host.default_user(target) : allow.user;
    auto cmd =
        user + ":" + std::string(q::rpc_request_command) + " " + call->service + " " + src.name;
    LOG_INFO(log, "call", {"source", src.name}, {"target", target}, {"service", call->service},
             {"port", std::to_string(*port)});
    post_send(target, *id, q::ExecCmdline{src.id, *port, user, cmd.substr(user.size() + 1)});
}

void Broker::on_terminated(Conn& c, q::ConnectionTerminated const& t) {
    std::shared_ptr<Call> call;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_calls.find(t.port);
        if (it == m_calls.end())
            return;
        call = it->second;
    }
    // Only the domain that ran the call may end it, and only for the peer it ran it for.
    if (call->target.name != c.name || call->target.id != c.id || call->source.id != t.domain)
        return;
    end_call(t.port);
}

void Broker::end_call(Port port) {
    std::shared_ptr<Call> call;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_calls.find(port);
        if (it == m_calls.end())
            return;
        call = std::move(it->second);
        m_calls.erase(it);
        m_ports.erase(port);
    }
    m_plumbing.unroute(call->source, call->target, port);
    if (call->dispvm)
        m_host.destroy_dispvm(call->target.name);
    if (call->on_end)
        call->on_end();
}

void Broker::end_calls_of(std::string const& name) {
    std::vector<Port> ports;
    {
        std::lock_guard lock(m_mutex);
        for (auto const& [port, call] : m_calls)
            if (call->target.name == name || call->source.name == name)
                ports.push_back(port);
    }
    for (auto p : ports)
        end_call(p);
}

Result<Broker::Port> Broker::alloc_port() {
    std::lock_guard lock(m_mutex);
    for (uint32_t tries = 0; tries < 65000; ++tries) {
        Port p = m_next_port++;
        if (m_next_port > 65535)
            m_next_port = 513;
        if (m_ports.insert(p).second)
            return p;
    }
    return unexpected(Errc::Limit, "no free qrexec port");
}

std::optional<Endpoint> Broker::endpoint(std::string const& name) {
    std::lock_guard lock(m_mutex);
    auto it = m_ids.find(name);
    if (it == m_ids.end())
        return std::nullopt;
    return Endpoint{name, it->second};
}

// ---------------------------------------------------------------------------------------
// dom0's own calls

Result<Broker::Dom0Call> Broker::exec_from_dom0(std::string const& domain, std::string const& user,
                                                std::string const& command,
                                                std::function<void()> on_end) {
    auto ep = endpoint(domain);
    if (!ep)
        return unexpected(Errc::Invalid, "domain " + domain + " is not running");
    auto port = TRY(alloc_port());
    auto fd = m_plumbing.dom0_data_server(*ep, port);
    if (!fd) {
        std::lock_guard lock(m_mutex);
        m_ports.erase(port);
        return unexpected(fd.error());
    }
    auto call = std::make_shared<Call>();
    call->source = {"dom0", 0};
    call->target = *ep;
    call->from_dom0 = true;
    call->on_end = std::move(on_end);
    {
        std::lock_guard lock(m_mutex);
        m_calls[port] = call;
    }
    m_loop.post([this, ep = *ep, port, user, command] {
        if (!m_conns.count(ep.name)) {
            end_call(port);
            return;
        }
        send(ep.name, ep.id, q::ExecCmdline{0, port, user, command});
    });
    return Dom0Call{std::move(*fd), port};
}

size_t Broker::calls_in_flight() const {
    std::lock_guard lock(m_mutex);
    return m_calls.size();
}

} // namespace bulkhead::dom0
