// The qvm-* tools against a live in-test admin API: output formats and effects.
#include "cli_fixture.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>

using namespace bulkhead;
using namespace bulkhead::dom0;
using namespace bulkhead::dom0::test;

TEST_CASE("qvm-ls: the default table, as Qubes prints it") {
    CliFixture f;
    f.basic();
    auto r = f.run("qvm-ls", {});
    INFO(r.err);
    CHECK(r.status.code == 0);
    CHECK(r.out == "NAME     STATE    CLASS         LABEL  TEMPLATE  NETVM\n"
                   "dom0     Running  AdminVM       black  -         -\n"
                   "dvm      Halted   AppVM         red    fedora    -\n"
                   "fedora   Halted   TemplateVM    red    -         -\n"
                   "sys-net  Halted   StandaloneVM  red    -         -\n"
                   "work     Halted   AppVM         red    fedora    sys-net\n");
    CHECK(r.err.empty());
}

TEST_CASE("qvm-ls: raw list, raw data, fields, filters") {
    CliFixture f;
    f.basic();
    f.life.set_state("work", "Running");
    f.life.set_state("dvm", "Paused");
    auto r = f.run("qvm-ls", {"--raw-list"});
    CHECK(r.out == "dom0\ndvm\nfedora\nsys-net\nwork\n");
    r = f.run("qvm-ls", {"--raw-data", "--fields", "name,state,memory,NETVM"});
    CHECK(r.status.code == 0);
    CHECK(r.out == "dom0|Running|-|-\ndvm|Paused|400|-\nfedora|Halted|400|-\n"
                   "sys-net|Halted|400|-\nwork|Running|400|sys-net\n");
    r = f.run("qvm-ls", {"--running", "--raw-list"});
    CHECK(r.out == "dom0\nwork\n");
    r = f.run("qvm-ls", {"--halted", "--paused", "--raw-list"});
    CHECK(r.out == "dvm\nfedora\nsys-net\n");
    r = f.run("qvm-ls", {"--raw-list", "--class", "AppVM"});
    CHECK(r.out == "dvm\nwork\n");
    r = f.run("qvm-ls", {"--raw-list", "--all", "--exclude", "dom0", "--exclude=work"});
    CHECK(r.out == "dvm\nfedora\nsys-net\n");
    r = f.run("qvm-ls", {"-O", "name,class", "work", "fedora"});
    CHECK(r.out == "NAME    CLASS\nfedora  TemplateVM\nwork    AppVM\n"); // sorted by NAME
    need(f.store->add_tag("work", "blue-team"), "tag");
    r = f.run("qvm-ls", {"--raw-data", "--fields=name,tags,qid", "--tags", "blue-team"});
    CHECK(r.out == "work|blue-team|" + std::to_string(f.store->get("work")->qid) + "\n");
    r = f.run("qvm-ls", {"--raw-data", "-O", "name,class", "--sort", "CLASS", "--reverse"});
    CHECK(r.out == "fedora|TemplateVM\nsys-net|StandaloneVM\ndvm|AppVM\nwork|AppVM\n"
                   "dom0|AdminVM\n");
    r = f.run("qvm-ls", {"--raw-list", "--reverse"});
    CHECK(r.out == "work\nsys-net\nfedora\ndvm\ndom0\n");
    r = f.run("qvm-ls", {"--sort", "memory"});
    CHECK(r.status.code == 2);
    r = f.run("qvm-ls", {"--help-columns"});
    CHECK(r.status.code == 0);
    CHECK(r.out.find("NETVM\n") != std::string::npos);
}

