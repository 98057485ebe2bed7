// qubes.Filecopy end to end on the sandbox backend: the guest tools (qvm-copy-to-vm,
// qvm-move-to-vm), dom0's qvm-copy-to-vm, the packer and unpacker in real domains, policy.
#include "system.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <sys/stat.h>
#include <thread>

using bulkhead::testing::System;
namespace sys = bulkhead::sys;

namespace {

constexpr char const* kPolicy = "qubes.Filecopy * work personal allow\n"
                                "qubes.Filecopy * dom0 @anyvm allow\n"
                                "qubes.Filecopy * @anyvm @anyvm deny\n";

// Two app domains of the busybox template, both running.
void two_domains(System& s) {
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "work"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "green", "personal"});
    s.ok({"qvm-start", "work"});
    s.ok({"qvm-start", "personal"});
}

std::string in(System& s, std::string const& dom, std::string const& cmd) {
    return s.ok({"qvm-run", "-p", dom, cmd});
}

} // namespace

TEST_CASE("qvm-copy-to-vm copies a tree: nested dirs, symlinks, mtimes, UTF-8 names",
          "[integration][filecopy]") {
    System s(kPolicy);
    two_domains(s);
    in(s, "work",
       "mkdir -p t/a/b && echo one > t/a/one && echo two > t/a/b/two && : > t/empty &&"
       " ln -s a/one t/link && printf 'h\\n' > 't/r\xc3\xa9sum\xc3\xa9.txt' &&"
       " touch -d '2001-02-03 04:05:06' t/a/one");
    auto r = s.tool({"qvm-run", "-p", "work", "qvm-copy-to-vm personal t"});
    INFO(r.err << s.daemon_log());
    REQUIRE(r.code == 0);
    std::string dst = "~/QubesIncoming/work/t";
    CHECK(in(s, "personal", "cat " + dst + "/a/one " + dst + "/a/b/two") == "one\ntwo\n");
    CHECK(in(s, "personal", "readlink " + dst + "/link") == "a/one\n");
    CHECK(in(s, "personal", "cat " + dst + "/link") == "one\n");
    CHECK(in(s, "personal", "stat -c %s " + dst + "/empty") == "0\n");
    CHECK(in(s, "personal", "cat " + dst + "/'r\xc3\xa9sum\xc3\xa9.txt'") == "h\n");
    CHECK(in(s, "personal", "date -r " + dst + "/a/one +%Y-%m-%dT%H:%M:%S") ==
          "2001-02-03T04:05:06\n");
    // Owned by the receiving user, nothing outside QubesIncoming/work.
    CHECK(in(s, "personal", "stat -c %u " + dst + "/a/one") == "1000\n");
    CHECK(in(s, "personal", "ls ~/QubesIncoming") == "work\n");
    // The same copy again: existing files are never overwritten silently.
    auto again = s.tool({"qvm-run", "-p", "work", "qvm-copy-to-vm personal t"});
    CHECK(again.code != 0);
    CHECK(in(s, "personal", "cat " + dst + "/a/one") == "one\n");
}

TEST_CASE("a name with an escape sequence is refused; policy deny exits 126",
          "[integration][filecopy]") {
    System s(kPolicy);
    two_domains(s);
    in(s, "work", "printf x > \"$(printf 'bad\\033[2Jname')\"; echo ok > good");
    auto bad = s.tool({"qvm-run", "-p", "work", "qvm-copy-to-vm personal bad*"});
    CHECK(bad.code != 0);
    CHECK(in(s, "personal", "ls -A ~/QubesIncoming/work 2>/dev/null | wc -l") == "0\n");
    // personal may not copy to work: refused by policy, the Qubes exit code.
    auto denied = s.tool({"qvm-run", "-p", "personal", "echo x > f; qvm-copy-to-vm work f"});
    CHECK(denied.code == 126);
    CHECK(in(s, "work", "ls ~/QubesIncoming 2>/dev/null | wc -l") == "0\n");
}

TEST_CASE("qvm-move-to-vm deletes the source only after the copy was confirmed",
          "[integration][filecopy]") {
    System s(kPolicy);
    two_domains(s);
    in(s, "work", "mkdir d && echo m > d/f");
    s.ok({"qvm-run", "-p", "work", "qvm-move-to-vm personal d"});
    CHECK(in(s, "work", "ls d 2>/dev/null | wc -l") == "0\n");
    CHECK(in(s, "personal", "cat ~/QubesIncoming/work/d/f") == "m\n");
    // A refused move keeps the source.
    in(s, "personal", "echo keep > k");
    CHECK(s.tool({"qvm-run", "-p", "personal", "qvm-move-to-vm work k"}).code == 126);
    CHECK(in(s, "personal", "cat k") == "keep\n");
}

