#include <bulkhead/dom0/api/api_server.h>

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/api/framing.h>
#include <bulkhead/dom0/api/request_decoder.h>

namespace bulkhead::dom0 {

namespace {
Logger log("api");

admin::ErrorCode to_code(Errc c) {
    switch (c) {
    case Errc::System:
        return admin::SYSTEM;
    case Errc::NotFound:
        return admin::NOT_FOUND;
    case Errc::Exists:
        return admin::EXISTS;
    case Errc::Invalid:
        return admin::INVALID;
    case Errc::Denied:
        return admin::DENIED;
    case Errc::Protocol:
        return admin::PROTOCOL;
    case Errc::Closed:
        return admin::CLOSED;
    case Errc::Timeout:
        return admin::TIMEOUT;
    case Errc::Busy:
        return admin::BUSY;
    case Errc::Limit:
        return admin::LIMIT;
    case Errc::Unsupported:
        return admin::UNSUPPORTED;
    case Errc::Internal:
        return admin::INTERNAL;
    }
    return admin::ERROR_UNSPECIFIED;
}

admin::Response error_response(Error const& e) {
    admin::Response r;
    r.mutable_error()->set_code(to_code(e.code()));
    r.mutable_error()->set_message(e.message());
    return r;
}
} // namespace

ApiServer::ApiServer(Store& store, Lifecycle& lifecycle, size_t max_clients)
    : m_store(store)
    , m_lifecycle(lifecycle)
    , m_max_clients(max_clients) {}

ApiServer::~ApiServer() {
    stop();
}

void ApiServer::set_extension(Extension ext) {
    m_extension = std::move(ext);
}

Result<void> ApiServer::start(std::string const& path) {
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0)
        TRY(sys::mkdir_p(path.substr(0, slash), 0755));
    m_listen = TRY(sys::unix_listen(path));
    auto gid = TRY(sys::lookup_group("bulkhead-admin"));
    if (gid) {
        TRY(sys::chown(path, static_cast<uid_t>(-1), *gid));
        TRY(sys::chmod(path, 0660));
    } else {
        TRY(sys::chmod(path, 0600));
    }
    m_path = path;
    m_stopping = false;
    sys::ignore_sigpipe(); // a client that leaves mid-reply must not kill the daemon
    m_accept = std::thread([this] { accept_loop(); });
    LOG_INFO(log, "admin API listening", {"socket", path});
    return {};
}

void ApiServer::stop() {
    if (!m_accept.joinable())
        return;
    m_stopping = true;
    (void)sys::unix_connect(m_path); // wakes the blocking accept
    m_accept.join();
    {
        std::lock_guard lock(m_mutex);
        for (auto& [id, c] : m_clients)
            (void)sys::shutdown_both(c.first);
    }
    for (;;) {
        std::thread t;
        {
            std::lock_guard lock(m_mutex);
            if (!m_finished.empty()) {
                t = std::move(m_finished.back());
                m_finished.pop_back();
            } else if (m_clients.empty()) {
                break;
            }
        }
        if (t.joinable())
            t.join();
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    m_listen = UniqueFd();
    (void)sys::unlink(m_path);
}

void ApiServer::accept_loop() {
    while (!m_stopping) {
        auto fd = sys::accept(m_listen.get());
        std::vector<std::thread> done;
        {
            std::lock_guard lock(m_mutex);
            done.swap(m_finished);
        }
        for (auto& t : done)
            t.join();
        if (m_stopping)
            break;
        if (!fd) {
            LOG_WARN(log, "accept failed", {"error", fd.error().message()});
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        if (!fd->valid())
            continue; // ECONNABORTED: the client left before we accepted it
        std::lock_guard lock(m_mutex);
        if (m_clients.size() >= m_max_clients) {
            auto e = error_response(Error(Errc::Limit, "too many admin clients"));
            (void)api::write_frame(fd->get(), e.SerializeAsString());
            continue; // fd closes here
        }
        uint64_t id = m_next_id++;
        int raw = fd->get();
        auto owned = std::make_shared<UniqueFd>(std::move(*fd));
        m_clients[id] = {raw, std::thread([this, owned, id] { serve(owned->get(), id); })};
    }
}

namespace {
// Sends one reply; with a descriptor, frame and fd go in a single sendmsg.
Result<void> send_reply(int fd, ExtensionReply& reply) {
    auto bytes = reply.response.SerializeAsString();
    if (!reply.fd)
        return api::write_frame(fd, bytes);
    auto frame = api::encode_frame(bytes);
    if (frame.size() > ApiServer::kMaxFdFrame) {
        LOG_WARN(log, "extension reply with a descriptor is too large",
                 {"bytes", std::to_string(frame.size())});
        auto e =
            error_response(Error(Errc::Internal, "reply with a descriptor exceeds 4096 bytes"));
        return api::write_frame(fd, e.SerializeAsString());
    }
    return sys::send_fd(fd, reply.fd.get(), frame);
}
} // namespace

void ApiServer::serve(int fd, uint64_t id) {
    std::vector<std::function<void()>> closers; // after_close of this connection's replies
    auto peer = sys::peer_cred(fd);
    if (peer) {
        for (;;) {
            auto frame = api::read_frame(fd);
            if (!frame) {
                if (frame.error().code() != Errc::Closed)
                    LOG_WARN(log, "admin client dropped", {"error", frame.error().message()});
                if (frame.error().code() == Errc::Limit) {
                    auto e = error_response(frame.error());
                    (void)api::write_frame(fd, e.SerializeAsString());
                }
                break;
            }
            auto reply = reply_to(std::move(*frame), *peer);
            if (reply.after_close)
                closers.push_back(std::move(reply.after_close));
            if (!send_reply(fd, reply))
                break;
        }
    }
    (void)sys::shutdown_both(fd);
    for (auto& f : closers)
        f();
    std::lock_guard lock(m_mutex);
    auto it = m_clients.find(id);
    m_finished.push_back(std::move(it->second.second));
    m_clients.erase(it); // the fd is closed by the thread's owner when the lambda ends
}

ExtensionReply ApiServer::reply_to(std::string bytes, PeerCred peer) {
    auto req = api::RequestDecoder::decode(Untrusted<std::string>(std::move(bytes)));
    if (!req)
        return ExtensionReply{error_response(req.error()), {}, {}};
    return reply_to(*req, peer);
}

ExtensionReply ApiServer::reply_to(admin::Request const& req, PeerCred peer) {
    int kind = static_cast<int>(req.kind_case());
    if (kind == 0 || kind >= 100) {
        if (!m_extension)
            return ExtensionReply{
                error_response(Error(Errc::Unsupported, "unsupported admin request")), {}, {}};
        auto ext = m_extension(req, peer);
        if (!ext)
            return ExtensionReply{error_response(ext.error()), {}, {}};
        return std::move(*ext);
    }
    ExtensionReply reply;
    auto ok = dispatch(req, peer);
    if (!ok)
        reply.response = error_response(ok.error());
    else
        *reply.response.mutable_ok() = std::move(*ok);
    return reply;
}

std::string ApiServer::handle_bytes(std::string bytes, PeerCred peer) {
    auto reply = reply_to(std::move(bytes), peer);
    if (reply.after_close)
        reply.after_close(); // no connection to outlive
    return reply.response.SerializeAsString();
}

admin::Response ApiServer::handle(admin::Request const& req, PeerCred peer) {
    auto reply = reply_to(req, peer);
    if (reply.after_close)
        reply.after_close();
    return std::move(reply.response);
}

} // namespace bulkhead::dom0
