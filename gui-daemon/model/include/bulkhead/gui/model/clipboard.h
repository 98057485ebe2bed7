// SecureClipboard: dom0's one global clipboard between domains, as a state machine.
// Ctrl+Shift+C in a domain's window → request_copy(domain); the guest's answer (its clipboard)
// is accepted only from that domain while the request is pending, and stored with its source.
// Ctrl+Shift+V in a domain's window → paste(target): policy qubes.ClipboardPaste(source→target)
// decides (ask counts as allow: the key combination is the user's confirmation, as in Qubes);
// on a paste the global clipboard is cleared. Called by Desktop; trusts the domain names it is
// given (they come from the channel), and counts the guest's bytes only against the cap.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/gui/model/types.h>
#include <bulkhead/policy/evaluate.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bulkhead::gui::model {

inline constexpr std::string_view clipboard_paste_service = "qubes.ClipboardPaste";

using PolicyCheck = std::function<policy::Decision(policy::Request const&)>;

// A PolicyCheck over a loaded policy and system info (both must outlive the check).
PolicyCheck policy_check(policy::Policy const& policy, policy::SystemInfo const& info);

class SecureClipboard {
public:
    enum class State { Empty, CopyPending, Full };

    SecureClipboard(PolicyCheck check, size_t max_bytes = 64000);

    // Ctrl+Shift+C with `domain` focused: the daemon must send it a ClipboardRequest.
    // Clears the global clipboard; a later request (from any domain) replaces a pending one.
    void request_copy(std::string const& domain);
    // The guest's ClipboardData. Refused (Denied) unless a copy from this domain is pending;
    // over the cap: Limit, and the global clipboard is left empty (the user asked for this
    // domain's clipboard, never silently keep another's). On success: ClipboardCopied.
    Result<Notify> receive(std::string const& domain, std::vector<std::byte> data);
    // Ctrl+Shift+V with `target` focused. Empty clipboard: nullopt (nothing to do). Denied by
    // policy: Denied, clipboard kept. Allowed (or ask): the bytes to send, clipboard cleared.
    struct Paste {
        std::vector<std::byte> bytes;
        Notify notify;
    };
    Result<std::optional<Paste>> paste(std::string const& target);
    // A domain went away: a pending copy from it is dropped; data it copied stays until pasted
    // (as in Qubes, where the clipboard outlives its source).
    void forget_pending(std::string const& domain);

    State state() const;
    std::optional<std::string> source() const; // when Full
    size_t size() const { return m_data.size(); }
    size_t max_bytes() const { return m_max_bytes; }

private:
    PolicyCheck m_check;
    size_t m_max_bytes;
    std::optional<std::string> m_pending;
    std::optional<std::string> m_source;
    std::vector<std::byte> m_data;
};

} // namespace bulkhead::gui::model
