// Filecopy packer: sends files and directory trees as a qubes.Filecopy stream (wire format in
// rpc/wire/filecopy/wire.h) and checks the receiver's reply. Callers: qfile-agent, qvm-copy.
// Trusts the local files it is asked to send; the reply comes from another domain and goes
// through FilecopyValidator.
#pragma once

#include <bulkhead/base/result.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace bulkhead::filecopy {

struct PackOptions {
    // Called after every chunk written: (data bytes sent so far, total data bytes). The total
    // is measured by a walk of the paths before sending, only when a callback is set.
    std::function<void(uint64_t sent, uint64_t total)> progress;
};

struct PackReport {
    uint64_t entries = 0; // files, directories and symlinks sent
    uint64_t bytes = 0;   // data bytes sent (file contents and symlink targets)
    uint64_t skipped = 0; // sockets, FIFOs and devices (not sendable; skipped, as Qubes)
    uint32_t crc32 = 0;   // CRC of the whole stream, confirmed by the receiver
};

// Sends each path (file, directory — recursively, symlink — as a symlink, never followed)
// under its last component's name, like Qubes' qfile-agent: "/a/b/dir" arrives as "dir",
// "dir/x", ... Mode bits and atime/mtime are sent; a directory is sent before and after its
// contents. Then the end marker, then waits for the reply on reply_fd.
//
// Succeeds only when the receiver answered error_code 0 with the CRC of what was sent.
// Errors: local file problems (System/Invalid; a name the format cannot carry is refused
// before anything of it is sent); the receiver's refusal (Exists for EEXIST, Limit for EDQUOT,
// Denied for others; sys_errno() = its error_code; the context names its last file, made
// printable); Protocol for a CRC mismatch or a malformed reply; Closed when the receiver went
// away without a reply. A reply arriving before the end (the receiver failed) stops sending.
//
// Writing to a closed pipe raises SIGPIPE: the caller ignores SIGPIPE (qfile-agent does).
Result<PackReport> pack(std::span<std::string const> paths, int stream_fd, int reply_fd,
                        PackOptions const& options = {});

} // namespace bulkhead::filecopy
