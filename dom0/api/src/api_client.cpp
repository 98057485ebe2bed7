#include <bulkhead/dom0/api/api_client.h>

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/dom0/api/framing.h>

#include <cstdint>
#include <span>

namespace bulkhead::dom0 {

namespace {
Errc from_code(admin::ErrorCode c) {
    switch (c) {
    case admin::NOT_FOUND:
        return Errc::NotFound;
    case admin::EXISTS:
        return Errc::Exists;
    case admin::INVALID:
        return Errc::Invalid;
    case admin::DENIED:
        return Errc::Denied;
    case admin::PROTOCOL:
        return Errc::Protocol;
    case admin::CLOSED:
        return Errc::Closed;
    case admin::TIMEOUT:
        return Errc::Timeout;
    case admin::BUSY:
        return Errc::Busy;
    case admin::LIMIT:
        return Errc::Limit;
    case admin::UNSUPPORTED:
        return Errc::Unsupported;
    case admin::INTERNAL:
        return Errc::Internal;
    default:
        return Errc::System;
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

Result<std::pair<admin::Response, UniqueFd>> ApiClient::call_with_fd(admin::Request const& req) {
    TRY(api::write_frame(m_fd.get(), req.SerializeAsString()));
    // The first recvmsg takes the descriptor with (the start of) the frame; a reply without
    // one may be longer and arrive in pieces, so the rest is read plainly.
    auto [fd, bytes] = TRY(sys::recv_maybe_fd(m_fd.get(), 4096));
    if (bytes.size() < 4) {
        std::string rest(4 - bytes.size(), '\0');
        auto r = sys::read_exact(m_fd.get(), std::as_writable_bytes(std::span(rest)));
        if (!r)
            return unexpected(Errc::Protocol, "truncated admin frame");
        bytes += rest;
    }
    auto const* h = reinterpret_cast<unsigned char const*>(bytes.data());
    uint32_t len =
        uint32_t(h[0]) | uint32_t(h[1]) << 8 | uint32_t(h[2]) << 16 | uint32_t(h[3]) << 24;
    if (len > api::kMaxFrame)
        return unexpected(Errc::Limit, "admin frame exceeds 16 MiB");
    if (bytes.size() > 4 + size_t(len))
        return unexpected(Errc::Protocol, "admin reply longer than its frame");
    std::string body = bytes.substr(4);
    if (body.size() < len) {
        std::string rest(len - body.size(), '\0');
        auto r = sys::read_exact(m_fd.get(), std::as_writable_bytes(std::span(rest)));
        if (!r)
            return unexpected(Errc::Protocol, "truncated admin frame");
        body += rest;
    }
    admin::Response resp;
    if (!resp.ParseFromString(body))
        return unexpected(Errc::Protocol, "malformed admin response");
    return std::pair{std::move(resp), std::move(fd)};
}

Result<admin::Ok> ApiClient::call_ok(admin::Request const& req) {
    auto resp = TRY(call(req));
    if (resp.has_error())
        return unexpected(from_code(resp.error().code()), resp.error().message());
    return resp.ok();
}

} // namespace bulkhead::dom0
