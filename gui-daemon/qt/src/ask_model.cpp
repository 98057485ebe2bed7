#include <bulkhead/gui/ask_model.h>

namespace bulkhead::gui {

AskModel::AskModel(dom0::AskQuestion question)
    : m_q(std::move(question)) {
    if (m_q.default_target)
        for (size_t i = 0; i < m_q.targets.size(); ++i)
            if (m_q.targets[i].name == *m_q.default_target) {
                m_default = int(i);
                break;
            }
}

std::string AskModel::service() const {
    return m_q.argument.empty() ? m_q.service : m_q.service + "+" + m_q.argument;
}

std::string AskModel::prompt() const {
    return m_q.source + " wants to call " + service() + ". Where should it run?";
}

bool AskModel::can_allow(int index) const {
    return index >= 0 && size_t(index) < m_q.targets.size();
}

std::optional<std::string> AskModel::answer(int index) const {
    if (!can_allow(index))
        return std::nullopt;
    return m_q.targets[size_t(index)].name;
}

} // namespace bulkhead::gui
