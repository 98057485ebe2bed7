// bulkhead-domains: which rows it shows (domain_list), the DomainTray widget on Qt's
// offscreen platform (label colour squares, start/stop and clipboard notices), and the real
// program reading a real admin API server (tests/dom0/api's fixture: ApiServer over a Store).
#include "domain_tray.h"

#include "../../dom0/api/api_fixture.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/gui/domain_list.h>
#include <bulkhead/gui/model/notice.h>

#include <QApplication>
#include <QElapsedTimer>
#include <QTableWidget>
#include <QTest>

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace bulkhead;
using namespace std::chrono_literals;
using bulkhead::gui::DomainRow;
using bulkhead::gui::DomainTray;

namespace {

QApplication& app() {
    static int argc = 1;
    static char name[] = "test_gui_domain_tray";
    static char* argv[] = {name, nullptr};
    static QApplication* a = [] {
        ::setenv("QT_QPA_PLATFORM", "offscreen", 1);
        return new QApplication(argc, argv);
    }();
    return *a;
}

void add(admin::Ok& ok, std::string name, std::string state, std::string label,
         std::string klass = "AppVM") {
    auto* d = ok.add_domains();
    d->set_name(std::move(name));
    d->set_state(std::move(state));
    d->set_label(std::move(label));
    d->set_klass(std::move(klass));
}

QRgb swatch(QTableWidget const& t, int row) {
    return t.item(row, 0)->icon().pixmap(16, 16).toImage().pixel(8, 8);
}

template <typename Pred>
bool wait_until(Pred p, int ms = 5000) {
    QElapsedTimer t;
    t.start();
    while (!p() && t.elapsed() < ms)
        QTest::qWait(20);
    return p();
}

} // namespace

TEST_CASE("domain list: running domains only, dom0 first, label colours", "[gui]") {
    admin::Ok ok;
    add(ok, "work", "Running", "blue");
    add(ok, "vault", "Halted", "black");
    add(ok, "dom0", "Running", "black", "AdminVM");
    add(ok, "untrusted", "Paused", "red");
    add(ok, "odd", "Running", "chartreuse"); // the store would refuse it; shown as untrusted
    auto rows = gui::domain_rows(ok);
    REQUIRE(rows.size() == 4);
    CHECK(rows[0] == DomainRow{"dom0", "AdminVM", "Running", "black", 0x000000});
    CHECK(rows[1].name == "odd");
    CHECK(rows[1].rgb == 0xcc0000);
    CHECK(rows[2] == DomainRow{"untrusted", "AppVM", "Paused", "red", 0xcc0000});
    CHECK(rows[3] == DomainRow{"work", "AppVM", "Running", "blue", 0x3465a4});

    auto changes = gui::row_changes(
        rows, {rows[0], rows[3], {"personal", "AppVM", "Running", "yellow", 0xedd400}});
    CHECK(changes.started == std::vector<std::string>{"personal"});
    CHECK(changes.stopped == std::vector<std::string>{"odd", "untrusted"});
}

TEST_CASE("domain tray: colour squares, start/stop notices, clipboard notices", "[gui]") {
    app();
    auto dir = sys::make_temp_dir("/tmp/bh-tray-").value();
    auto notice = dir + "/clipboard-notice";
    std::vector<DomainRow> now = {{"dom0", "AdminVM", "Running", "black", 0},
                                  {"work", "AppVM", "Running", "blue", 0x3465a4}};
    bool fail = false;
    DomainTray tray(
        [&]() -> Result<std::vector<DomainRow>> {
            if (fail)
                return unexpected(Errc::Closed, "connection refused");
            return now;
        },
        notice, 50ms);
    tray.show();
    auto* t = tray.table();
    REQUIRE(t->rowCount() == 2);
    CHECK(t->item(1, 0)->text() == "work");
    CHECK(t->item(1, 1)->text() == "Running");
    CHECK(swatch(*t, 0) == qRgb(0, 0, 0));
    CHECK(swatch(*t, 1) == qRgb(0x34, 0x65, 0xa4));
    CHECK(tray.last_message().isEmpty()); // what runs at start is not news

    now.push_back({"personal", "AppVM", "Running", "yellow", 0xedd400});
    REQUIRE(wait_until([&] { return t->rowCount() == 3; }));
    CHECK(swatch(*t, 2) == qRgb(0xed, 0xd4, 0x00));
    CHECK(tray.last_message() == "personal is running");
    now.erase(now.begin() + 1);
    REQUIRE(wait_until([&] { return t->rowCount() == 2; }));
    CHECK(tray.last_message() == "work has stopped");

    // The GUI daemon replaces the notice file on each clipboard event.
    auto write = [&](gui::model::Notify const& n, uint64_t seq) {
        REQUIRE(sys::write_file_atomic(notice, gui::model::format_notice_record(n, seq)));
    };
    write({gui::model::NotifyKind::ClipboardCopied, "work", "", 1234}, 1);
    REQUIRE(wait_until([&] {
        return tray.last_message() == "Copied 1,234 bytes from work to the global clipboard";
    }));
    write({gui::model::NotifyKind::ClipboardPasted, "work", "personal", 1234}, 2);
    REQUIRE(wait_until([&] { return tray.last_message().startsWith("Pasted 1,234 bytes"); }));
    write({gui::model::NotifyKind::ClipboardDenied, "work", "vault", 0}, 3);
    REQUIRE(wait_until([&] { return tray.last_message().startsWith("Policy denied"); }));
    // A malformed record is not shown.
    REQUIRE(sys::write_file_atomic(notice, "copied ../../etc - 1 4\n"));
    QTest::qWait(300);
    CHECK(tray.last_message().startsWith("Policy denied"));

    fail = true; // bulkheadd gone: the list stays, the status says so
    QTest::qWait(200);
    CHECK(t->rowCount() == 2);
    (void)sys::remove_tree(dir);
}

TEST_CASE("bulkhead-domains --list reads a real admin API server", "[gui]") {
    auto build = sys::getenv("BULKHEAD_BUILD_DIR");
    REQUIRE(build); // set by CTest
    dom0::test::ApiFixture f;
    f.make("fedora", dom0::Klass::TemplateVM);
    f.make("work", dom0::Klass::AppVM, {{"template", "fedora"}});
    REQUIRE(f.store->set_property("work", "label", "blue"));
    f.make("vault", dom0::Klass::AppVM, {{"template", "fedora"}});
    f.life.set_state("work", "Running");
    auto r = sys::run({*build + "/bin/bulkhead-domains", "--socket", f.socket, "--list"});
    REQUIRE(r.has_value());
    INFO(r->err);
    CHECK(r->status.code == 0);
    CHECK(r->out.find("work Running AppVM blue #3465a4\n") != std::string::npos);
    CHECK(r->out.find("vault") == std::string::npos); // halted
    auto gone =
        sys::run({*build + "/bin/bulkhead-domains", "--socket", f.root + "/nope", "--list"});
    REQUIRE(gone.has_value());
    CHECK(gone->status.code == 1);
}
