#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/sys/socket.h>

#include <catch2/catch.hpp>

#include <csignal>
#include <fcntl.h>
#include <unistd.h>

using namespace bulkhead;

TEST_CASE("file wrappers round-trip and name the failing call") {
    auto dir = sys::make_temp_dir("/tmp/bulkhead-base-");
    REQUIRE(dir);
    std::string path = *dir + "/a/b/file";
    REQUIRE(sys::mkdir_p(*dir + "/a/b"));
    REQUIRE(sys::write_file_atomic(path, "hello"));
    CHECK(*sys::read_file(path) == "hello");
    auto missing = sys::open(*dir + "/nope", O_RDONLY);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code() == Errc::NotFound);
    CHECK(missing.error().message().starts_with("open "));
    REQUIRE(sys::symlink("/etc/passwd", *dir + "/a/link"));
    // remove_tree never follows the link
    REQUIRE(sys::remove_tree(*dir));
    CHECK_FALSE(sys::exists(*dir));
    CHECK(sys::exists("/etc/passwd"));
}

TEST_CASE("read_to_end enforces its cap") {
    auto [r, w] = *sys::pipe();
    REQUIRE(sys::write_all(w.get(), std::string(100, 'x')));
    w.reset();
    auto res = sys::read_to_end(r.get(), 10);
    REQUIRE_FALSE(res);
    CHECK(res.error().code() == Errc::Limit);
}

TEST_CASE("run captures output, feeds stdin and reports exit codes") {
    auto out = sys::run({"sh", "-c", "cat; echo err >&2; exit 3"}, "input");
    REQUIRE(out);
    CHECK(out->out == "input");
    CHECK(out->err == "err\n");
    CHECK(out->status.code == 3);
    auto bad = sys::run({"/nonexistent/binary"});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code() == Errc::NotFound);
}

TEST_CASE("descriptors pass over unix sockets") {
    auto [a, b] = *sys::socketpair();
    auto [r, w] = *sys::pipe();
    REQUIRE(sys::send_fd(a.get(), w.get(), "pipe"));
    auto got = sys::recv_fd(b.get());
    REQUIRE(got);
    CHECK(got->second == "pipe");
    REQUIRE(sys::write_all(got->first.get(), "x"));
    char c = 0;
    CHECK(::read(r.get(), &c, 1) == 1);
    CHECK(c == 'x');
    auto cred = sys::peer_cred(a.get());
    REQUIRE(cred);
    CHECK(cred->pid == ::getpid());
}

TEST_CASE("unix listen and connect") {
    auto dir = *sys::make_temp_dir("/tmp/bulkhead-sock-");
    auto listener = sys::unix_listen(dir + "/s.sock");
    REQUIRE(listener);
    auto client = sys::unix_connect(dir + "/s.sock");
    REQUIRE(client);
    auto server = sys::accept(listener->get());
    REQUIRE(server);
    REQUIRE(server->valid());
    REQUIRE(sys::write_all(client->get(), "ping"));
    char buf[4];
    REQUIRE(sys::read_exact(server->get(), std::as_writable_bytes(std::span(buf))));
    CHECK(std::string(buf, 4) == "ping");
    REQUIRE(sys::remove_tree(dir));
}

TEST_CASE("spawn gives the child exactly the listed descriptors, ids and default signals") {
    auto [out_r, out_w] = sys::pipe(O_CLOEXEC).value();
    auto [extra_r, extra_w] = sys::pipe(0).value(); // inheritable: must still not leak
    ::signal(SIGUSR1, SIG_IGN);                     // ignored here: default in the child
    sys::SpawnOptions opts;
    opts.argv = {"/bin/sh", "-c",
                 "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; id -u; id -g;"
                 "grep SigIgn /proc/self/status"};
    opts.fds = {{1, out_w.get()}, {7, out_w.get()}};
    opts.credentials = sys::SpawnOptions::Credentials{4242, 4343, {4444}};
    auto pid = sys::spawn(opts).value();
    out_w.reset();
    auto text = sys::read_to_end(out_r.get()).value();
    CHECK(sys::waitpid(pid).value().code == 0);
    ::signal(SIGUSR1, SIG_DFL);
    // 0 and 2 are not listed: /dev/null; 3 is the directory ls itself opens.
    CHECK(text.rfind("0 1 2 3 7 \n4242\n4343\n", 0) == 0);
    // The parent ignores SIGUSR1; the child has it at default (the mask's bit SIGUSR1-1).
    INFO(text);
    auto at = text.find("SigIgn:\t");
    REQUIRE(at != std::string::npos);
    auto ignored = std::stoull(text.substr(at + 8, 16), nullptr, 16);
    CHECK((ignored & (1ull << (SIGUSR1 - 1))) == 0);
    (void)extra_r;
}

TEST_CASE("install_file copies once, replaces changed contents or mode, streams large files") {
    auto dir = sys::make_temp_dir("/tmp/bulkhead-install-").value();
    std::string big(3u << 20, 'x');
    big[big.size() - 1] = 'y';
    sys::write_file_atomic(dir + "/src", big, 0600).value();
    CHECK(sys::install_file(dir + "/src", dir + "/dst", 0755).value() == true);
    CHECK(sys::read_file(dir + "/dst").value() == big);
    CHECK((sys::stat(dir + "/dst").value().st_mode & 07777) == 0755);
    CHECK(sys::install_file(dir + "/src", dir + "/dst", 0755).value() == false); // same
    big[10] = 'z'; // same size, other bytes
    sys::write_file_atomic(dir + "/src", big, 0600).value();
    CHECK(sys::install_file(dir + "/src", dir + "/dst", 0755).value() == true);
    CHECK(sys::read_file(dir + "/dst").value() == big);
    CHECK(sys::install_file(dir + "/src", dir + "/dst", 0700).value() == true); // mode
    CHECK_FALSE(sys::install_file(dir + "/missing", dir + "/dst", 0755).has_value());
    (void)sys::remove_tree(dir);
}
