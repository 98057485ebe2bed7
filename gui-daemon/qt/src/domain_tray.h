// DomainTray: dom0's tray icon and domain list (bulkhead-domains). A table of the running
// domains, each with a square of its label colour; refreshed from a source (the admin API in
// the program, a function in tests) every `interval`; a tray notification when a domain
// starts or stops, and when the GUI daemon records a clipboard event (the notice file, see
// gui-daemon/model/notice.h). Without a system tray (a bare X server) the list window is all
// there is, and the notices show in its status line.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/gui/domain_list.h>

#include <QWidget>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

class QFileSystemWatcher;
class QLabel;
class QSystemTrayIcon;
class QTableWidget;
class QTimer;

namespace bulkhead::gui {

class DomainTray final : public QWidget {
public:
    using Source = std::function<Result<std::vector<DomainRow>>()>;

    // notice_path: the file the GUI daemon rewrites on every clipboard event ("" = none).
    DomainTray(Source source, std::string notice_path, std::chrono::milliseconds interval,
               QWidget* parent = nullptr);

    // One refresh now (the timer calls it too).
    void refresh();

    QTableWidget* table() const { return m_table; }
    // The last message shown (tray balloon or status line).
    QString last_message() const { return m_last_message; }
    std::vector<DomainRow> const& rows() const { return m_rows; }

private:
    void show_message(QString const& title, QString const& text);
    void read_notice();

    Source m_source;
    std::string m_notice_path;
    std::vector<DomainRow> m_rows;
    bool m_first = true;
    QTableWidget* m_table = nullptr;
    QLabel* m_status = nullptr;
    QTimer* m_timer = nullptr;
    QSystemTrayIcon* m_tray = nullptr;
    QFileSystemWatcher* m_watcher = nullptr;
    QString m_last_message;
    std::string m_last_notice;
};

} // namespace bulkhead::gui
