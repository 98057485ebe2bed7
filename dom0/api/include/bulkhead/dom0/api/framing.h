// Admin API framing: u32 little-endian length, then the message bytes (max 16 MiB).
// Used by ApiServer and ApiClient. Frame bytes are untrusted until decoded.
#pragma once

#include <bulkhead/base/result.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace bulkhead::dom0::api {

inline constexpr size_t kMaxFrame = 16u << 20;

// Errc::Closed on a clean EOF before the header; Errc::Limit for an oversized length.
Result<std::string> read_frame(int fd);
Result<void> write_frame(int fd, std::string_view message);
std::string encode_frame(std::string_view message);

// $BULKHEAD_ADMIN_SOCKET when set, else $BULKHEAD_ROOT/run/admin.sock (root default
// /var/lib/bulkhead, as Store::default_root()).
std::string default_socket_path();

} // namespace bulkhead::dom0::api
