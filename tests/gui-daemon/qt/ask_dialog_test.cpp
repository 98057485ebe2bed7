// AskDialog (gui-daemon/qt/src/ask_dialog.h) on Qt's offscreen platform, driven with QTest;
// and the real bulkhead-ask-dialog program run by ProcessAskAgent.
#include "ask_dialog.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/ask/process_ask_agent.h>

#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QPushButton>
#include <QTest>

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace bulkhead;
using namespace std::chrono_literals;
using bulkhead::gui::AskDialog;
using bulkhead::gui::AskModel;

namespace {

QApplication& app() {
    static int argc = 1;
    static char name[] = "test_gui_ask_dialog";
    static char* argv[] = {name, nullptr};
    static QApplication* a = [] {
        ::setenv("QT_QPA_PLATFORM", "offscreen", 1);
        return new QApplication(argc, argv);
    }();
    return *a;
}

dom0::AskQuestion question(std::optional<std::string> def) {
    dom0::AskQuestion q;
    q.source = "untrusted";
    q.service = "qubes.Echo";
    q.targets = {
        {"@dispvm:dvm", "red", 0xcc0000}, {"vault", "black", 0}, {"work", "blue", 0x3465a4}};
    q.default_target = std::move(def);
    return q;
}

QRgb icon_pixel(QComboBox const& c, int i) {
    return c.itemIcon(i).pixmap(16, 16).toImage().pixel(8, 8);
}

// Runs the dialog's event loop until it is closed (or 10 s pass).
void wait_closed(AskDialog& d) {
    QElapsedTimer t;
    t.start();
    while (d.isVisible() && t.elapsed() < 10000)
        QTest::qWait(10);
}

} // namespace

TEST_CASE("ask dialog: offered targets with label colours, default preselected, Allow", "[gui]") {
    app();
    AskDialog d(AskModel(question("vault")), 30s);
    d.show();
    auto* c = d.targets();
    REQUIRE(c->count() == 3);
    CHECK(c->itemText(0) == "@dispvm:dvm");
    CHECK(c->itemText(1) == "vault");
    CHECK(c->itemText(2) == "work");
    CHECK(icon_pixel(*c, 0) == qRgb(0xcc, 0x00, 0x00));
    CHECK(icon_pixel(*c, 1) == qRgb(0, 0, 0));
    CHECK(icon_pixel(*c, 2) == qRgb(0x34, 0x65, 0xa4));
    CHECK(c->currentIndex() == 1);
    CHECK(d.allow_button()->isEnabled());
    QTest::mouseClick(d.allow_button(), Qt::LeftButton);
    wait_closed(d);
    CHECK(d.result() == QDialog::Accepted);
    CHECK(d.answer() == std::optional<std::string>("vault"));
}

TEST_CASE("ask dialog: another choice; no default needs a choice; Deny", "[gui]") {
    app();
    {
        AskDialog d(AskModel(question("vault")), 30s);
        d.show();
        d.targets()->setCurrentIndex(2);
        QTest::mouseClick(d.allow_button(), Qt::LeftButton);
        wait_closed(d);
        CHECK(d.answer() == std::optional<std::string>("work"));
    }
    {
        AskDialog d(AskModel(question(std::nullopt)), 30s);
        d.show();
        CHECK(d.targets()->currentIndex() == -1);
        CHECK(!d.allow_button()->isEnabled());
        d.targets()->setCurrentIndex(0);
        CHECK(d.allow_button()->isEnabled());
        QTest::mouseClick(d.deny_button(), Qt::LeftButton);
        wait_closed(d);
        CHECK(d.result() == QDialog::Rejected);
        CHECK(!d.answer());
    }
    {
        AskDialog d(AskModel(question("work")), 30s);
        d.show();
        QTest::keyClick(&d, Qt::Key_Escape); // closing is deny
        wait_closed(d);
        CHECK(d.result() == QDialog::Rejected);
        CHECK(!d.answer());
    }
}

TEST_CASE("ask dialog: the timeout closes it as deny", "[gui]") {
    app();
    AskDialog d(AskModel(question("work")), 200ms);
    d.show();
    wait_closed(d);
    CHECK(!d.isVisible());
    CHECK(d.result() == QDialog::Rejected);
    CHECK(!d.answer());
}

TEST_CASE("bulkhead-ask-dialog program: run by the process agent, times out as deny", "[gui]") {
    auto build = sys::getenv("BULKHEAD_BUILD_DIR");
    REQUIRE(build); // set by CTest
    auto program = *build + "/bin/bulkhead-ask-dialog";
    ::setenv("QT_QPA_PLATFORM", "offscreen", 1); // the child inherits it
    dom0::ProcessAskAgent agent({program, "--timeout", "1"});
    auto start = std::chrono::steady_clock::now();
    auto r = agent.ask(question("work"), 10s);
    REQUIRE(r);
    CHECK(!*r);
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 900ms); // it was up, showing the question, until its own timeout
    CHECK(took < 8s);
    // A malformed question is refused before any window (exit 2).
    auto bad = sys::run({program}, "{\"source\":1}");
    REQUIRE(bad);
    CHECK(bad->status.code == 2);
}
