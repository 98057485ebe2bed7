#include <bulkhead/gui/model/title.h>

#include <array>

namespace bulkhead::gui::model {

namespace {

// UTF-8 spellings of brackets a reader could take for '[' and ']'.
constexpr std::array<std::string_view, 6> openers = {
    "[",
    "\xef\xbc\xbb", // U+FF3B fullwidth [
    "\xe2\x81\x85", // U+2045 [ with quill
    "\xe2\x9f\xa6", // U+27E6 white [
    "\xe3\x80\x90", // U+3010 black lenticular
    "\xe3\x80\x94", // U+3014 tortoise shell
};
constexpr std::array<std::string_view, 6> closers = {
    "]", "\xef\xbc\xbd", "\xe2\x81\x86", "\xe2\x9f\xa7", "\xe3\x80\x91", "\xe3\x80\x95",
};

size_t starts_with_any(std::string_view s, auto const& set) {
    for (auto b : set)
        if (s.starts_with(b))
            return b.size();
    return 0;
}

std::string_view trim_leading(std::string_view s) {
    while (true) {
        if (!s.empty() && s.front() == ' ')
            s.remove_prefix(1);
        else if (s.starts_with("\xc2\xa0")) // no-break space
            s.remove_prefix(2);
        else if (s.starts_with("\xe3\x80\x80")) // ideographic space
            s.remove_prefix(3);
        else if (s.starts_with("\xe2\x80\x8b")) // zero-width space
            s.remove_prefix(3);
        else
            return s;
    }
}

} // namespace

std::string strip_title_spoofing(std::string_view s) {
    s = trim_leading(s);
    while (size_t open = starts_with_any(s, openers)) {
        s.remove_prefix(open);
        // Drop through the first closing bracket; an unclosed group drops only its opener.
        for (size_t i = 0; i < s.size(); ++i) {
            if (size_t close = starts_with_any(s.substr(i), closers)) {
                s.remove_prefix(i + close);
                break;
            }
        }
        s = trim_leading(s);
    }
    return std::string(s);
}

std::string dom0_title(std::string_view domain, std::string_view guest_title) {
    std::string rest = strip_title_spoofing(guest_title);
    std::string out = "[" + std::string(domain) + "]";
    if (!rest.empty())
        out += " " + rest;
    return out;
}

} // namespace bulkhead::gui::model
