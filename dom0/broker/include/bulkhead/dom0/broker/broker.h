// Broker: dom0's qrexec daemon. Holds every running domain's agent control connection
// (vchan port 512), answers service calls from domains (MSG_TRIGGER_SERVICE3 → policy →
// start the target if allowed → MSG_SERVICE_CONNECT to the source and MSG_EXEC_CMDLINE to
// the target, data flowing directly between the two), and runs dom0's own calls into a
// domain (qvm-run). A caller's identity is the connection it came on, never its bytes.
//
// Threads: control connections live on the daemon's event loop; each call that has to
// wait (policy ask, a target starting, the source's data endpoint) runs on its own worker
// thread, bounded per domain, so one stuck domain never blocks another.
#pragma once

#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/dom0/broker/plumbing.h>
#include <bulkhead/dom0/domains/agent_hub.h>
#include <bulkhead/policy/evaluate.h>
#include <bulkhead/rpc/qrexec/messages.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace bulkhead::dom0 {

// What the broker needs from the rest of the daemon.
class BrokerHost {
public:
    virtual ~BrokerHost() = default;
    // Policy decision for (source, target as requested, SERVICE[+ARG]).
    virtual policy::Decision decide(std::string const& source, std::string const& target,
                                    std::string const& service) = 0;
    // Policy said ask: the target the user picked among ask.targets, nullopt = deny (also
    // no answer in time, or nobody to ask). Blocking (worker threads only). The broker
    // re-checks the pick is offered. Default: nobody to ask.
    virtual std::optional<std::string>
    ask(std::string const& /*source*/, std::string const& /*service*/, policy::Ask const& /*ask*/) {
        return std::nullopt;
    }
    // Blocking (worker threads only).
    virtual Result<DomId> start_domain(std::string const& name) = 0;
    virtual std::optional<DomId> running_id(std::string const& name) = 0;
    // Creates (not starts) a disposable from the given disposable template.
    virtual Result<std::string> create_dispvm(std::string const& dvm_template) = 0;
    // Kills and forgets a disposable; may be called from the loop (must not block on it).
    virtual void destroy_dispvm(std::string const& name) = 0;
    virtual std::string default_user(std::string const& name) = 0;
    // The agent's control connection broke while the domain runs.
    virtual void agent_lost(std::string const& name) = 0;
};

struct BrokerOptions {
    size_t max_calls_per_domain = 2048; // in-flight service calls a domain may have
    // Worker threads a domain's calls may use at once; its other calls wait their turn, so a
    // domain flooding calls (each one a policy decision, maybe a wait for its data endpoint)
    // holds at most this many threads and never starves the daemon or other domains.
    size_t max_workers_per_domain = 16;
    std::chrono::milliseconds connect_timeout{10000};
};

class Broker final : public AgentHub {
public:
    using Port = rpc::Port;

    Broker(EventLoop& loop, Plumbing& plumbing, BrokerHost& host, BrokerOptions opts = {});
    ~Broker() override;

    // AgentHub (blocking; any thread but the loop's).
    Result<void> attach(std::string const& name, DomId id,
                        std::chrono::steady_clock::time_point deadline) override;
    void detach(std::string const& name) override;

    // dom0 runs `user:command` in a running domain (qvm-run). Returns the listening socket
    // the agent connects to for the call's data; qvm-run accepts it. on_end runs (on the
    // loop) when the agent reports the connection ended or the domain went away.
    struct Dom0Call {
        UniqueFd listener;
        Port port = 0;
    };
    Result<Dom0Call> exec_from_dom0(std::string const& domain, std::string const& user,
                                    std::string const& command, std::function<void()> on_end);

    // Calls in flight (tests and the load benchmark).
    size_t calls_in_flight() const;

private:
    struct Conn;
    struct Call;

    void on_event(std::string const& name, uint32_t events);
    void on_message(Conn& c, rpc::qrexec::Message const& m);
    void on_trigger(Conn& c, std::string target, std::string ident, std::string service);
    void on_terminated(Conn& c, rpc::qrexec::ConnectionTerminated const& t);
    void run_call(std::shared_ptr<Call> call);
    // A worker thread: runs call, then the source's queued calls, then exits.
    void work(std::shared_ptr<Call> call);
    // Loop thread: queue msg on name's control connection (if still connected as id).
    void send(std::string const& name, DomId id, rpc::qrexec::Message msg);
    void post_send(std::string const& name, DomId id, rpc::qrexec::Message msg);
    void flush(Conn& c);
    void drop(std::string const& name, bool lost);
    void end_call(Port port);
    void end_calls_of(std::string const& name);
    Result<Port> alloc_port();
    void free_port(Port port);
    std::optional<Endpoint> endpoint(std::string const& name);

    EventLoop& m_loop;
    Plumbing& m_plumbing;
    BrokerHost& m_host;
    BrokerOptions m_opts;

    // Loop thread only.
    std::map<std::string, std::unique_ptr<Conn>> m_conns;

    mutable std::mutex m_mutex; // ports, calls, endpoints
    std::condition_variable m_workers_done;
    std::map<std::string, DomId> m_ids;
    // attach() in progress, by domain name: detach() marks it given up (the domain died).
    std::map<std::string, bool> m_attaching;
    std::set<Port> m_ports;
    Port m_next_port = 513;
    std::map<Port, std::shared_ptr<Call>> m_calls;
    std::map<std::string, size_t> m_in_flight; // per source domain, queued or running
    std::map<std::string, size_t> m_running;   // worker threads per source domain
    std::map<std::string, std::deque<std::shared_ptr<Call>>> m_queued; // waiting for a worker
    size_t m_workers = 0;
    bool m_stopping = false;
};

} // namespace bulkhead::dom0
