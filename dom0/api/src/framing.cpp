#include <bulkhead/dom0/api/framing.h>

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>

#include <array>
#include <cstdint>

namespace bulkhead::dom0::api {

Result<std::string> read_frame(int fd) {
    std::array<std::byte, 4> hdr{};
    TRY(sys::read_exact(fd, hdr));
    uint32_t len = static_cast<uint32_t>(hdr[0]) | static_cast<uint32_t>(hdr[1]) << 8 |
                   static_cast<uint32_t>(hdr[2]) << 16 | static_cast<uint32_t>(hdr[3]) << 24;
    if (len > kMaxFrame)
        return unexpected(Errc::Limit,
                          "admin frame of " + std::to_string(len) + " bytes exceeds 16 MiB");
    std::string body(len, '\0');
    if (len) {
        auto r = sys::read_exact(fd, std::as_writable_bytes(std::span(body.data(), body.size())));
        if (!r)
            return Unexpected{Error(Errc::Protocol, "truncated admin frame")};
    }
    return body;
}

std::string encode_frame(std::string_view message) {
    auto len = static_cast<uint32_t>(message.size());
    std::string out;
    out.reserve(4 + message.size());
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
    out.append(message);
    return out;
}

Result<void> write_frame(int fd, std::string_view message) {
    if (message.size() > kMaxFrame)
        return unexpected(Errc::Limit, "admin frame exceeds 16 MiB");
    return sys::write_all(fd, encode_frame(message));
}

std::string default_socket_path() {
    if (auto path = sys::getenv("BULKHEAD_ADMIN_SOCKET"); path && !path->empty())
        return *path;
    return sys::getenv_or("BULKHEAD_ROOT", "/var/lib/bulkhead") + "/run/admin.sock";
}

} // namespace bulkhead::dom0::api
