#include <bulkhead/gui/model/clipboard.h>

namespace bulkhead::gui::model {

PolicyCheck policy_check(policy::Policy const& p, policy::SystemInfo const& info) {
    return [&p, &info](policy::Request const& r) { return policy::evaluate(p, r, info); };
}

SecureClipboard::SecureClipboard(PolicyCheck check, size_t max_bytes)
    : m_check(std::move(check))
    , m_max_bytes(max_bytes) {}

void SecureClipboard::request_copy(std::string const& domain) {
    // The user asked to replace the global clipboard: what it held is gone even if the copy
    // then fails, so a quick Ctrl+Shift+V cannot paste the previous (other domain's) content.
    m_pending = domain;
    m_source.reset();
    m_data.clear();
}

Result<Notify> SecureClipboard::receive(std::string const& domain, std::vector<std::byte> data) {
    if (m_pending != domain)
        return unexpected(Errc::Denied,
                          "clipboard data from " + domain + " without a copy request");
    m_pending.reset();
    if (data.size() > m_max_bytes) {
        m_source.reset();
        m_data.clear();
        return unexpected(Errc::Limit,
                          "clipboard of " + domain + " is " + std::to_string(data.size()) +
                              " bytes, over the cap of " + std::to_string(m_max_bytes));
    }
    m_source = domain;
    m_data = std::move(data);
    return Notify{NotifyKind::ClipboardCopied, domain, {}, m_data.size()};
}

Result<std::optional<SecureClipboard::Paste>> SecureClipboard::paste(std::string const& target) {
    if (!m_source || m_data.empty())
        return std::optional<Paste>{};
    policy::Request req;
    req.service = std::string(clipboard_paste_service);
    req.source = *m_source;
    req.target = target;
    auto decision = m_check(req);
    if (std::holds_alternative<policy::Deny>(decision))
        return unexpected(Errc::Denied,
                          "policy denies " + req.service + " from " + *m_source + " to " + target);
    // Allow, or Ask: the key combination pressed in the target's window is the confirmation.
    // An allow that redirects to another target is not a paste into this window: refuse.
    if (auto* a = std::get_if<policy::Allow>(&decision); a && a->target != target)
        return unexpected(Errc::Denied, "policy redirects " + req.service + " to " + a->target);
    Paste p{std::move(m_data), Notify{NotifyKind::ClipboardPasted, *m_source, target, 0}};
    p.notify.bytes = p.bytes.size();
    m_data.clear();
    m_source.reset();
    return std::optional<Paste>{std::move(p)};
}

void SecureClipboard::forget_pending(std::string const& domain) {
    if (m_pending == domain)
        m_pending.reset();
}

SecureClipboard::State SecureClipboard::state() const {
    if (m_pending)
        return State::CopyPending;
    return m_source ? State::Full : State::Empty;
}

std::optional<std::string> SecureClipboard::source() const {
    return m_source;
}

} // namespace bulkhead::gui::model
