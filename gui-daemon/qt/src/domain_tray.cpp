#include "domain_tray.h"

#include "ask_dialog.h" // label_icon

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/gui/model/notice.h>

#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QSystemTrayIcon>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace bulkhead::gui {
namespace {

QString q(std::string const& s) {
    return QString::fromStdString(s);
}

} // namespace

DomainTray::DomainTray(Source source, std::string notice_path, std::chrono::milliseconds interval,
                       QWidget* parent)
    : QWidget(parent)
    , m_source(std::move(source))
    , m_notice_path(std::move(notice_path)) {
    setWindowTitle("Bulkhead domains");
    auto* layout = new QVBoxLayout(this);
    m_table = new QTableWidget(0, 3, this);
    m_table->setHorizontalHeaderLabels({"Domain", "State", "Class"});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->horizontalHeader()->setStretchLastSection(true);
    layout->addWidget(m_table);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    layout->addWidget(m_status);
    resize(420, 320);

    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(label_icon(0x3465a4), this);
        m_tray->setToolTip("Bulkhead domains");
        auto* menu = new QMenu(this);
        QObject::connect(menu->addAction("Show domains"), &QAction::triggered, this, [this] {
            show();
            raise();
        });
        m_tray->setContextMenu(menu);
        QObject::connect(m_tray, &QSystemTrayIcon::activated, this,
                         [this] { setVisible(!isVisible()); });
        m_tray->show();
    }

    if (!m_notice_path.empty()) {
        // The daemon replaces the file (rename), so watch its directory as well as the file.
        m_watcher = new QFileSystemWatcher(this);
        m_watcher->addPath(QFileInfo(q(m_notice_path)).absolutePath());
        if (QFileInfo::exists(q(m_notice_path)))
            m_watcher->addPath(q(m_notice_path));
        auto changed = [this] {
            if (QFileInfo::exists(q(m_notice_path)) &&
                !m_watcher->files().contains(q(m_notice_path)))
                m_watcher->addPath(q(m_notice_path));
            read_notice();
        };
        QObject::connect(m_watcher, &QFileSystemWatcher::directoryChanged, this, changed);
        QObject::connect(m_watcher, &QFileSystemWatcher::fileChanged, this, changed);
        // What is there at start is old news.
        if (auto old = sys::read_file(m_notice_path))
            m_last_notice = *old;
    }

    m_timer = new QTimer(this);
    QObject::connect(m_timer, &QTimer::timeout, this, [this] { refresh(); });
    m_timer->start(int(interval.count()));
    refresh();
}

void DomainTray::refresh() {
    auto rows = m_source();
    if (!rows) {
        m_status->setText("bulkheadd: " + q(rows.error().message()));
        return;
    }
    if (!m_first) {
        auto changes = row_changes(m_rows, *rows);
        for (auto const& n : changes.started)
            show_message("Domain started", q(n) + " is running");
        for (auto const& n : changes.stopped)
            show_message("Domain stopped", q(n) + " has stopped");
    }
    m_first = false;
    if (*rows == m_rows)
        return;
    m_rows = std::move(*rows);
    m_table->setRowCount(int(m_rows.size()));
    for (int i = 0; i < int(m_rows.size()); ++i) {
        auto const& r = m_rows[size_t(i)];
        auto* name = new QTableWidgetItem(label_icon(r.rgb), q(r.name));
        name->setToolTip(q(r.label));
        m_table->setItem(i, 0, name);
        m_table->setItem(i, 1, new QTableWidgetItem(q(r.state)));
        m_table->setItem(i, 2, new QTableWidgetItem(q(r.klass)));
    }
    if (m_tray)
        m_tray->setToolTip(QString("Bulkhead: %1 domains running").arg(m_rows.size()));
}

void DomainTray::read_notice() {
    auto content = sys::read_file(m_notice_path);
    if (!content || *content == m_last_notice)
        return;
    m_last_notice = *content;
    auto n = model::parse_notice_record(*content);
    if (!n)
        return; // a half-written or foreign file: the daemon writes whole records atomically
    show_message("Clipboard", q(model::notice_text(*n)));
}

void DomainTray::show_message(QString const& title, QString const& text) {
    m_last_message = text;
    m_status->setText(text);
    if (m_tray)
        m_tray->showMessage(title, text, QSystemTrayIcon::Information, 4000);
}

} // namespace bulkhead::gui
