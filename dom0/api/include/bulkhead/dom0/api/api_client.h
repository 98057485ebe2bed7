// ApiClient: one connection to the admin API socket; call() sends a request and waits for
// its response. Used by the qvm-* tools and tests. Trusts the server (dom0).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>

#include <rpc/wire/admin/admin.pb.h>

#include <string>
#include <utility>

namespace bulkhead::dom0 {

class ApiClient {
public:
    // Connects to path (default: api::default_socket_path()).
    static Result<ApiClient> connect(std::string const& path);
    // Transport errors only; a refused request comes back as Response.error.
    Result<admin::Response> call(admin::Request const& req);
    // As call(), but an error response becomes an Error carrying its message.
    Result<admin::Ok> call_ok(admin::Request const& req);
    // As call(), for requests whose reply may carry a descriptor (SCM_RIGHTS, sent with the
    // frame in one message); the fd is invalid when the reply has none (e.g. an error).
    Result<std::pair<admin::Response, UniqueFd>> call_with_fd(admin::Request const& req);
    int fd() const { return m_fd.get(); }

private:
    explicit ApiClient(UniqueFd fd)
        : m_fd(std::move(fd)) {}
    UniqueFd m_fd;
};

} // namespace bulkhead::dom0
