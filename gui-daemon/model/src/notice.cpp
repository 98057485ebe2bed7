#include <bulkhead/base/text.h>
#include <bulkhead/gui/model/notice.h>

#include <array>
#include <utility>

namespace bulkhead::gui::model {
namespace {

constexpr std::array<std::pair<NotifyKind, std::string_view>, 5> kKinds{{
    {NotifyKind::ClipboardCopied, "copied"},
    {NotifyKind::ClipboardPasted, "pasted"},
    {NotifyKind::ClipboardDenied, "denied"},
    {NotifyKind::ClipboardTooLarge, "too-large"},
    {NotifyKind::DomainCutOff, "cut-off"},
}};

// 64000 → "64,000"
std::string grouped(size_t n) {
    auto digits = std::to_string(n);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

std::string bytes_text(size_t n) {
    return grouped(n) + (n == 1 ? " byte" : " bytes");
}

} // namespace

std::string notice_text(Notify const& n) {
    switch (n.kind) {
    case NotifyKind::ClipboardCopied:
        return "Copied " + bytes_text(n.bytes) + " from " + n.source + " to the global clipboard";
    case NotifyKind::ClipboardPasted:
        return "Pasted " + bytes_text(n.bytes) + " from " + n.source + " into " + n.target +
               "; the global clipboard is now empty";
    case NotifyKind::ClipboardDenied:
        return "Policy denied pasting " + n.source + "'s clipboard into " + n.target;
    case NotifyKind::ClipboardTooLarge:
        return n.source + "'s clipboard (" + bytes_text(n.bytes) +
               ") is over the size limit; nothing was copied";
    case NotifyKind::DomainCutOff:
        return n.source + " broke the GUI protocol's rules; its windows were closed";
    }
    return {};
}

std::string format_notice_record(Notify const& n, uint64_t seq) {
    std::string_view kind = "copied";
    for (auto const& [k, name] : kKinds)
        if (k == n.kind)
            kind = name;
    return std::string(kind) + " " + n.source + " " + (n.target.empty() ? "-" : n.target) + " " +
           std::to_string(n.bytes) + " " + std::to_string(seq) + "\n";
}

std::optional<Notify> parse_notice_record(std::string_view line) {
    while (!line.empty() && line.back() == '\n')
        line.remove_suffix(1);
    auto fields = text::split(line, ' ');
    if (fields.size() != 5 || !text::parse_u64(fields[4]))
        return std::nullopt;
    Notify n{};
    bool known = false;
    for (auto const& [k, name] : kKinds)
        if (fields[0] == name) {
            n.kind = k;
            known = true;
        }
    if (!known || !text::is_domain_name(fields[1]))
        return std::nullopt;
    n.source = std::string(fields[1]);
    if (fields[2] != "-") {
        if (!text::is_domain_name(fields[2]))
            return std::nullopt;
        n.target = std::string(fields[2]);
    }
    auto bytes = text::parse_u64(fields[3]);
    if (!bytes)
        return std::nullopt;
    n.bytes = size_t(*bytes);
    return n;
}

} // namespace bulkhead::gui::model
