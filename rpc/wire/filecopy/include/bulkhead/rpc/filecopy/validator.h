// FilecopyValidator: the one place where qubes.Filecopy bytes from a peer become typed values.
// Callers: the unpacker (stream from the sending domain), the packer (reply from the receiving
// domain), the fuzz targets. Trusts nothing it reads. Every error carries, as sys_errno(), the
// errno a Qubes receiver would put in result_header.error_code for it (EILSEQ, EINVAL, ...).
//
// Reading a stream entry takes three steps, each on exactly the bytes the previous one said:
//   1. header(32 bytes)           → End, or a checked FileHeader (namelen says how much to read)
//   2. entry(header, name bytes)  → ValidatedEntry (type, relative path, mode, size, times)
//   3. symlinks only: symlink_target(entry, filelen bytes) → a target that stays in the tree
// Regular files' data is not interpreted; the caller reads entry.size bytes and counts them.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/untrusted.h>
#include <bulkhead/rpc/filecopy/wire.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bulkhead::rpc::filecopy {

using UntrustedBytes = Untrusted<std::span<std::byte const>>;

enum class EntryType { File, Directory, Symlink };

struct ValidatedEntry {
    EntryType type = EntryType::File;
    // Relative path below the destination: components joined by single '/', none empty, "."
    // or "..", each at most 255 bytes; valid UTF-8 (no overlong forms, surrogates) without
    // control characters (C0, DEL, C1), bidi controls or U+FFFE/U+FFFF; at most
    // max_namelen - 1 bytes. (Qubes also refuses some scripts; we accept any other text.)
    std::string name;
    uint32_t permissions = 0; // mode & 0777 (setuid, setgid and sticky bits dropped)
    uint64_t size = 0;        // data bytes that follow: file contents / symlink target / 0
    timespec atime{};
    timespec mtime{};
    // Number of path components of name (1 for "a", 3 for "a/b/c").
    size_t depth() const;
};

// What step 1 found.
struct HeaderStep {
    bool end = false;  // the end marker: nothing follows
    FileHeader header; // when !end: fields checked; header.namelen name bytes follow
};

// The reply, as a sender sees it.
struct ValidatedReply {
    uint32_t error_code = 0;
    uint64_t crc32 = 0;
};

class FilecopyValidator : public Validator {
public:
    // Step 1: exactly file_header_size bytes. Checks namelen (1..max_namelen, or 0 = end),
    // the file type (regular, directory, symlink), nanoseconds (< 1e9), a directory's filelen
    // (0) and a symlink's (1..max_symlink_target) and a file's (<= INT64_MAX).
    static Result<HeaderStep> header(UntrustedBytes bytes);
    // Step 2: exactly header.namelen bytes, NUL last and nowhere else; the path rules above.
    static Result<ValidatedEntry> entry(FileHeader const& header, UntrustedBytes name);
    // Step 3: exactly entry.size bytes (no NUL). Relative, non-empty, same component rules as
    // names, except that leading ".." components are allowed as long as they stay inside the
    // copied tree: at most depth()-1 of them, and no ".." after any other component (so no
    // lexical walk can leave the tree, whatever the intermediate components turn out to be).
    static Result<std::string> symlink_target(ValidatedEntry const& link, UntrustedBytes target);

    // A reply's fixed part: exactly result_header_size bytes (the pad is ignored, as Qubes).
    static Result<ValidatedReply> reply(UntrustedBytes bytes);
    // result_header_ext's length field: exactly 4 bytes; Errc::Limit over max_last_namelen.
    static Result<uint32_t> reply_last_namelen(UntrustedBytes bytes);
    // A reply's last name, made safe to print: bytes outside printable ASCII and '"' become '_'
    // (as Qubes' sender shows it). Never fails.
    static std::string reply_last_name(UntrustedBytes bytes);

    // The name rules alone, for a sender that wants to refuse locally what the receiver would
    // refuse (packer). name without NUL.
    static Result<void> check_name(std::string_view name);
};

} // namespace bulkhead::rpc::filecopy
