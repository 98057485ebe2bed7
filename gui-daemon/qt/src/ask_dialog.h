// AskDialog: the policy "ask" window: source, service, a combo box of the offered targets
// (label colour squares, the default preselected), Allow and Deny. Deny, closing it or the
// timeout rejects. Used by bulkhead-ask-dialog and driven directly by its test.
#pragma once

#include <bulkhead/gui/ask_model.h>

#include <QDialog>

#include <chrono>
#include <optional>
#include <string>

class QComboBox;
class QLabel;
class QPushButton;
class QTimer;

namespace bulkhead::gui {

class AskDialog final : public QDialog {
public:
    AskDialog(AskModel model, std::chrono::milliseconds timeout, QWidget* parent = nullptr);

    // Set when Allow was pressed with a target selected (then the dialog is accepted).
    std::optional<std::string> const& answer() const { return m_answer; }

    QComboBox* targets() const { return m_targets; }
    QPushButton* allow_button() const { return m_allow; }
    QPushButton* deny_button() const { return m_deny; }

private:
    void update_countdown();

    AskModel m_model;
    std::optional<std::string> m_answer;
    QComboBox* m_targets = nullptr;
    QPushButton* m_allow = nullptr;
    QPushButton* m_deny = nullptr;
    QLabel* m_countdown = nullptr;
    QTimer* m_tick = nullptr;
    std::chrono::steady_clock::time_point m_deadline;
};

// A square of the label's colour, for the combo box entries.
QIcon label_icon(uint32_t color);

} // namespace bulkhead::gui