TEST_CASE("qvm-create, qvm-clone and qvm-remove") {
    CliFixture f;
    f.basic();
    auto r = f.run("qvm-create", {"-t", "fedora", "-l", "blue", "--prop", "memory=800", "mail"});
    INFO(r.err);
    CHECK(r.status.code == 0);
    CHECK(f.prop("mail", "label") == "blue");
    CHECK(f.prop("mail", "memory") == "800");
    CHECK(f.prop("mail", "template") == "fedora");
    r = f.run("qvm-create", {"--class", "StandaloneVM", "--label=green", "-P", "vcpus=4",
                             "--property", "provides_network=True", "net2"});
    CHECK(r.status.code == 0);
    CHECK(f.store->get("net2")->klass == Klass::StandaloneVM);
    CHECK(f.prop("net2", "vcpus") == "4");
    r = f.run("qvm-create", {"-C", "TemplateVM", "--prop", "label=black", "tpl"});
    CHECK(r.status.code == 0);
    CHECK(f.prop("tpl", "label") == "black");

    r = f.run("qvm-clone", {"mail", "mail2"});
    CHECK(r.status.code == 0);
    CHECK(f.prop("mail2", "memory") == "800");

    r = f.run("qvm-remove", {"mail2"}, "n\n");
    CHECK(r.status.code == 1);
    CHECK(r.out.find("mail2") != std::string::npos);
    CHECK(f.store->get("mail2"));
    r = f.run("qvm-remove", {"mail2"}, "y\n");
    CHECK(r.status.code == 0);
    CHECK(!f.store->get("mail2"));
    r = f.run("qvm-remove", {"-f", "mail", "net2"});
    CHECK(r.status.code == 0);
    CHECK(!f.store->get("mail"));
    CHECK(!f.store->get("net2"));
    CHECK(f.life.calls() == std::vector<std::string>{"before_remove mail2", "before_remove mail",
                                                     "before_remove net2"});
}

TEST_CASE("qvm-prefs: list, get, set, reset") {
    CliFixture f;
    f.basic();
    need(f.store->set_property("work", "memory", "1000"), "set");
    auto r = f.run("qvm-prefs", {"work"});
    CHECK(r.status.code == 0);
    auto l = f.lines(r.out);
    REQUIRE(l.size() == property_names(Klass::AppVM).size());
    // name padded to the longest property name, then D (default) or - (set), then the value.
    auto row = [](std::string name, std::string mark, std::string value) {
        name.resize(std::string("template_for_dispvms").size(), ' ');
        return name + "  " + mark + "  " + value;
    };
    CHECK(l[0] == row("name", "D", "work"));
    CHECK(std::find(l.begin(), l.end(), row("memory", "-", "1000")) != l.end());
    CHECK(std::find(l.begin(), l.end(), row("maxmem", "D", "4000")) != l.end());
    CHECK(std::find(l.begin(), l.end(), row("template", "-", "fedora")) != l.end());
    CHECK(std::find(l.begin(), l.end(), row("label", "-", "red")) != l.end());
    r = f.run("qvm-prefs", {"--hide-default", "work"});
    for (auto const& line : f.lines(r.out))
        CHECK(line.find("  D  ") == std::string::npos);

    r = f.run("qvm-prefs", {"work", "memory"});
    CHECK(r.out == "1000\n");
    r = f.run("qvm-prefs", {"work", "netvm", ""});
    CHECK(r.status.code == 0);
    CHECK(f.prop("work", "netvm") == "");
    r = f.run("qvm-prefs", {"work", "netvm"});
    CHECK(r.out == "\n");
    r = f.run("qvm-prefs", {"work", "autostart", "on"});
    CHECK(f.prop("work", "autostart") == "True");
    r = f.run("qvm-prefs", {"-D", "work", "memory"});
    CHECK(r.status.code == 0);
    CHECK(f.prop("work", "memory") == "400");
    r = f.run("qvm-prefs", {"--default", "work", "netvm"});
    CHECK(f.prop("work", "netvm") == "");
    r = f.run("qvm-prefs", {"-s", "work", "vcpus", "3"});
    CHECK(f.prop("work", "vcpus") == "3");
    r = f.run("qvm-prefs", {"--help-properties"});
    CHECK(r.out.find("netvm\n") != std::string::npos);
}

