// ApiServer: serves the admin API on a unix socket. One thread per client connection
// (capped); each frame is decoded by RequestDecoder and dispatched to the Store or the
// Lifecycle. Called by the daemon. Trusts only SO_PEERCRED and the socket's permissions
// (0660 group bulkhead-admin when that group exists, else 0600).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/dom0/api/lifecycle.h>
#include <bulkhead/dom0/store/store.h>

#include <rpc/wire/admin/admin.pb.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace bulkhead::dom0 {

using PeerCred = sys::PeerCred;

// What an extension answers. With `fd` set, the response frame (at most 4096 bytes) and the
// descriptor go out in one sendmsg (SCM_RIGHTS); read it with ApiClient::call_with_fd.
// `after_close` runs once, on the connection's thread, when that client connection closes
// (or when the server stops); handle()/handle_bytes(), which have no connection, run it at once.
struct ExtensionReply {
    admin::Response response;
    UniqueFd fd;                       // optional
    std::function<void()> after_close; // optional
};

class ApiServer {
public:
    using Extension = std::function<Result<ExtensionReply>(admin::Request const&, PeerCred)>;
    static constexpr size_t kMaxFdFrame = 4096;

    ApiServer(Store& store, Lifecycle& lifecycle, size_t max_clients = 32);
    ~ApiServer();
    ApiServer(ApiServer const&) = delete;

    // Handles request kinds this server does not (e.g. run/dispvm messages, 100-199).
    // Set before start(); called from client threads (concurrently for several clients).
    void set_extension(Extension ext);

    // Binds path (parent directories created), sets its mode/group, starts the accept thread.
    // Ignores SIGPIPE process-wide (writes to departed clients return EPIPE).
    Result<void> start(std::string const& path);
    // Stops accepting, closes client connections, joins every thread. Idempotent.
    void stop();

    // Decodes one frame body and dispatches it: encoded Response bytes (never fails;
    // errors become Response.error). The fuzz target enters here.
    std::string handle_bytes(std::string bytes, PeerCred peer);
    admin::Response handle(admin::Request const& req, PeerCred peer);

private:
    ExtensionReply reply_to(std::string bytes, PeerCred peer);
    ExtensionReply reply_to(admin::Request const& req, PeerCred peer);
    void accept_loop();
    void serve(int fd, uint64_t id);
    Result<admin::Ok> dispatch(admin::Request const& req, PeerCred peer);
    Result<void> require_halted(std::string const& name, std::string_view what);
    Result<void> replug_or_revert(std::string const& domain, PropertyValue const& before);

    Store& m_store;
    Lifecycle& m_lifecycle;
    size_t m_max_clients;
    Extension m_extension;
    std::string m_path;
    UniqueFd m_listen;
    std::thread m_accept;
    std::atomic<bool> m_stopping{false};
    std::mutex m_mutex;
    std::map<uint64_t, std::pair<int, std::thread>> m_clients; // id → (fd, thread)
    std::vector<std::thread> m_finished;
    uint64_t m_next_id = 0;
};

} // namespace bulkhead::dom0
