// The four static tools as processes: qvm-open-in-vm / qvm-open-in-dvm with a fake
// qrexec-client-vm (BULKHEAD_QREXEC_CLIENT_VM) that runs vm-file-editor or
// bulkhead-open-url directly, as the agent would.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace bulkhead;

namespace {

std::string bin(std::string const& tool) {
    return sys::getenv_or("BULKHEAD_BUILD_DIR", ".") + "/bin/" + tool;
}

struct Env {
    std::string dir = sys::make_temp_dir("/tmp/bh-oiv-tools-").value();
    ~Env() { (void)sys::remove_tree(dir); }

    // A fake qrexec-client-vm: records "TARGET SERVICE", runs the service; `cut` makes the
    // call break after 3 bytes of the service's output (exit 255, as a broken vchan).
    std::string client(bool cut = false) {
        auto path = dir + (cut ? "/client-cut" : "/client");
        std::string run = "case \"$2\" in qubes.OpenInVM) svc=" + bin("vm-file-editor") +
                          ";; qubes.OpenURL) svc=" + bin("bulkhead-open-url") +
                          ";; *) exit 127;; esac\n";
        std::string body = "#!/bin/sh\necho \"$1 $2\" >> " + dir + "/calls\n" + run;
        body += cut ? "$svc | head -c 3\nexit 255\n" : "exec $svc\n";
        REQUIRE(sys::write_file_atomic(path, body, 0755).has_value());
        return path;
    }

    sys::RunOutput run(std::vector<std::string> args, std::string const& open_cmd,
                       bool cut = false) {
        std::vector<std::string> argv = {"env", "BULKHEAD_QREXEC_CLIENT_VM=" + client(cut),
                                         "BULKHEAD_OPEN_CMD=" + open_cmd, "TMPDIR=" + dir};
        argv.insert(argv.end(), args.begin(), args.end());
        return sys::run(argv).value();
    }
};

} // namespace

TEST_CASE("qvm-open-in-vm FILE: the edit comes back through the processes") {
    Env e;
    auto file = e.dir + "/letter.txt";
    REQUIRE(sys::write_file_atomic(file, "Dear\n", 0600).has_value());
    auto viewer = e.dir + "/viewer";
    REQUIRE(sys::write_file_atomic(viewer, "#!/bin/sh\necho Sir >> \"$1\"\n", 0755).has_value());
    auto r = e.run({bin("qvm-open-in-vm"), "work", file}, viewer);
    INFO(r.err);
    CHECK(r.status.code == 0);
    CHECK(sys::read_file(file).value() == "Dear\nSir\n");
    CHECK(sys::read_file(e.dir + "/calls").value() == "work qubes.OpenInVM\n");
}

TEST_CASE("qvm-open-in-dvm FILE: target @dispvm; a cut call keeps the original") {
    Env e;
    auto file = e.dir + "/letter.txt";
    REQUIRE(sys::write_file_atomic(file, "Dear\n", 0600).has_value());
    auto before = sys::stat(file).value();
    auto viewer = e.dir + "/viewer";
    REQUIRE(sys::write_file_atomic(viewer, "#!/bin/sh\necho Madam >> \"$1\"\n", 0755).has_value());
    auto r = e.run({bin("qvm-open-in-dvm"), file}, viewer, /*cut=*/true);
    CHECK(r.status.code != 0);
    CHECK(sys::read_file(file).value() == "Dear\n");
    CHECK(sys::stat(file).value().st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    CHECK(sys::read_file(e.dir + "/calls").value() == "@dispvm qubes.OpenInVM\n");
    auto left = sys::list_dir(e.dir).value();
    for (auto const& n : left)
        CHECK(n.find(".edit-") == std::string::npos);
}

TEST_CASE("qvm-open-in-vm URL: qubes.OpenURL opens allowed URLs only") {
    Env e;
    auto log = e.dir + "/opened";
    auto opener = e.dir + "/opener";
    REQUIRE(sys::write_file_atomic(opener, "#!/bin/sh\necho \"$1\" >> " + log + "\n", 0755)
                .has_value());
    auto ok = e.run({bin("qvm-open-in-vm"), "web", "https://example.com/x?y=1"}, opener);
    CHECK(ok.status.code == 0);
    CHECK(sys::read_file(log).value() == "https://example.com/x?y=1\n");
    // Refused by the caller before any call.
    auto bad = e.run({bin("qvm-open-in-vm"), "web", "javascript://alert(1)"}, opener);
    CHECK(bad.status.code != 0);
    // A caller that skips its own check is refused by the service.
    auto svc = sys::run({"env", "BULKHEAD_OPEN_CMD=" + opener, bin("bulkhead-open-url")},
                        "file:///etc/shadow\n")
                   .value();
    CHECK(svc.status.code != 0);
    CHECK(sys::read_file(log).value() == "https://example.com/x?y=1\n");
}

TEST_CASE("vm-file-editor with no way to open files fails before reading") {
    auto r =
        sys::run({"env", "-u", "BULKHEAD_OPEN_CMD", "PATH=/nonexistent",
                  "BULKHEAD_OPEN_COMMAND_FILE=/nonexistent/open-command", bin("vm-file-editor")},
                 std::string(256, '\0'))
            .value();
    CHECK(r.status.code == 1);
    CHECK(r.err.find("no program to open files") != std::string::npos);
}

TEST_CASE("usage errors") {
    CHECK(sys::run({bin("qvm-open-in-vm")}).value().status.code == 2);
    CHECK(sys::run({bin("qvm-open-in-vm"), "work"}).value().status.code == 2);
    CHECK(sys::run({bin("qvm-open-in-dvm"), "a", "b"}).value().status.code == 2);
}
