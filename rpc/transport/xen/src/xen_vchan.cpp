#include <bulkhead/rpc/xen/xen_vchan.h>

#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/sys/poll.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

extern "C" {
#include <libxenvchan.h>
#include <xenstore.h>
}

namespace bulkhead::rpc {

namespace {

// Consumes a pending event notification if there is one; never blocks.
Result<void> consume_event(libxenvchan* ctrl) {
    short ready =
        TRY(sys::poll_one(libxenvchan_fd_for_select(ctrl), POLLIN, std::chrono::milliseconds(0)));
    if (ready != 0 && libxenvchan_wait(ctrl) < 0)
        return Error::from_errno("libxenvchan_wait", errno);
    return {};
}

class XenListener final : public Listener {
public:
    XenListener(libxenvchan* ctrl, DomainId peer, Port port)
        : m_ctrl(ctrl)
        , m_peer(peer)
        , m_port(port) {}
    ~XenListener() override {
        if (m_ctrl)
            libxenvchan_close(m_ctrl);
    }
    int readiness_fd() const override { return m_ctrl ? libxenvchan_fd_for_select(m_ctrl) : -1; }
    DomainId peer_domain() const override { return m_peer; }
    Port port() const override { return m_port; }

    Result<std::unique_ptr<Channel>> accept() override {
        if (!m_ctrl)
            return unexpected(Errc::Busy, "xen vchan: listener already accepted its client");
        TRY(consume_event(m_ctrl));
        int state = libxenvchan_is_open(m_ctrl);
        if (state == 2)
            return std::unique_ptr<Channel>(); // client not connected yet
        if (state == 0)
            return unexpected(Errc::Closed, "xen vchan: client connected and left");
        auto* ctrl = std::exchange(m_ctrl, nullptr);
        return std::unique_ptr<Channel>(std::make_unique<XenChannel>(ctrl, m_peer, m_port));
    }

private:
    libxenvchan* m_ctrl;
    DomainId m_peer;
    Port m_port;
};

} // namespace

XenChannel::XenChannel(libxenvchan* ctrl, DomainId peer, Port port)
    : m_ctrl(ctrl)
    , m_peer(peer)
    , m_port(port) {
    m_ctrl->blocking = 0;
}

XenChannel::~XenChannel() {
    libxenvchan_close(m_ctrl);
}

Result<size_t> XenChannel::read(std::span<std::byte> buf) {
    if (buf.empty())
        return size_t(0);
    if (libxenvchan_data_ready(m_ctrl) <= 0) {
        // Data written before a close stays readable; only then is it the end.
        if (libxenvchan_is_open(m_ctrl) == 0)
            return unexpected(Errc::Closed, "xen vchan: end of stream");
        return size_t(0);
    }
    int n = libxenvchan_read(m_ctrl, buf.data(), buf.size());
    if (n < 0)
        return Error::from_errno("libxenvchan_read", errno);
    return size_t(n);
}

Result<size_t> XenChannel::write(std::span<std::byte const> buf) {
    if (libxenvchan_is_open(m_ctrl) == 0)
        return unexpected(Errc::Closed, "xen vchan: peer closed");
    if (buf.empty())
        return size_t(0);
    int n = libxenvchan_write(m_ctrl, buf.data(), buf.size());
    if (n < 0)
        return Error::from_errno("libxenvchan_write", errno);
    return size_t(n);
}

int XenChannel::readiness_fd() const {
    return libxenvchan_fd_for_select(m_ctrl);
}

uint32_t XenChannel::watch_events(WantWrite) const {
    return EventLoop::Readable;
}

Result<void> XenChannel::acknowledge() {
    return consume_event(m_ctrl);
}

XenTransport::XenTransport(DomainId local, size_t ring_size)
    : m_local(local)
    , m_ring_size(ring_size) {}

Result<XenTransport> XenTransport::from_xenstore(size_t ring_size) {
    xs_handle* xs = xs_open(0);
    if (!xs)
        return Error(Errc::Unsupported, "xs_open: no xenstore (not running on Xen?)", errno);
    unsigned len = 0;
    char* value = static_cast<char*>(xs_read(xs, XBT_NULL, "domid", &len));
    int err = errno;
    xs_close(xs);
    if (!value)
        return Error::from_errno("xs_read domid", err);
    auto id = text::parse_u64(std::string_view(value, len));
    std::free(value);
    if (!id || *id > 0x7fff)
        return unexpected(Errc::Invalid, "xenstore domid is not a domain id");
    return XenTransport(DomainId(*id), ring_size);
}

bool XenTransport::server_published(DomainId server, DomainId self, Port port) {
    xs_handle* xs = xs_open(0);
    if (!xs)
        return false;
    unsigned len = 0;
    void* value =
        xs_read(xs, XBT_NULL, (client_path(server, self, port) + "/ring-ref").c_str(), &len);
    xs_close(xs);
    bool found = value != nullptr;
    std::free(value);
    return found;
}

std::string XenTransport::server_path(DomainId client, Port port) {
    return "data/vchan/" + std::to_string(client) + "/" + std::to_string(port);
}

std::string XenTransport::client_path(DomainId server, DomainId self, Port port) {
    return "/local/domain/" + std::to_string(server) + "/data/vchan/" + std::to_string(self) + "/" +
           std::to_string(port);
}

Result<std::unique_ptr<Listener>> XenTransport::listen(DomainId peer, Port port) {
    auto path = server_path(peer, port);
    libxenvchan* ctrl =
        libxenvchan_server_init(nullptr, int(peer), path.c_str(), m_ring_size, m_ring_size);
    if (!ctrl)
        return Error::from_errno("libxenvchan_server_init " + path, errno);
    ctrl->blocking = 0;
    return std::unique_ptr<Listener>(std::make_unique<XenListener>(ctrl, peer, port));
}

Result<std::unique_ptr<Channel>> XenTransport::connect(DomainId peer, Port port,
                                                       std::chrono::milliseconds timeout) {
    auto path = client_path(peer, m_local, port);
    auto const deadline = sys::now() + timeout;
    for (;;) {
        libxenvchan* ctrl = libxenvchan_client_init(nullptr, int(peer), path.c_str());
        if (ctrl)
            return std::unique_ptr<Channel>(std::make_unique<XenChannel>(ctrl, peer, port));
        int err = errno;
        if (sys::now() >= deadline)
            return Error(Errc::Timeout, "libxenvchan_client_init " + path, err);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

} // namespace bulkhead::rpc
