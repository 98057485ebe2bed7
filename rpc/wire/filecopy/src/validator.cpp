#include <bulkhead/rpc/filecopy/validator.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <sys/stat.h>

namespace bulkhead::rpc::filecopy {

namespace {

constexpr size_t name_max = 255; // NAME_MAX: one component

Unexpected bad(Errc code, int err, std::string what) {
    return Unexpected{Error(code, "filecopy: " + what, err)};
}

std::string_view as_chars(std::span<std::byte const> b) {
    return {reinterpret_cast<char const*>(b.data()), b.size()};
}

// Length of the UTF-8 sequence at s[i] if it encodes an allowed code point, else 0.
// Allowed: well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF) and not a
// control character (C0, DEL, C1).
size_t utf8_char(std::string_view s, size_t i) {
    auto byte = [&](size_t k) { return uint8_t(s[k]); };
    uint8_t b0 = byte(i);
    if (b0 >= 0x20 && b0 < 0x7f)
        return 1;
    size_t len;
    uint32_t cp;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        len = 2;
        cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        len = 3;
        cp = b0 & 0x0f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        len = 4;
        cp = b0 & 0x07;
    } else {
        return 0; // control, DEL, continuation byte, overlong lead (C0/C1) or > F4
    }
    if (i + len > s.size())
        return 0;
    for (size_t k = 1; k < len; ++k) {
        uint8_t b = byte(i + k);
        if ((b & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (b & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) // overlong
        return 0;
    if (cp >= 0xd800 && cp <= 0xdfff) // surrogates
        return 0;
    if (cp > 0x10ffff)
        return 0;
    if (cp >= 0x80 && cp <= 0x9f) // C1 controls
        return 0;
    // Bidirectional controls (a name that displays as something else: "txt.exe" shown as
    // "exe.txt") and the noncharacters U+FFFE/U+FFFF; Qubes refuses these too.
    if (cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
        (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061c || cp == 0xfffe || cp == 0xffff)
        return 0;
    return len;
}

Result<void> check_text(std::string_view s, std::string_view what) {
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_char(s, i);
        if (!n)
            return bad(Errc::Invalid, EILSEQ,
                       std::string(what) + " is not valid UTF-8 or has a control character");
        i += n;
    }
    return ok();
}

// Splits on '/', checking each component; returns the components in order. Leading ".."
// are allowed up to max_leading_dotdot (only for symlink targets).
Result<size_t> check_path(std::string_view s, std::string_view what, size_t max_leading_dotdot,
                          size_t* leading_dotdot) {
    if (s.empty())
        return bad(Errc::Invalid, ENOENT, std::string(what) + " is empty");
    if (s.front() == '/')
        return bad(Errc::Invalid, EILSEQ, std::string(what) + " is absolute");
    TRY(check_text(s, what));
    size_t count = 0, dotdot = 0;
    bool others = false;
    size_t start = 0;
    while (true) {
        size_t slash = s.find('/', start);
        auto comp = s.substr(start, slash == std::string_view::npos ? s.npos : slash - start);
        if (comp.empty())
            return bad(Errc::Invalid, EILSEQ, std::string(what) + " has an empty component");
        if (comp == ".")
            return bad(Errc::Invalid, EILSEQ, std::string(what) + " has a '.' component");
        if (comp.size() > name_max)
            return bad(Errc::Limit, ENAMETOOLONG,
                       std::string(what) + " has a component over 255 bytes");
        if (comp == "..") {
            if (others || dotdot >= max_leading_dotdot)
                return bad(Errc::Invalid, EILSEQ, std::string(what) + " leaves the copied tree");
            ++dotdot;
        } else {
            others = true;
        }
        ++count;
        if (slash == std::string_view::npos)
            break;
        start = slash + 1;
    }
    if (leading_dotdot)
        *leading_dotdot = dotdot;
    return count;
}

} // namespace

size_t ValidatedEntry::depth() const {
    return size_t(std::count(name.begin(), name.end(), '/')) + 1;
}

Result<HeaderStep> FilecopyValidator::header(UntrustedBytes untrusted_bytes) {
    auto const& b = untrusted_bytes.open(key());
    if (b.size() != file_header_size)
        return bad(Errc::Protocol, EINVAL, "file_header is not 32 bytes");
    FileHeader h;
    h.namelen = load_le32(b.data());
    h.mode = load_le32(b.data() + 4);
    h.filelen = load_le64(b.data() + 8);
    h.atime = load_le32(b.data() + 16);
    h.atime_nsec = load_le32(b.data() + 20);
    h.mtime = load_le32(b.data() + 24);
    h.mtime_nsec = load_le32(b.data() + 28);
    HeaderStep step;
    if (h.namelen == 0) {
        step.end = true; // as Qubes: the other fields of the end marker are not looked at
        return step;
    }
    if (h.namelen > max_namelen)
        return bad(Errc::Limit, ENAMETOOLONG, "name longer than 16383 bytes");
    if (h.atime_nsec > 999'999'999 || h.mtime_nsec > 999'999'999)
        return bad(Errc::Invalid, EINVAL, "nanoseconds out of range");
    if (S_ISREG(h.mode)) {
        if (h.filelen > uint64_t(INT64_MAX))
            return bad(Errc::Limit, EFBIG, "file length out of range");
    } else if (S_ISDIR(h.mode)) {
        if (h.filelen != 0)
            return bad(Errc::Invalid, EINVAL, "a directory with data");
    } else if (S_ISLNK(h.mode)) {
        if (h.filelen == 0)
            return bad(Errc::Invalid, ENOENT, "an empty symlink target");
        if (h.filelen > max_symlink_target)
            return bad(Errc::Limit, ENAMETOOLONG, "symlink target longer than 16383 bytes");
    } else {
        return bad(Errc::Invalid, EINVAL, "not a regular file, directory or symlink");
    }
    step.header = h;
    return step;
}

Result<void> FilecopyValidator::check_name(std::string_view name) {
    if (name.size() + 1 > max_namelen)
        return bad(Errc::Limit, ENAMETOOLONG, "name longer than 16383 bytes");
    if (name.find('\0') != std::string_view::npos)
        return bad(Errc::Invalid, EILSEQ, "name has an embedded NUL");
    TRY(check_path(name, "name", 0, nullptr));
    return ok();
}

Result<ValidatedEntry> FilecopyValidator::entry(FileHeader const& h,
                                                UntrustedBytes untrusted_name) {
    auto const& b = untrusted_name.open(key());
    if (h.namelen == 0 || h.namelen > max_namelen || b.size() != h.namelen)
        return bad(Errc::Protocol, EINVAL, "name length differs from namelen");
    auto chars = as_chars(b);
    if (chars.back() != '\0')
        return bad(Errc::Invalid, EILSEQ, "name is not NUL-terminated");
    auto name = chars.substr(0, chars.size() - 1);
    TRY(check_name(name));
    ValidatedEntry e;
    if (S_ISREG(h.mode))
        e.type = EntryType::File;
    else if (S_ISDIR(h.mode))
        e.type = EntryType::Directory;
    else if (S_ISLNK(h.mode))
        e.type = EntryType::Symlink;
    else
        return bad(Errc::Invalid, EINVAL, "not a regular file, directory or symlink");
    if (h.atime_nsec > 999'999'999 || h.mtime_nsec > 999'999'999)
        return bad(Errc::Invalid, EINVAL, "nanoseconds out of range");
    if (e.type == EntryType::Directory && h.filelen != 0)
        return bad(Errc::Invalid, EINVAL, "a directory with data");
    if (e.type == EntryType::Symlink && (h.filelen == 0 || h.filelen > max_symlink_target))
        return bad(Errc::Invalid, EINVAL, "symlink target length out of range");
    if (e.type == EntryType::File && h.filelen > uint64_t(INT64_MAX))
        return bad(Errc::Limit, EFBIG, "file length out of range");
    e.name = std::string(name);
    e.permissions = h.mode & 0777;
    e.size = h.filelen;
    e.atime = {time_t(h.atime), long(h.atime_nsec)};
    e.mtime = {time_t(h.mtime), long(h.mtime_nsec)};
    return e;
}

Result<std::string> FilecopyValidator::symlink_target(ValidatedEntry const& link,
                                                      UntrustedBytes untrusted_target) {
    auto const& b = untrusted_target.open(key());
    if (link.type != EntryType::Symlink || b.size() != link.size)
        return bad(Errc::Protocol, EINVAL, "symlink target length differs from filelen");
    auto target = as_chars(b);
    if (target.find('\0') != std::string_view::npos)
        return bad(Errc::Invalid, EILSEQ, "symlink target has a NUL");
    TRY(check_path(target, "symlink target", link.depth() - 1, nullptr));
    return std::string(target);
}

Result<ValidatedReply> FilecopyValidator::reply(UntrustedBytes untrusted_bytes) {
    auto const& b = untrusted_bytes.open(key());
    if (b.size() != result_header_size)
        return bad(Errc::Protocol, EINVAL, "result_header is not 16 bytes");
    return ValidatedReply{load_le32(b.data()), load_le64(b.data() + 8)};
}

Result<uint32_t> FilecopyValidator::reply_last_namelen(UntrustedBytes untrusted_bytes) {
    auto const& b = untrusted_bytes.open(key());
    if (b.size() != result_header_ext_size)
        return bad(Errc::Protocol, EINVAL, "result_header_ext is not 4 bytes");
    uint32_t n = load_le32(b.data());
    if (n > max_last_namelen)
        return bad(Errc::Limit, ENAMETOOLONG, "last name longer than 16384 bytes");
    return n;
}

std::string FilecopyValidator::reply_last_name(UntrustedBytes untrusted_bytes) {
    auto chars = as_chars(untrusted_bytes.open(key()));
    std::string out(chars.substr(0, max_last_namelen));
    for (char& c : out)
        if (c < ' ' || c > '~' || c == '"')
            c = '_';
    return out;
}

} // namespace bulkhead::rpc::filecopy
