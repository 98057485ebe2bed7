// XenPlumbing: qrexec connections on Xen. Agents' vchans need no routing (a target's agent
// connects straight to the source's libxenvchan server: Xen's grant tables and xenstore
// permissions make the pair). dom0's own calls (qvm-run) end in a separate process that
// expects a listening socket, so dom0 is the vchan server and a relay thread joins that
// vchan to the socket the caller accepts from.
#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/dom0/broker/plumbing.h>
#include <bulkhead/rpc/pump.h>
#include <bulkhead/rpc/socket_vchan.h>
#include <bulkhead/rpc/xen/xen_vchan.h>

#include <array>
#include <optional>
#include <poll.h>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

namespace bulkhead::dom0 {
namespace {

Logger const log{"xen-plumbing"};
using namespace std::chrono_literals;

void relay(std::unique_ptr<rpc::Listener> listener, UniqueFd caller_side, int cancel_fd,
           std::string what) {
    auto done = [&](std::string const& why) {
        LOG_INFO(log, "dom0 call relay ended", {"call", what}, {"why", why});
    };
    // Wait for the agent's connection, or the call's end (the domain died first).
    std::unique_ptr<rpc::Channel> vchan;
    auto const deadline = std::chrono::steady_clock::now() + 120s;
    while (!vchan) {
        std::array<pollfd, 2> p{pollfd{listener->readiness_fd(), POLLIN, 0},
                                pollfd{cancel_fd, POLLIN, 0}};
        ::poll(p.data(), p.size(), 100);
        if (p[1].revents)
            return done("cancelled before the agent connected");
        auto ch = listener->accept();
        if (!ch)
            return done(ch.error().message());
        vchan = std::move(*ch);
        if (!vchan && std::chrono::steady_clock::now() > deadline)
            return done("the agent never connected");
    }
    listener.reset();
    (void)sys::set_nonblocking(caller_side.get());
    rpc::SocketChannel caller(std::move(caller_side), vchan->peer_domain(), vchan->port());
    auto up = std::make_unique<rpc::Pump>();   // caller -> agent
    auto down = std::make_unique<rpc::Pump>(); // agent -> caller
    // The call's end (the agent's CONNECTION_TERMINATED, or its domain's death) can reach
    // dom0 before everything the agent wrote went through here: after it, keep passing data
    // on while it flows, and stop once nothing moved for a while (a dead domain never closes).
    std::optional<std::chrono::steady_clock::time_point> quiet_since;
    for (;;) {
        // The agent may finish (and close) while the caller still writes: what is left for
        // it is dropped, but what the agent sent (the exit code last) is still delivered.
        auto a = up->drained() ? Result<bool>(false) : up->step(caller, *vchan);
        if (!a && a.error().code() == Errc::Closed) {
            up->begin = up->end = 0;
            up->eof = true;
            a = false;
        }
        auto b = down->step(*vchan, caller);
        if (!a || !b)
            return done(!a ? a.error().message() : b.error().message());
        if (down->drained()) // the agent's side ended: qrexec's stream is over
            return done("agent closed");
        if (*a || *b) {
            if (quiet_since)
                quiet_since = std::chrono::steady_clock::now();
            continue;
        }
        if (quiet_since && std::chrono::steady_clock::now() - *quiet_since > 5s)
            return done("the call ended and its data stopped");
        std::array<pollfd, 3> p{
            pollfd{vchan->readiness_fd(), POLLIN, 0},
            pollfd{caller.readiness_fd(),
                   short((up->eof ? 0 : POLLIN) | (down->begin < down->end ? POLLOUT : 0)), 0},
            pollfd{cancel_fd, short(quiet_since ? 0 : POLLIN), 0}};
        ::poll(p.data(), p.size(), 1000);
        if (p[2].revents)
            quiet_since = std::chrono::steady_clock::now();
        if (p[0].revents)
            if (auto ack = vchan->acknowledge(); !ack)
                return done(ack.error().message());
    }
}

} // namespace

XenPlumbing::XenPlumbing(Layout layout)
    : m_layout(std::move(layout)) {}

XenPlumbing::~XenPlumbing() {
    std::lock_guard lock(m_mutex);
    for (auto& r : m_relays) {
        uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(r->cancel.get(), &one, sizeof one);
    }
    for (auto& r : m_relays)
        if (r->thread.joinable())
            r->thread.join();
}

std::unique_ptr<rpc::Transport> XenPlumbing::transport_for(std::string const&) {
    return std::make_unique<rpc::XenTransport>(0);
}

Result<UniqueFd> XenPlumbing::dom0_data_server(Endpoint const& domain, rpc::Port port) {
    rpc::XenTransport xen(0);
    auto listener = TRY(xen.listen(domain.id, port));
    // The caller's listening socket, reachable only by dom0 root; the relay is its client.
    TRY(sys::mkdir_p(m_layout.run_dir() + "/dom0-calls", 0700));
    auto path = m_layout.run_dir() + "/dom0-calls/xen." + domain.name + "." +
                std::to_string(domain.id) + "." + std::to_string(port) + ".sock";
    (void)sys::unlink(path);
    auto server = TRY(sys::unix_listen(path, 1));
    auto client = sys::unix_connect(path);
    (void)sys::unlink(path);
    if (!client)
        return std::move(client).error();
    int cfd = ::eventfd(0, EFD_CLOEXEC);
    if (cfd < 0)
        return Error::from_errno("eventfd", errno);
    std::lock_guard lock(m_mutex);
    // Relays that finished since: joined at once (they have returned).
    for (auto it = m_relays.begin(); it != m_relays.end();) {
        if ((*it)->finished) {
            (*it)->thread.join();
            it = m_relays.erase(it);
        } else {
            ++it;
        }
    }
    auto r = std::make_shared<Relay>();
    r->domain = domain.id;
    r->port = port;
    r->cancel = UniqueFd(cfd);
    r->thread = std::thread([r, l = std::move(listener), c = std::move(*client),
                             what = domain.name + ":" + std::to_string(port)]() mutable {
        relay(std::move(l), std::move(c), r->cancel.get(), what);
        r->finished = true;
    });
    m_relays.push_back(std::move(r));
    return server;
}

Result<void> XenPlumbing::route(Endpoint const&, Endpoint const&, rpc::Port,
                                std::chrono::milliseconds) {
    return {}; // the target's agent connects to the source's vchan server itself
}

void XenPlumbing::unroute(Endpoint const& server, Endpoint const& client, rpc::Port port) {
    if (server.id != 0)
        return;
    // Tells the relay the call ended; it finishes on its own (never joined here: this may be
    // the event loop's thread, and the relay may still be passing the last data on).
    std::lock_guard lock(m_mutex);
    for (auto& r : m_relays)
        if (r->domain == client.id && r->port == port && !r->finished) {
            uint64_t one = 1;
            [[maybe_unused]] auto n = ::write(r->cancel.get(), &one, sizeof one);
        }
}

} // namespace bulkhead::dom0
