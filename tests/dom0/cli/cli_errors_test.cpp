// The qvm-* tools' error paths: one "qvm-X: error: ..." line, exit 2 for usage errors and
// 1 for refusals, and nothing changed in the store.
#include "cli_fixture.h"

#include <catch2/catch.hpp>

using namespace bulkhead;
using namespace bulkhead::dom0;
using namespace bulkhead::dom0::test;

namespace {
std::vector<std::string> const kTools = {"qvm-check",  "qvm-clone",    "qvm-create", "qvm-features",
                                         "qvm-kill",   "qvm-ls",       "qvm-pause",  "qvm-prefs",
                                         "qvm-remove", "qvm-shutdown", "qvm-start",  "qvm-tags",
                                         "qvm-unpause"};

// The last stderr line must be "<tool>: error: ..." containing `what`.
void check_error(sys::RunOutput const& r, std::string const& tool, int code,
                 std::string const& what) {
    INFO(tool << " stdout: " << r.out << " stderr: " << r.err);
    CHECK(r.status.code == code);
    auto err = r.err;
    if (!err.empty() && err.back() == '\n')
        err.pop_back();
    auto last = err.substr(err.rfind('\n') == std::string::npos ? 0 : err.rfind('\n') + 1);
    CHECK(last.rfind(tool + ": error: ", 0) == 0);
    CHECK(last.find(what) != std::string::npos);
    if (code == 1)
        CHECK(err.find('\n') == std::string::npos); // one line
}
} // namespace

TEST_CASE("--help and -h work for every tool") {
    CliFixture f(32, false); // no server needed
    for (auto const& t : kTools) {
        for (auto const* h : {"--help", "-h"}) {
            auto r = f.run(t, {h});
            INFO(t << " " << h << ": " << r.err);
            CHECK(r.status.code == 0);
            CHECK(r.out.rfind("usage: " + t + " ", 0) == 0);
            CHECK(r.out.find("--quiet") != std::string::npos);
            CHECK(r.out.find("admin-socket") == std::string::npos); // hidden
        }
    }
    auto r = need(sys::run({bin_dir() + "/bulkhead-qvm", "--help"}), "run");
    CHECK(r.status.code == 0);
    CHECK(r.out.find("qvm-prefs") != std::string::npos);
    r = need(sys::run({bin_dir() + "/bulkhead-qvm", "nosuch"}), "run");
    CHECK(r.status.code == 2);
}

TEST_CASE("usage errors exit 2 with usage and error lines") {
    CliFixture f;
    f.basic();
    auto gen = f.store->generation();
    check_error(f.run("qvm-ls", {"--bogus"}), "qvm-ls", 2, "unrecognized arguments: --bogus");
    check_error(f.run("qvm-ls", {"--fields", "name,nosuch"}), "qvm-ls", 2, "unknown column");
    check_error(f.run("qvm-ls", {"--exclude", "work"}), "qvm-ls", 2, "--all");
    check_error(f.run("qvm-create", {"mail"}), "qvm-create", 2, "--label");
    check_error(f.run("qvm-create", {"-l", "red"}), "qvm-create", 2, "VMNAME");
    check_error(f.run("qvm-create", {"-l", "red", "-P", "memory", "mail"}), "qvm-create", 2,
                "NAME=VALUE");
    check_error(f.run("qvm-create", {"-l"}), "qvm-create", 2, "expected one argument");
    check_error(f.run("qvm-prefs", {}), "qvm-prefs", 2, "VMNAME");
    check_error(f.run("qvm-prefs", {"work", "memory", "1", "2"}), "qvm-prefs", 2, "unrecognized");
    check_error(f.run("qvm-prefs", {"-D", "work"}), "qvm-prefs", 2, "--default");
    check_error(f.run("qvm-prefs", {"-D", "work", "memory", "5"}), "qvm-prefs", 2, "--default");
    check_error(f.run("qvm-clone", {"work"}), "qvm-clone", 2, "NEWNAME");
    check_error(f.run("qvm-start", {}), "qvm-start", 2, "VMNAME");
    check_error(f.run("qvm-shutdown", {"--timeout", "soon", "work"}), "qvm-shutdown", 2,
                "--timeout");
    check_error(f.run("qvm-remove", {"--all", "work"}), "qvm-remove", 2, "mutually exclusive");
    check_error(f.run("qvm-tags", {"work", "frobnicate"}), "qvm-tags", 2, "invalid choice");
    check_error(f.run("qvm-tags", {"work", "add"}), "qvm-tags", 2, "TAG");
    check_error(f.run("qvm-features", {"--unset", "work"}), "qvm-features", 2, "FEATURE");
    check_error(f.run("qvm-check", {}), "qvm-check", 2, "VMNAME");
    CHECK(f.store->generation() == gen);
    CHECK(f.life.calls().empty());
}

