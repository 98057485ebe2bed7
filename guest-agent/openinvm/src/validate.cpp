#include <bulkhead/openinvm/validate.h>

#include <bulkhead/base/text.h>

#include <array>
#include <string_view>

namespace bulkhead::openinvm {

namespace {

bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

bool is_ascii_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Shell and glob metacharacters that some openers mishandle (Qubes' vm-file-editor list).
bool is_awkward(char c) {
    static constexpr std::string_view awkward = " !?\"#$%^&*()[]<>;`~|";
    return awkward.find(c) != std::string_view::npos;
}

std::string fallback_for(std::string_view raw) {
    std::string name = kFallbackName;
    auto dot = raw.rfind('.');
    if (dot == std::string_view::npos)
        return name;
    auto ext = raw.substr(dot + 1);
    if (ext.empty() || ext.size() > 16)
        return name;
    for (char c : ext)
        if (!is_ascii_alnum(c))
            return name;
    return name + "." + std::string(ext);
}

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

} // namespace

ValidatedName FileNameValidator::validate(Untrusted<std::string> const& untrusted_field) {
    std::string_view raw = untrusted_field.open(key());
    if (auto nul = raw.find('\0'); nul != std::string_view::npos)
        raw = raw.substr(0, nul);
    bool view_only = raw.starts_with(kViewOnlyPrefix);
    if (view_only)
        raw.remove_prefix(std::string_view(kViewOnlyPrefix).size());
    bool usable = !raw.empty() && raw.size() <= kMaxNameBytes && raw != "." && raw != ".." &&
                  raw.find('/') == std::string_view::npos && text::is_valid_utf8(raw);
    for (char c : raw)
        usable = usable && !is_control(static_cast<unsigned char>(c));
    if (!usable)
        return {fallback_for(raw), true, view_only};
    std::string name(raw);
    for (auto& c : name)
        if (is_awkward(c))
            c = '_';
    return {std::move(name), false, view_only};
}

Result<std::string> UrlValidator::validate(Untrusted<std::string> const& untrusted_url) {
    std::string_view url = untrusted_url.open(key());
    if (!url.empty() && url.back() == '\n')
        url.remove_suffix(1);
    if (url.empty())
        return unexpected(Errc::Invalid, "empty URL");
    if (url.size() > kMaxUrlBytes)
        return unexpected(Errc::Limit, "URL longer than " + std::to_string(kMaxUrlBytes));
    for (char c : url)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            return unexpected(Errc::Invalid, "URL has a control or space byte");
    if (!text::is_valid_utf8(url))
        return unexpected(Errc::Invalid, "URL is not valid UTF-8");
    auto sep = url.find("://");
    if (sep == std::string_view::npos)
        return unexpected(Errc::Invalid, "URL without scheme://");
    static constexpr std::array<std::string_view, 3> allowed = {"http", "https", "ftp"};
    auto scheme = lower_ascii(url.substr(0, sep));
    bool ok = false;
    for (auto a : allowed)
        ok = ok || scheme == a;
    if (!ok)
        return unexpected(Errc::Denied, "URL scheme not allowed (http, https, ftp)");
    if (url.size() == sep + 3)
        return unexpected(Errc::Invalid, "URL without host");
    return std::string(url);
}

bool looks_like_url(std::string const& arg) {
    auto sep = arg.find("://");
    if (sep == std::string::npos || sep == 0)
        return false;
    for (size_t i = 0; i < sep; ++i) {
        char c = arg[i];
        if (!(is_ascii_alnum(c) || c == '+' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

} // namespace bulkhead::openinvm
