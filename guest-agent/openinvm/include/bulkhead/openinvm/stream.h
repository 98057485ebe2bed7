// Byte plumbing for qubes.OpenInVM: the fixed-size name field and capped copies between
// descriptors (with a content hash, so the service side can tell whether a viewer changed
// a file). Callers: caller.cpp and service.cpp. Trusts nothing it reads.
#pragma once

#include <bulkhead/base/result.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bulkhead::openinvm {

// Default cap on a file in either direction (the edited copy included).
inline constexpr uint64_t kDefaultMaxFileBytes = 2ull << 30;

// The 256-byte name field for PATH: prefix + its basename, NUL-padded. A basename longer
// than fits (255 bytes less the prefix) keeps its end (as Qubes' qopen-in-vm does, so the
// extension survives), moved forward to a UTF-8 character boundary.
std::array<char, 256> encode_name_field(std::string_view path, std::string_view prefix = {});

struct CopyResult {
    uint64_t bytes = 0;
    uint64_t hash = 0; // FNV-1a 64 of the bytes copied
};

// Copies from `from` until EOF into `to` (to < 0: discard). Errc::Limit past max bytes.
Result<CopyResult> copy_stream(int from, int to, uint64_t max);

// FNV-1a 64 of everything readable from fd's current offset to EOF (for fingerprints).
Result<CopyResult> hash_stream(int fd, uint64_t max);

} // namespace bulkhead::openinvm