TEST_CASE("qvm-prefs refusals: one error line, exit 1, nothing changed") {
    CliFixture f;
    f.basic();
    f.make("net-a", Klass::StandaloneVM, {{"provides_network", "True"}});
    f.make("net-b", Klass::StandaloneVM, {{"provides_network", "True"}, {"netvm", "net-a"}});
    f.make("tpl-b", Klass::TemplateVM, {{"template", "fedora"}});
    auto gen = f.store->generation();
    check_error(f.run("qvm-prefs", {"work", "netvm", "nosuch"}), "qvm-prefs", 1,
                "domain 'nosuch' does not exist");
    CHECK(f.prop("work", "netvm") == "sys-net");
    // Unknown domain or property: argparse errors in Qubes (exit 2).
    check_error(f.run("qvm-prefs", {"nosuch"}), "qvm-prefs", 2, "no such domain: 'nosuch'");
    check_error(f.run("qvm-prefs", {"nosuch", "memory"}), "qvm-prefs", 2, "no such domain");
    check_error(f.run("qvm-prefs", {"work", "nosuchprop"}), "qvm-prefs", 2,
                "no such property: 'nosuchprop'");
    check_error(f.run("qvm-prefs", {"work", "nosuchprop", "1"}), "qvm-prefs", 2,
                "no such property");
    check_error(f.run("qvm-prefs", {"-D", "work", "nosuchprop"}), "qvm-prefs", 2,
                "no such property");
    check_error(f.run("qvm-prefs", {"work", "memory", "lots"}), "qvm-prefs", 1,
                "invalid value 'lots'");
    check_error(f.run("qvm-prefs", {"work", "autostart", "perhaps"}), "qvm-prefs", 1,
                "expected True or False");
    check_error(f.run("qvm-prefs", {"work", "label", "pink"}), "qvm-prefs", 1, "invalid value");
    check_error(f.run("qvm-prefs", {"work", "netvm", "fedora"}), "qvm-prefs", 1,
                "does not provide network");
    check_error(f.run("qvm-prefs", {"work", "template", "dvm"}), "qvm-prefs", 1,
                "not a TemplateVM");
    check_error(f.run("qvm-prefs", {"work", "qid", "7"}), "qvm-prefs", 1, "read-only");
    check_error(f.run("qvm-prefs", {"net-a", "netvm", "net-b"}), "qvm-prefs", 1, "netvm loop");
    check_error(f.run("qvm-prefs", {"fedora", "template", "tpl-b"}), "qvm-prefs", 1,
                "template loop");
    f.life.set_state("work", "Running");
    check_error(f.run("qvm-prefs", {"work", "template", "fedora"}), "qvm-prefs", 1, "Running");
    CHECK(f.store->generation() == gen);
}

