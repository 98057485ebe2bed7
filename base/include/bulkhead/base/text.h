// Small text helpers shared by every module: escaping untrusted bytes for logs and
// terminals, splitting, trimming, number parsing without exceptions.
#pragma once

#include <bulkhead/base/result.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::text {

// Printable ASCII kept; everything else (control, non-ASCII, backslash, quote) as \xNN.
std::string escape(std::string_view untrusted);
bool is_valid_utf8(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
// Splits on runs of spaces/tabs; no empty fields.
std::vector<std::string> split_ws(std::string_view s);
std::string_view trim(std::string_view s);
std::string join(std::vector<std::string> const& parts, std::string_view sep);
bool starts_with(std::string_view s, std::string_view prefix);
Result<uint64_t> parse_u64(std::string_view s);
Result<int64_t> parse_i64(std::string_view s);
// Qubes' domain name rule: [A-Za-z][A-Za-z0-9_.-]*, at most 31 characters (policy, qrexec
// identities, QubesIncoming/<source>).
bool is_domain_name(std::string_view name);

} // namespace bulkhead::text
