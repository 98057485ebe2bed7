#include "gui_xen_relay.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/pump.h>
#include <bulkhead/rpc/socket_vchan.h>
#include <bulkhead/rpc/xen/xen_vchan.h>

#include <array>
#include <chrono>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace bulkhead::dom0 {

namespace {
Logger const log{"gui"};
constexpr rpc::Port gui_port = 6000;
} // namespace

GuiXenRelay::GuiXenRelay(std::string name, rpc::DomainId domid, std::string guid_socket)
    : m_name(std::move(name))
    , m_domid(domid)
    , m_socket(std::move(guid_socket))
    , m_cancel(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    m_thread = std::thread([this] { run(); });
}

GuiXenRelay::~GuiXenRelay() {
    uint64_t one = 1;
    if (m_cancel) [[maybe_unused]]
        auto n = ::write(m_cancel.get(), &one, sizeof one);
    if (m_thread.joinable())
        m_thread.join();
}

bool GuiXenRelay::cancelled(int timeout_ms) const {
    pollfd p{m_cancel.get(), POLLIN, 0};
    return !m_cancel || ::poll(&p, 1, timeout_ms) > 0;
}

void GuiXenRelay::run() {
    while (session()) {
    }
    LOG_INFO(log, "GUI relay stopped", {"domain", m_name});
}

bool GuiXenRelay::session() {
    rpc::XenTransport xen(0);
    auto listener = xen.listen(m_domid, gui_port);
    if (!listener) {
        LOG_WARN(log, "GUI vchan: cannot listen", {"domain", m_name},
                 {"error", listener.error().message()});
        return !cancelled(2000);
    }
    // The domain's gui-agent connects once its X server runs (never, in a template without X).
    std::unique_ptr<rpc::Channel> vchan;
    while (!vchan) {
        std::array<pollfd, 2> p{pollfd{(*listener)->readiness_fd(), POLLIN, 0},
                                pollfd{m_cancel.get(), POLLIN, 0}};
        ::poll(p.data(), p.size(), 500);
        if (p[1].revents)
            return false;
        auto ch = (*listener)->accept();
        if (!ch) {
            LOG_WARN(log, "GUI vchan: accept failed", {"domain", m_name},
                     {"error", ch.error().message()});
            return !cancelled(1000);
        }
        vchan = std::move(*ch);
    }
    listener->reset();
    // guid listens once bulkheadd told it about the domain: a moment after the domain started.
    Result<UniqueFd> fd = unexpected(Errc::NotFound, "");
    for (int i = 0; i < 100; ++i) {
        fd = sys::unix_connect(m_socket, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd || cancelled(50))
            break;
    }
    if (!fd) {
        LOG_WARN(log, "GUI relay: guid's socket does not answer", {"domain", m_name},
                 {"socket", m_socket}, {"error", fd.error().message()});
        return !cancelled(1000);
    }
    rpc::SocketChannel guid(std::move(*fd), m_domid, gui_port);
    ++m_sessions;
    LOG_INFO(log, "GUI session relayed", {"domain", m_name}, {"domid", m_domid});
    auto up = std::make_unique<rpc::Pump>();   // domain -> guid
    auto down = std::make_unique<rpc::Pump>(); // guid -> domain
    std::string why;
    for (;;) {
        auto a = up->step(*vchan, guid);
        auto b = down->step(guid, *vchan);
        if (!a || !b) {
            why = !a ? a.error().message() : b.error().message();
            break;
        }
        if (up->drained() || down->drained()) {
            why = up->drained() ? "the domain closed" : "guid closed";
            break;
        }
        if (*a || *b)
            continue;
        std::array<pollfd, 3> p{
            pollfd{vchan->readiness_fd(), POLLIN, 0},
            pollfd{guid.readiness_fd(), short(POLLIN | (up->pending() ? POLLOUT : 0)), 0},
            pollfd{m_cancel.get(), POLLIN, 0}};
        ::poll(p.data(), p.size(), 1000);
        if (p[2].revents)
            return false;
        if (p[0].revents)
            if (auto ack = vchan->acknowledge(); !ack) {
                why = ack.error().message();
                break;
            }
    }
    LOG_INFO(log, "GUI session relay ended", {"domain", m_name}, {"why", why});
    return !cancelled(200);
}

} // namespace bulkhead::dom0
