#include <bulkhead/dom0/api/api_client.h>

#include <bulkhead/base/sys/socket.h>
#include <bulkhead/dom0/api/framing.h>

namespace bulkhead::dom0 {

namespace {
Errc from_code(admin::ErrorCode c) {
    switch (c) {
    case admin::NOT_FOUND: return Errc::NotFound;
    case admin::EXISTS: return Errc::Exists;
    case admin::INVALID: return Errc::Invalid;
    case admin::DENIED: return Errc::Denied;
    case admin::PROTOCOL: return Errc::Protocol;
    case admin::CLOSED: return Errc::Closed;
    case admin::TIMEOUT: return Errc::Timeout;
    case admin::BUSY: return Errc::Busy;
    case admin::LIMIT: return Errc::Limit;
    case admin::UNSUPPORTED: return Errc::Unsupported;
    case admin::INTERNAL: return Errc::Internal;
    default: return Errc::System;
    }
}
} // namespace

Result<ApiClient> ApiClient::connect(std::string const& path) {
    auto fd = TRY_CTX(sys::unix_connect(path), "connecting to " + path);
    return ApiClient(std::move(fd));
}

Result<admin::Response> ApiClient::call(admin::Request const& req) {
    TRY(api::write_frame(m_fd.get(), req.SerializeAsString()));
    auto bytes = TRY(api::read_frame(m_fd.get()));
    admin::Response resp;
    if (!resp.ParseFromString(bytes))
        return unexpected(Errc::Protocol, "malformed admin response");
    return resp;
}

Result<admin::Ok> ApiClient::call_ok(admin::Request const& req) {
    auto resp = TRY(call(req));
    if (resp.has_error())
        return unexpected(from_code(resp.error().code()), resp.error().message());
    return resp.ok();
}

} // namespace bulkhead::dom0
