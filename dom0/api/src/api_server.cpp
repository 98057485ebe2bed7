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
    case Errc::System: return admin::SYSTEM;
    case Errc::NotFound: return admin::NOT_FOUND;
    case Errc::Exists: return admin::EXISTS;
    case Errc::Invalid: return admin::INVALID;
    case Errc::Denied: return admin::DENIED;
    case Errc::Protocol: return admin::PROTOCOL;
    case Errc::Closed: return admin::CLOSED;
    case Errc::Timeout: return admin::TIMEOUT;
    case Errc::Busy: return admin::BUSY;
    case Errc::Limit: return admin::LIMIT;
    case Errc::Unsupported: return admin::UNSUPPORTED;
    case Errc::Internal: return admin::INTERNAL;
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
    : m_store(store), m_lifecycle(lifecycle), m_max_clients(max_clients) {}

ApiServer::~ApiServer() { stop(); }

void ApiServer::set_extension(Extension ext) { m_extension = std::move(ext); }

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
    std::map<uint64_t, std::pair<int, std::thread>> clients;
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
        if (!fd) {
            LOG_WARN(log, "accept failed", {"error", fd.error().message()});
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        if (m_stopping || !fd->valid())
            break;
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

void ApiServer::serve(int fd, uint64_t id) {
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
            auto reply = handle_bytes(std::move(*frame), *peer);
            if (!api::write_frame(fd, reply))
                break;
        }
    }
    std::lock_guard lock(m_mutex);
    auto it = m_clients.find(id);
    m_finished.push_back(std::move(it->second.second));
    m_clients.erase(it); // the fd is closed by the thread's owner when the lambda ends
}

std::string ApiServer::handle_bytes(std::string bytes, PeerCred peer) {
    auto req = api::RequestDecoder::decode(Untrusted<std::string>(std::move(bytes)));
    if (!req)
        return error_response(req.error()).SerializeAsString();
    return handle(*req, peer).SerializeAsString();
}

admin::Response ApiServer::handle(admin::Request const& req, PeerCred peer) {
    int kind = static_cast<int>(req.kind_case());
    if (kind == 0 || kind >= 100) {
        if (!m_extension)
            return error_response(Error(Errc::Unsupported, "unsupported admin request"));
        auto ext = m_extension(req, peer);
        return ext ? std::move(*ext) : error_response(ext.error());
    }
    auto ok = dispatch(req, peer);
    if (!ok)
        return error_response(ok.error());
    admin::Response r;
    *r.mutable_ok() = std::move(*ok);
    return r;
}

} // namespace bulkhead::dom0
