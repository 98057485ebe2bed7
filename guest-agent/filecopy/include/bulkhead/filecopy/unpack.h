// Filecopy unpacker: receives a qubes.Filecopy stream from another domain and writes it
// below a destination directory, then replies. Callers: qfile-unpacker (the qubes.Filecopy
// service), tests. Every stream byte is untrusted and goes through FilecopyValidator; nothing
// the stream says can make it write outside the destination or follow a symlink.
//
// How it writes (each guarantee holds against a concurrent local process too):
// - Every path component is opened with openat(O_NOFOLLOW) relative to the already-open
//   parent (directories O_DIRECTORY|O_NOFOLLOW), starting from dest_dir_fd. A symlink, from
//   the stream or placed by anyone else, is never followed: it fails (ELOOP/ENOTDIR).
// - A file is created under a temporary name (".bulkhead-filecopy-*", O_CREAT|O_EXCL|
//   O_NOFOLLOW, 0600) in its opened parent, written, given its mode (mode & 0777: setuid,
//   setgid and sticky dropped) and times, and only then renamed to its name with
//   renameat2(RENAME_NOREPLACE) (link+unlink where the filesystem lacks it). A stream cut off
//   mid-file leaves no file under the final name; the temporary file is removed.
// - An existing name is never overwritten or replaced: the entry fails with EEXIST, as in
//   Qubes. An existing directory is entered (Qubes merges a copied tree into it).
// - A directory is created 0700 on its first header and gets its mode and times on its
//   second (closing) header.
// - Caps on data bytes and on entries; a symlink target counts as bytes (as Qubes).
// On the first error it stops reading and replies error_code = an errno as Qubes would
// (EILSEQ bad name, EINVAL bad type, EDQUOT over a cap, EEXIST, LEGAL_EOF cut-off stream,
// or the failing call's errno) with the CRC of the bytes consumed and the last name handled.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace bulkhead::filecopy {

struct UnpackOptions {
    uint64_t max_bytes = uint64_t(2) << 30; // data bytes over the whole stream (2 GiB)
    uint64_t max_files = 2048;              // entries (files, directories, symlinks)
    // syncfs() the destination before replying success, as Qubes: the sender's "done" means
    // the data is on disk. Off only for measurements.
    bool sync_before_reply = true;
};

struct UnpackReport {
    uint32_t error_code = 0; // what was replied: 0 = success
    uint32_t crc32 = 0;      // CRC of every stream byte consumed
    std::string last_name;   // last validated name handled (in the reply's ext)
    uint64_t entries = 0;
    uint64_t bytes = 0;
    bool replied = false; // the reply was written to reply_fd
};

// Reads the stream from stream_fd until the end marker or the first error, writes below
// dest_dir_fd, and writes the reply (result_header + result_header_ext, always with a
// last_namelen, possibly 0) to reply_fd. Returns the report whatever the stream did; the
// error_code in it says whether the transfer succeeded. The caller then closes stream_fd, so
// that a sender still writing sees EPIPE and reads the reply.
UnpackReport unpack(int stream_fd, int reply_fd, int dest_dir_fd,
                    UnpackOptions const& options = {});

// For the service binary, before unpack() parses anything: becomes the owner of the
// destination directory. As root (and the owner is not root): setgroups({gid}),
// setresgid(gid), setresuid(uid), checked afterwards. As a non-root user: refuses (Denied)
// unless it already is the owner. Always sets PR_SET_NO_NEW_PRIVS. Process-wide; call it in
// a process that does nothing else afterwards (a forked child in tests).
Result<void> drop_privileges_to_owner(int dest_dir_fd);

// The receiving domain's caps, from config files read in order (later ones win; a missing
// file is skipped): lines `max_bytes = N` and `max_files = N` (N decimal, optional K/M/G
// suffix, binary), `#` comments. An unknown key or a bad value is an error (the service then
// refuses the copy rather than run with caps nobody chose). qfile-unpacker reads
// /etc/bulkhead/filecopy.conf (the template) then /rw/config/bulkhead-filecopy.conf (this
// domain, persistent).
Result<UnpackOptions> load_unpack_options(std::vector<std::string> const& paths,
                                          UnpackOptions defaults = {});

// A Qubes domain name: a letter, then letters, digits, '_', '.', '-'; at most 31 bytes.
bool valid_domain_name(std::string_view name);

// Opens <home>/QubesIncoming/<source_domain>, creating the two directories 0700 when missing,
// each opened O_DIRECTORY|O_NOFOLLOW relative to the previous one (home itself is trusted:
// it comes from the domain's own passwd). When owner is given (running as root), directories
// created here are chowned to it. source_domain must pass valid_domain_name.
Result<UniqueFd> open_incoming_dir(std::string const& home, std::string_view source_domain,
                                   std::optional<std::pair<uid_t, gid_t>> owner = std::nullopt);

} // namespace bulkhead::filecopy