TEST_CASE("power tools call the Lifecycle") {
    CliFixture f;
    f.basic();
    CHECK(f.run("qvm-start", {"work", "sys-net"}).status.code == 0);
    CHECK(f.run("qvm-start", {"--skip-if-running", "work"}).status.code == 0);
    CHECK(f.run("qvm-pause", {"work"}).status.code == 0);
    CHECK(f.run("qvm-unpause", {"work"}).status.code == 0);
    CHECK(f.run("qvm-shutdown", {"--wait", "--timeout", "5", "work"}).status.code == 0);
    CHECK(f.run("qvm-kill", {"sys-net"}).status.code == 0);
    CHECK(f.life.calls() == std::vector<std::string>{"start work", "start sys-net", "pause work",
                                                     "unpause work", "shutdown work wait 5",
                                                     "kill sys-net"});
    f.life.clear_calls();
    f.life.set_state("work", "Running");
    f.life.set_state("fedora", "Running");
    f.life.set_state("dvm", "Running");
    auto r = f.run("qvm-shutdown", {"--all", "--exclude", "dvm"});
    CHECK(r.status.code == 0);
    auto calls = f.life.calls();
    std::sort(calls.begin(), calls.end());
    CHECK(calls ==
          std::vector<std::string>{"shutdown fedora nowait 60", "shutdown work nowait 60"});
    f.life.clear_calls();
    f.life.set_state("work", "Running");
    r = f.run("qvm-shutdown", {"--all", "--wait"});
    calls = f.life.calls();
    std::sort(calls.begin(), calls.end());
    CHECK(calls == std::vector<std::string>{"shutdown dvm wait 60", "shutdown work wait 60"});
}

TEST_CASE("qvm-tags and qvm-features") {
    CliFixture f;
    f.basic();
    CHECK(f.run("qvm-tags", {"work", "add", "b", "a"}).status.code == 0);
    CHECK(f.run("qvm-tags", {"work", "a", "a"}).status.code == 0); // already set: nothing to do
    CHECK(f.run("qvm-tags", {"work"}).out == "a\nb\n");
    CHECK(f.run("qvm-tags", {"work", "ls"}).out == "a\nb\n");
    CHECK(f.run("qvm-tags", {"work", "list", "a"}).status.code == 0);
    CHECK(f.run("qvm-tags", {"work", "list", "zzz"}).status.code == 1);
    CHECK(f.run("qvm-tags", {"work", "del", "a", "zzz"}).status.code == 0);
    CHECK(f.run("qvm-tags", {"work", "list"}).out == "b\n");
    CHECK(f.run("qvm-tags", {"work", "u", "b"}).status.code == 0);
    CHECK(f.run("qvm-tags", {"work"}).out.empty());

    CHECK(f.run("qvm-features", {"work", "gui", "1"}).status.code == 0);
    CHECK(f.run("qvm-features", {"work", "service.cups", ""}).status.code == 0);
    CHECK(f.run("qvm-features", {"work"}).out == "gui           1\nservice.cups  \n");
    auto r = f.run("qvm-features", {"work", "gui"});
    CHECK(r.status.code == 0);
    CHECK(r.out == "1\n");
    r = f.run("qvm-features", {"work", "nosuch"});
    CHECK(r.status.code == 1);
    CHECK(r.out.empty());
    CHECK(f.run("qvm-features", {"--unset", "work", "gui"}).status.code == 0);
    CHECK(f.run("qvm-features", {"-D", "work", "gui"}).status.code == 0); // already unset
    CHECK(f.store->list_features("work")->count("gui") == 0);
}

TEST_CASE("qvm-check exit status: 0 all match, 1 none or missing, 3 some") {
    CliFixture f;
    f.basic();
    f.life.set_state("work", "Running");
    auto r = f.run("qvm-check", {"work", "fedora"});
    CHECK(r.status.code == 0);
    CHECK(r.out == "work: exists\nfedora: exists\n");
    r = f.run("qvm-check", {"--running", "work"});
    CHECK(r.status.code == 0);
    CHECK(r.out == "work: running\n");
    CHECK(f.run("qvm-check", {"--running", "fedora"}).status.code == 1);
    r = f.run("qvm-check", {"--running", "work", "fedora"});
    CHECK(r.status.code == 3);
    CHECK(r.out == "work: running\nfedora: not running\n");
    r = f.run("qvm-check", {"-q", "--running", "work", "fedora"});
    CHECK(r.status.code == 3);
    CHECK(r.out.empty());
    CHECK(f.run("qvm-check", {"--template", "fedora"}).status.code == 0);
    CHECK(f.run("qvm-check", {"--template", "work"}).status.code == 1);
    CHECK(f.run("qvm-check", {"--networked", "work"}).status.code == 0);
    CHECK(f.run("qvm-check", {"--networked", "--running", "work"}).status.code == 0);
    CHECK(f.run("qvm-check", {"--paused", "--all"}).status.code == 1);
    f.life.set_state("dvm", "Paused");
    CHECK(f.run("qvm-check", {"--paused", "--all"}).status.code == 3);
    r = f.run("qvm-check", {"work", "nosuch"});
    CHECK(r.status.code == 1);
    CHECK(r.err.find("nosuch") != std::string::npos);
}

