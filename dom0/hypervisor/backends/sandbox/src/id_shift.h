// Ownership of a domain's persistent dirs (private dir, kept root upper) under a user
// namespace. At rest they hold canonical ids (host id == guest id, what dom0 creates and
// templates commit); while the domain runs they hold its mapped range. Each id is
// normalised first, so a dir left shifted by a crash (any slot) is handled too.
#pragma once

#include <bulkhead/base/result.h>

#include <cstdint>
#include <string>

namespace bulkhead::dom0::sandbox {

struct IdShift {
    uint32_t uid_base = 100000; // ids >= uid_base are in some slot's range
    uint32_t target = 0;        // 0: canonical; else the range start of the running slot
};

// Recursively lchowns dir and everything under it (no symlink following, stays on its
// file system); setuid/setgid bits survive the chown.
Result<void> shift_ids(std::string const& dir, IdShift shift);

} // namespace bulkhead::dom0::sandbox