TEST_CASE("qvm-create and qvm-clone refusals: names, classes, existing domains") {
    CliFixture f;
    f.basic();
    auto gen = f.store->generation();
    for (std::string bad : {"1abc", "has space", "none", "default", "sys-x-dm", "dom0",
                            "a2345678901234567890123456789012", "-dash"}) {
        auto r = f.run("qvm-create", {"-l", "red", "-t", "fedora", "--", bad});
        check_error(r, "qvm-create", 1, "invalid domain name");
    }
    check_error(f.run("qvm-create", {"-l", "red", "work"}), "qvm-create", 1, "already exists");
    check_error(f.run("qvm-create", {"-l", "pink", "-t", "fedora", "x"}), "qvm-create", 1,
                "invalid value 'pink'");
    check_error(f.run("qvm-create", {"-l", "red", "-C", "Bogus", "x"}), "qvm-create", 1, "Bogus");
    check_error(f.run("qvm-create", {"-l", "red", "-t", "nosuch", "x"}), "qvm-create", 1,
                "'nosuch' does not exist");
    check_error(f.run("qvm-create", {"-l", "red", "-t", "fedora", "--prop", "nosuch=1", "x"}),
                "qvm-create", 1, "no such property");
    check_error(f.run("qvm-clone", {"work", "fedora"}), "qvm-clone", 1, "already exists");
    check_error(f.run("qvm-clone", {"nosuch", "x"}), "qvm-clone", 1, "does not exist");
    check_error(f.run("qvm-clone", {"work", "bad name"}), "qvm-clone", 1, "invalid domain name");
    CHECK(f.store->generation() == gen);
}

TEST_CASE("qvm-remove refusals: template in use, running domain, missing domain") {
    CliFixture f;
    f.basic();
    auto gen = f.store->generation();
    check_error(f.run("qvm-remove", {"-f", "fedora"}), "qvm-remove", 1, "in use");
    f.life.set_state("work", "Running");
    check_error(f.run("qvm-remove", {"--force", "work"}), "qvm-remove", 1, "Running");
    check_error(f.run("qvm-remove", {"-f", "nosuch"}), "qvm-remove", 1, "no such domain");
    check_error(f.run("qvm-remove", {"-f", "dom0"}), "qvm-remove", 1, "dom0");
    auto r = f.run("qvm-remove", {"dvm"}); // no answer on stdin: cancelled
    CHECK(r.status.code == 1);
    CHECK(f.store->generation() == gen);
    CHECK(f.life.calls().empty());
}

TEST_CASE("power, tags, features and ls refusals") {
    CliFixture f;
    f.basic();
    check_error(f.run("qvm-start", {"nosuch"}), "qvm-start", 1, "no such domain: 'nosuch'");
    f.life.set_state("work", "Running");
    check_error(f.run("qvm-start", {"work"}), "qvm-start", 1, "already running");
    check_error(f.run("qvm-unpause", {"work"}), "qvm-unpause", 1, "not paused");
    check_error(f.run("qvm-pause", {"fedora"}), "qvm-pause", 1, "not running");
    check_error(f.run("qvm-kill", {"fedora"}), "qvm-kill", 1, "not running");
    check_error(f.run("qvm-shutdown", {"fedora"}), "qvm-shutdown", 1, "not running");
    check_error(f.run("qvm-tags", {"nosuch"}), "qvm-tags", 1, "does not exist");
    check_error(f.run("qvm-tags", {"work", "add", "bad tag!"}), "qvm-tags", 1, "tag");
    check_error(f.run("qvm-features", {"nosuch"}), "qvm-features", 1, "does not exist");
    check_error(f.run("qvm-ls", {"nosuch"}), "qvm-ls", 1, "no such domain");
    CHECK(f.store->list_tags("work")->empty());
}

TEST_CASE("no daemon: exit 1 with one error line") {
    CliFixture f(32, false);
    check_error(f.run("qvm-ls", {}), "qvm-ls", 1, "cannot reach the admin API");
    check_error(f.run("qvm-prefs", {"work"}), "qvm-prefs", 1, "cannot reach the admin API");
}
