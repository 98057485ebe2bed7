// The two validators of "open in another domain": the file name a caller sends in the
// qubes.OpenInVM name field, and the URL it sends to qubes.OpenURL. Callers: the service
// side (vm-file-editor, bulkhead-open-url) on guest bytes, and the caller-side tools on
// their own arguments. Trusts nothing: every byte of the input is checked here.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/untrusted.h>

#include <cstddef>
#include <string>

namespace bulkhead::openinvm {

// Qubes' DVM_FILENAME_SIZE: the name travels as a fixed 256-byte field, NUL-padded.
inline constexpr size_t kNameFieldSize = 256;
// A usable name is at most 255 bytes (the field keeps one NUL); the same cap as NAME_MAX.
inline constexpr size_t kMaxNameBytes = kNameFieldSize - 1;
// Qubes' qubes.OpenURL reads one line; we cap it.
inline constexpr size_t kMaxUrlBytes = 8192;
// Newer Qubes callers mark a view-only open by prefixing the name field with this (the
// service makes the file read-only; the caller discards whatever comes back).
inline constexpr char const* kViewOnlyPrefix = "view-only-";
// Used when the sender's name cannot be used (its extension is kept when that is safe).
inline constexpr char const* kFallbackName = "file";

struct ValidatedName {
    std::string name;       // a basename: no '/', no control bytes, valid UTF-8, 1..255 bytes
    bool fell_back = false; // the sender's name was unusable; `name` is kFallbackName[.ext]
    bool view_only = false; // the field started with kViewOnlyPrefix (stripped from `name`)
};

class FileNameValidator : Validator {
public:
    // The raw name field (or any byte string): text up to the first NUL, less a leading
    // kViewOnlyPrefix. Never fails: an
    // unusable name becomes "file" (plus the original extension when it is [A-Za-z0-9]{1,16}).
    // Characters that trip up openers (shell metacharacters, as Qubes' vm-file-editor does)
    // become '_'.
    static ValidatedName validate(Untrusted<std::string> const& untrusted_field);
};

class UrlValidator : Validator {
public:
    // One URL, optionally ending in a single "\n". Accepts http://, https://, ftp:// (scheme
    // case-insensitive, Qubes' qubes.OpenURL list) with a non-empty rest; at most
    // kMaxUrlBytes; no bytes <= 0x20 or 0x7f; valid UTF-8. Errc::Invalid otherwise.
    static Result<std::string> validate(Untrusted<std::string> const& untrusted_url);
};

// True when ARG on a caller's command line names a URL rather than a file (scheme "://").
bool looks_like_url(std::string const& arg);

} // namespace bulkhead::openinvm