TEST_CASE("socket from BULKHEAD_ADMIN_SOCKET, BULKHEAD_ROOT; bulkhead-qvm TOOL") {
    CliFixture f;
    f.basic();
    ::setenv("BULKHEAD_ADMIN_SOCKET", f.socket.c_str(), 1);
    auto r = need(sys::run({bin_dir() + "/qvm-ls", "--raw-list"}), "run");
    CHECK(r.out == "dom0\ndvm\nfedora\nsys-net\nwork\n");
    ::unsetenv("BULKHEAD_ADMIN_SOCKET");
    ::setenv("BULKHEAD_ROOT", f.root.c_str(), 1);
    r = need(sys::run({bin_dir() + "/qvm-check", "-q", "work"}), "run");
    CHECK(r.status.code == 0);
    r = need(sys::run({bin_dir() + "/bulkhead-qvm", "qvm-ls", "--raw-list", "work"}), "run");
    CHECK(r.out == "work\n");
    ::unsetenv("BULKHEAD_ROOT");
}

TEST_CASE("bash completion: options, domain names, properties, tag commands") {
    CliFixture f;
    f.basic();
    auto script = std::string(BULKHEAD_CLI_COMPLETION);
    auto complete = [&](std::string line) {
        std::string cmd = "export PATH=" + bin_dir() + ":$PATH; source " + script +
                          "; COMP_WORDS=(" + line +
                          "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));"
                          " _bulkhead_qvm; printf '%s\\n' \"${COMPREPLY[@]}\"";
        ::setenv("BULKHEAD_ADMIN_SOCKET", f.socket.c_str(), 1);
        auto r = need(sys::run({"bash", "-c", cmd}), "bash");
        ::unsetenv("BULKHEAD_ADMIN_SOCKET");
        INFO(r.err);
        return r.out;
    };
    CHECK(complete("qvm-start w") == "work\n");
    CHECK(complete("qvm-ls --raw-") == "--raw-data\n--raw-list\n");
    CHECK(complete("qvm-prefs work netv") == "netvm\n");
    CHECK(complete("qvm-prefs work netvm sys") == "sys-net\n");
    CHECK(complete("qvm-tags work a") == "add\n");
    CHECK(complete("qvm-create -l gr") == "green\ngray\n");
    CHECK(complete("qvm-shutdown --exclude f") == "fedora\n");
    CHECK(complete("qvm-firewall work r") == "reset\n");
    CHECK(complete("qvm-firewall work add proto=t") == "proto=tcp\n");
    CHECK(complete("qvm-firewall --ra") == "--raw\n");
}

