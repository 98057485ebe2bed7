// AskModel: what the policy "ask" dialog shows and answers, without any widget: the entries
// (exactly the offered targets, each with its label colour), which one is preselected, and
// the answer for a choice. Used by bulkhead-ask-dialog; the question comes from dom0.
#pragma once

#include <bulkhead/dom0/ask/ask_agent.h>

#include <optional>
#include <string>
#include <vector>

namespace bulkhead::gui {

class AskModel {
public:
    explicit AskModel(dom0::AskQuestion question);

    std::string const& source() const { return m_q.source; }
    // SERVICE or SERVICE+ARGUMENT.
    std::string service() const;
    // One line for the dialog: "<source> wants to call <service>. Where should it run?"
    std::string prompt() const;
    // The offered targets, in the policy's order.
    std::vector<dom0::AskTarget> const& entries() const { return m_q.targets; }
    // The default target's entry, or -1 (nothing preselected: Allow needs a choice).
    int default_index() const { return m_default; }
    // Allow is possible with this entry selected.
    bool can_allow(int index) const;
    // The answer for Allow with this entry selected; nullopt when it is no entry.
    std::optional<std::string> answer(int index) const;

private:
    dom0::AskQuestion m_q;
    int m_default = -1;
};

} // namespace bulkhead::gui
