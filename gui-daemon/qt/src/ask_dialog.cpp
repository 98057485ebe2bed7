#include "ask_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPixmap>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

namespace bulkhead::gui {

QIcon label_icon(uint32_t color) {
    QPixmap pm(16, 16);
    pm.fill(QColor::fromRgb(QRgb(0xff000000u | (color & 0xffffffu))));
    return QIcon(pm);
}

namespace {
QLabel* plain_label(QString const& text, QWidget* parent) {
    auto* l = new QLabel(parent);
    l->setTextFormat(Qt::PlainText); // names are never markup
    l->setText(text);
    return l;
}
} // namespace

AskDialog::AskDialog(AskModel model, std::chrono::milliseconds timeout, QWidget* parent)
    : QDialog(parent)
    , m_model(std::move(model))
    , m_deadline(std::chrono::steady_clock::now() + timeout) {
    setWindowTitle(QStringLiteral("Operation execution"));
    auto* layout = new QVBoxLayout(this);
    auto* prompt = plain_label(QString::fromStdString(m_model.prompt()), this);
    prompt->setWordWrap(true);
    layout->addWidget(prompt);

    auto* row = new QHBoxLayout();
    row->addWidget(plain_label(QStringLiteral("Target:"), this));
    m_targets = new QComboBox(this);
    for (auto const& e : m_model.entries())
        m_targets->addItem(label_icon(e.color), QString::fromStdString(e.name),
                           QString::fromStdString(e.label));
    m_targets->setPlaceholderText(QStringLiteral("Select a target"));
    m_targets->setCurrentIndex(m_model.default_index());
    row->addWidget(m_targets, 1);
    layout->addLayout(row);

    m_countdown = plain_label(QString(), this);
    layout->addWidget(m_countdown);

    auto* buttons = new QDialogButtonBox(this);
    m_allow = buttons->addButton(QStringLiteral("Allow"), QDialogButtonBox::AcceptRole);
    m_deny = buttons->addButton(QStringLiteral("Deny"), QDialogButtonBox::RejectRole);
    m_deny->setDefault(true); // Enter alone never allows
    m_allow->setAutoDefault(false);
    layout->addWidget(buttons);

    auto refresh = [this] { m_allow->setEnabled(m_model.can_allow(m_targets->currentIndex())); };
    connect(m_targets, &QComboBox::currentIndexChanged, this, refresh);
    refresh();
    connect(m_allow, &QPushButton::clicked, this, [this] {
        m_answer = m_model.answer(m_targets->currentIndex());
        if (m_answer)
            accept();
    });
    connect(m_deny, &QPushButton::clicked, this, [this] {
        m_answer.reset();
        reject();
    });

    auto* expire = new QTimer(this);
    expire->setSingleShot(true);
    connect(expire, &QTimer::timeout, this, [this] {
        m_answer.reset();
        reject();
    });
    expire->start(int(std::max<int64_t>(timeout.count(), 0)));
    m_tick = new QTimer(this);
    connect(m_tick, &QTimer::timeout, this, [this] { update_countdown(); });
    m_tick->start(1000);
    update_countdown();
}

void AskDialog::update_countdown() {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(m_deadline -
                                                                 std::chrono::steady_clock::now());
    m_countdown->setText(
        QStringLiteral("Denied automatically in %1 s").arg(std::max<int64_t>(left.count(), 0)));
}

} // namespace bulkhead::gui
