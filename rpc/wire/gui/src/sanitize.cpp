#include <bulkhead/rpc/gui/sanitize.h>

#include <algorithm>

namespace bulkhead::rpc::gui {

namespace {

constexpr uint32_t replacement = 0xfffd;

// Decodes one strict UTF-8 sequence at s[i]; returns its length, 0 when invalid.
size_t decode_one(std::string_view s, size_t i, uint32_t& cp) {
    auto b = [&](size_t k) { return uint8_t(s[i + k]); };
    uint8_t c = b(0);
    size_t n;
    uint32_t min;
    if (c < 0x80) {
        cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, min = 0x80, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, min = 0x800, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size())
        return 0;
    for (size_t k = 1; k < n; ++k) {
        if ((b(k) & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (b(k) & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xc0 | cp >> 6);
        out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += char(0xe0 | cp >> 12);
        out += char(0x80 | (cp >> 6 & 0x3f));
        out += char(0x80 | (cp & 0x3f));
    } else {
        out += char(0xf0 | cp >> 18);
        out += char(0x80 | (cp >> 12 & 0x3f));
        out += char(0x80 | (cp >> 6 & 0x3f));
        out += char(0x80 | (cp & 0x3f));
    }
}

size_t utf8_len(uint32_t cp) {
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

} // namespace

bool is_removed_code_point(uint32_t cp) {
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

std::string sanitize_text(std::string_view untrusted, size_t max_bytes) {
    std::string out;
    out.reserve(std::min(untrusted.size(), max_bytes));
    for (size_t i = 0; i < untrusted.size();) {
        uint32_t cp = 0;
        size_t n = decode_one(untrusted, i, cp);
        if (n == 0) {
            cp = replacement;
            n = 1;
        }
        i += n;
        if (is_removed_code_point(cp))
            continue;
        if (out.size() + utf8_len(cp) > max_bytes)
            break;
        append_utf8(out, cp);
    }
    return out;
}

} // namespace bulkhead::rpc::gui