TEST_CASE("dom0's qvm-copy-to-vm lands in QubesIncoming/dom0", "[integration][filecopy]") {
    System s(kPolicy);
    two_domains(s);
    auto dir = sys::make_temp_dir("/tmp/bulkhead-fc-dom0-").value();
    sys::write_file_atomic(dir + "/report.txt", "from dom0\n").value();
    auto r = s.tool({"qvm-copy-to-vm", "--without-progress", "personal", dir + "/report.txt"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(in(s, "personal", "cat ~/QubesIncoming/dom0/report.txt") == "from dom0\n");
    CHECK(s.tool({"qvm-copy-to-vm", "nosuch", dir + "/report.txt"}).code != 0);
    (void)sys::remove_tree(dir);
}

TEST_CASE("a 1 GiB file arrives intact", "[integration][filecopy]") {
    System s(kPolicy);
    two_domains(s);
    // Pseudo-random content (not zeros) so a dropped or repeated chunk changes the sum.
    in(s, "work",
       "dd if=/dev/urandom of=seed bs=1M count=1 2>/dev/null;"
       " for i in $(seq 1024); do cat seed; done > big; md5sum < big > big.md5");
    auto r = s.tool({"qvm-run", "-p", "work", "qvm-copy-to-vm personal big"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(in(s, "personal", "md5sum < ~/QubesIncoming/work/big") == in(s, "work", "cat big.md5"));
    CHECK(in(s, "personal", "stat -c %s ~/QubesIncoming/work/big") == "1073741824\n");
}

TEST_CASE("kill -9 of either side mid-copy: no complete-looking file, source intact",
          "[integration][filecopy]") {
    System s(kPolicy);
    two_domains(s);
    // Sparse, just under the receiver's 2 GiB cap: long enough to be caught mid-way.
    in(s, "work", "dd if=/dev/zero of=big bs=1M count=0 seek=2000 2>/dev/null");
    auto incoming = s.root() + "/appvms/personal/home/user/QubesIncoming/work";
    // The receiver runs as the service's name (/etc/qubes-rpc/qubes.Filecopy links to
    // qfile-unpacker, so that is its comm).
    for (char const* victim : {"qfile-agent", "qubes.Filecopy"}) {
        INFO("killing " << victim);
        sys::SpawnOptions copy;
        copy.argv = {s.bin() + "/qvm-run", "-p", "work", "qvm-copy-to-vm personal big"};
        copy.env = s.env();
        auto pid = sys::spawn(copy).value();
        // From the host: once the receiver has written something, kill the chosen side.
        bool killed = false;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!killed && std::chrono::steady_clock::now() < deadline) {
            auto names = sys::list_dir(incoming).value_or(std::vector<std::string>{});
            bool writing = false;
            for (auto const& n : names) {
                auto st = sys::lstat(incoming + "/" + n);
                writing = writing || (st && st->st_size > 0);
            }
            auto victims = bulkhead::testing::processes_named(victim, s.daemon_pid());
            if (writing && !victims.empty()) {
                for (auto v : victims)
                    (void)sys::kill(v, SIGKILL);
                killed = true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        REQUIRE(killed);
        auto st = sys::waitpid(pid).value();
        CHECK(st.code != 0);
        // Whatever arrived is not under the final name with the full size.
        auto size = s.tool({"qvm-run", "-p", "personal", "stat -c %s ~/QubesIncoming/work/big"});
        CHECK((size.code != 0 || size.out != "2097152000\n"));
        CHECK(in(s, "work", "stat -c %s big") == "2097152000\n");
        in(s, "personal", "rm -rf ~/QubesIncoming");
    }
}

TEST_CASE("qvm-copy and qvm-move ask dom0 for the target: yes, no, timeout",
          "[integration][filecopy]") {
    auto dir = sys::make_temp_dir("/tmp/bulkhead-it-fc-ask-").value();
    auto script = dir + "/answer.sh";
    REQUIRE(sys::write_file_atomic(script,
                                   "#!/bin/sh\ncat > /dev/null\na=$(cat " + dir +
                                       "/answer)\n[ \"$a\" = hang ] && exec sleep 30\n"
                                       "printf '%s\\n' \"$a\"\n",
                                   0755));
    auto answer = [&](std::string const& a) {
        REQUIRE(sys::write_file_atomic(dir + "/answer", a, 0644));
    };
    {
        // Qubes' default rule for file copy.
        System s("qubes.Filecopy * @anyvm @anyvm ask\n",
                 {"--ask-agent", "script:" + script, "--ask-timeout", "1"});
        two_domains(s);
        in(s, "work", "echo a > a; echo b > b; echo c > c");
        answer("personal");
        s.ok({"qvm-run", "-p", "work", "qvm-copy a"});
        CHECK(in(s, "personal", "cat ~/QubesIncoming/work/a") == "a\n");
        s.ok({"qvm-run", "-p", "work", "qvm-move b"});
        CHECK(in(s, "personal", "cat ~/QubesIncoming/work/b") == "b\n");
        CHECK(in(s, "work", "ls b 2>/dev/null | wc -l") == "0\n");
        answer(""); // no
        CHECK(s.tool({"qvm-run", "-p", "work", "qvm-move c"}).code == 126);
        CHECK(in(s, "work", "cat c") == "c\n");
        answer("hang"); // no answer in time
        CHECK(s.tool({"qvm-run", "-p", "work", "qvm-copy c"}).code == 126);
        CHECK(in(s, "personal", "ls ~/QubesIncoming/work") == "a\nb\n");
    }
    (void)sys::remove_tree(dir);
}