TEST_CASE("qvm-firewall: list, add, del, reset; netvm changes reach the Lifecycle") {
    CliFixture f;
    f.basic();
    // Qubes' default: one accept rule.
    auto r = f.run("qvm-firewall", {"work", "--raw"});
    CHECK(r.status.code == 0);
    CHECK(r.out == "action=accept\n");
    r = f.run("qvm-firewall", {"work", "add", "action=drop", "proto=tcp", "dstports=25",
                               "comment=no mail", "--before", "0"});
    INFO(r.err);
    CHECK(r.status.code == 0);
    CHECK(f.life.calls().back() == "firewall_changed work");
    r = f.run("qvm-firewall",
              {"work", "add", "dstports=443", "proto=tcp", "action=accept", "dsthost=10.1.2.3/8"});
    CHECK(r.status.code == 0);
    r = f.run("qvm-firewall", {"work", "list", "--raw"});
    CHECK(f.lines(r.out) ==
          std::vector<std::string>{"action=drop proto=tcp dstports=25 comment=no mail",
                                   "action=accept",
                                   "action=accept dsthost=10.0.0.0/8 proto=tcp dstports=443"});
    r = f.run("qvm-firewall", {"work"});
    auto table = f.lines(r.out);
    REQUIRE(table.size() == 4);
    CHECK(table[0] == "NO  ACTION  HOST        PROTOCOL  PORT(S)  SPECIAL TARGET  ICMP TYPE  "
                      "EXPIRE  COMMENT");
    CHECK(table[1] == "0   drop    -           tcp       25       -               -          "
                      "-       no mail");
    CHECK(table[3].rfind("2   accept  10.0.0.0/8  tcp       443", 0) == 0);
    // del by number and by rule; errors.
    CHECK(f.run("qvm-firewall", {"work", "del", "--rule-no", "1"}).status.code == 0);
    CHECK(f.run("qvm-firewall",
                {"work", "del", "action=drop", "proto=tcp", "dstports=25", "comment=no mail"})
              .status.code == 0);
    r = f.run("qvm-firewall", {"work", "--raw"});
    CHECK(r.out == "action=accept dsthost=10.0.0.0/8 proto=tcp dstports=443\n");
    r = f.run("qvm-firewall", {"work", "del", "action=drop"});
    CHECK(r.status.code == 1);
    CHECK(r.err.find("rule not found") != std::string::npos);
    r = f.run("qvm-firewall", {"work", "del", "--rule-no", "7"});
    CHECK(r.status.code == 1);
    r = f.run("qvm-firewall", {"work", "add", "action=accept", "dstports=80"});
    CHECK(r.status.code == 2);
    CHECK(r.err.find("dstports needs proto") != std::string::npos);
    r = f.run("qvm-firewall", {"work", "frob"});
    CHECK(r.status.code == 2);
    r = f.run("qvm-firewall", {"nosuch", "list"});
    CHECK(r.status.code == 1);
    CHECK(f.run("qvm-firewall", {"work", "reset"}).status.code == 0);
    CHECK(f.run("qvm-firewall", {"work", "--raw"}).out == "action=accept\n");
    // A netvm change (set or reset) is passed on for a live re-plug.
    f.life.clear_calls();
    CHECK(f.run("qvm-prefs", {"work", "netvm", ""}).status.code == 0);
    CHECK(f.run("qvm-prefs", {"-D", "work", "netvm"}).status.code == 0);
    CHECK(f.life.calls() ==
          std::vector<std::string>{"network_changed work", "network_changed work"});
    // A re-plug that fails: the error, and the old value back (and re-plugged).
    REQUIRE(f.prop("work", "netvm") == "");
    f.life.fail_network_once = true;
    f.life.clear_calls();
    r = f.run("qvm-prefs", {"work", "netvm", "sys-net"});
    CHECK(r.status.code == 1);
    CHECK(r.err.find("netvm would not start") != std::string::npos);
    CHECK(f.prop("work", "netvm") == "");
    CHECK(f.life.calls() ==
          std::vector<std::string>{"network_changed work", "network_changed work"});
}

TEST_CASE("qvm-shutdown: a netvm with running clients needs --force (or --all)") {
    CliFixture f;
    f.basic();
    f.life.set_state("sys-net", "Running");
    f.life.busy_netvm = "sys-net";
    auto r = f.run("qvm-shutdown", {"sys-net"});
    CHECK(r.status.code == 1);
    CHECK(r.err.find("There are other VMs connected to this VM: work") != std::string::npos);
    CHECK(f.life.power_state("sys-net") == "Running");
    CHECK(f.run("qvm-shutdown", {"--force", "sys-net"}).status.code == 0);
    CHECK(f.life.power_state("sys-net") == "Halted");
    f.life.set_state("sys-net", "Running");
    CHECK(f.run("qvm-shutdown", {"--all"}).status.code == 0);
    CHECK(f.life.power_state("sys-net") == "Halted");
}
