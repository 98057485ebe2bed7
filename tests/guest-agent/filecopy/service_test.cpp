// The service side: dropping privileges to the destination's owner, ~/QubesIncoming/<domain>,
// and qfile-agent | qfile-unpacker as real programs connected by pipes.
#include "harness.h"

#include <bulkhead/base/sys/fd.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <functional>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace bulkhead;
using namespace bulkhead::test;

namespace {

constexpr uid_t nobody = 65534;

// Runs body in a forked child (privilege changes stay there); its return value is the exit code.
int in_child(std::function<int()> const& body) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
        ::_exit(body());
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string bin(std::string const& name) {
    char const* dir = std::getenv("BULKHEAD_BUILD_DIR");
    return std::string(dir ? dir : "build") + "/bin/" + name;
}

} // namespace

TEST_CASE("drop_privileges_to_owner: root becomes the owner, for good, with no new privileges") {
    REQUIRE(::geteuid() == 0); // tests run as root here and in CI
    Scratch s;
    s.mkdir("dest", 0700);
    REQUIRE(::chown(s.path("dest").c_str(), nobody, nobody) == 0);
    s.write("root-only", "secret", 0600);
    REQUIRE(::chmod(s.root.c_str(), 0755) == 0);
    int code = in_child([&] {
        auto fd = ::open(s.path("dest").c_str(), O_RDONLY | O_DIRECTORY);
        if (!filecopy::drop_privileges_to_owner(fd))
            return 10;
        uid_t r, e, ss;
        gid_t rg, eg, sg;
        ::getresuid(&r, &e, &ss);
        ::getresgid(&rg, &eg, &sg);
        if (r != nobody || e != nobody || ss != nobody || rg != nobody || eg != nobody ||
            sg != nobody)
            return 11;
        gid_t groups[8];
        int n = ::getgroups(8, groups);
        if (n != 1 || groups[0] != nobody)
            return 12;
        if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
            return 13;
        if (::open(s.path("root-only").c_str(), O_RDONLY) >= 0 || errno != EACCES)
            return 14;
        if (::mkdirat(fd, "can-write", 0700) != 0)
            return 15;
        return 0;
    });
    CHECK(code == 0);
}

TEST_CASE("drop_privileges_to_owner: a non-root process that is not the owner is refused") {
    Scratch s;
    REQUIRE(::chmod(s.root.c_str(), 0755) == 0);
    int code = in_child([&] {
        auto fd = ::open(s.root.c_str(), O_RDONLY | O_DIRECTORY);
        if (::setresuid(nobody, nobody, nobody) != 0)
            return 20;
        auto r = filecopy::drop_privileges_to_owner(fd);
        return !r && r.error().code() == Errc::Denied ? 0 : 21;
    });
    CHECK(code == 0);
}

TEST_CASE("valid_domain_name follows Qubes' rule") {
    for (auto good : {"work", "sys-net", "disp1234", "a", "Work_2.test", "dom0"})
        CHECK(filecopy::valid_domain_name(good));
    for (auto bad : {"", "..", ".", "../x", "a/b", "-x", "1abc", "a b", "x\n", "@anyvm",
                     "abcdefghijabcdefghijabcdefghijab"}) // 32 bytes
        CHECK_FALSE(filecopy::valid_domain_name(bad));
}

TEST_CASE("open_incoming_dir creates ~/QubesIncoming/<domain> 0700 and never follows a symlink") {
    Scratch home;
    auto fd = filecopy::open_incoming_dir(home.root, "work");
    REQUIRE(fd.has_value());
    struct stat st;
    REQUIRE(::lstat(home.path("QubesIncoming/work").c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(filecopy::open_incoming_dir(home.root, "work").has_value()); // again: reused
    CHECK_FALSE(filecopy::open_incoming_dir(home.root, "../etc").has_value());

    Scratch home2, elsewhere;
    home2.symlink(elsewhere.root, "QubesIncoming");
    CHECK_FALSE(filecopy::open_incoming_dir(home2.root, "work").has_value());
    CHECK_FALSE(elsewhere.exists("work"));

    Scratch home3;
    auto owned = filecopy::open_incoming_dir(home3.root, "personal", std::pair(nobody, nobody));
    REQUIRE(owned.has_value());
    REQUIRE(::lstat(home3.path("QubesIncoming/personal").c_str(), &st) == 0);
    CHECK(st.st_uid == nobody);
    CHECK(st.st_gid == nobody);
}

namespace {

// qfile-agent (as root) | qfile-unpacker (as nobody, HOME=home) with the reply flowing back.
// The unpacker binary is copied next to home first: the build directory may not be reachable
// by nobody.
std::pair<int, int> run_programs(std::vector<std::string> const& files, std::string const& home,
                                 std::string const& remote,
                                 std::vector<std::string> const& agent_options = {},
                                 int agent_stderr = -1) {
    auto unpacker_bin = home + "/../qfile-unpacker";
    if (!sys::exists(unpacker_bin)) {
        auto image = sys::read_file(bin("qfile-unpacker"), size_t(256) << 20);
        REQUIRE(image.has_value());
        REQUIRE(sys::write_file_atomic(unpacker_bin, *image, 0755).has_value());
    }
    int s[2], r[2];
    REQUIRE(::pipe2(s, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(r, O_CLOEXEC) == 0);
    pid_t unpacker = ::fork();
    REQUIRE(unpacker >= 0);
    if (unpacker == 0) {
        ::dup2(s[0], 0);
        ::dup2(r[1], 1);
        gid_t g = nobody;
        if (::setgroups(1, &g) != 0 || ::setresgid(nobody, nobody, nobody) != 0 ||
            ::setresuid(nobody, nobody, nobody) != 0)
            ::_exit(100);
        std::string h = "HOME=" + home, d = "QREXEC_REMOTE_DOMAIN=" + remote;
        char* argv[] = {unpacker_bin.data(), nullptr};
        char* envp[] = {h.data(), d.data(), nullptr};
        ::execve(argv[0], argv, envp);
        ::_exit(101);
    }
    pid_t agent = ::fork();
    REQUIRE(agent >= 0);
    if (agent == 0) {
        ::dup2(r[0], 0);
        ::dup2(s[1], 1);
        if (agent_stderr >= 0)
            ::dup2(agent_stderr, 2);
        auto path = bin("qfile-agent");
        std::vector<char*> argv = {path.data()};
        std::vector<std::string> copy = agent_options;
        copy.insert(copy.end(), files.begin(), files.end());
        for (auto& f : copy)
            argv.push_back(f.data());
        argv.push_back(nullptr);
        char* envp[] = {nullptr};
        ::execve(argv[0], argv.data(), envp);
        ::_exit(101);
    }
    for (int fd : {s[0], s[1], r[0], r[1]})
        ::close(fd);
    int us = 0, as = 0;
    REQUIRE(::waitpid(unpacker, &us, 0) == unpacker);
    REQUIRE(::waitpid(agent, &as, 0) == agent);
    return {WIFEXITED(as) ? WEXITSTATUS(as) : -1, WIFEXITED(us) ? WEXITSTATUS(us) : -1};
}

} // namespace

TEST_CASE(
    "qfile-agent | qfile-unpacker: files land in ~/QubesIncoming/<source>, owned by the user") {
    Scratch src, top;
    src.mkdir("photos");
    src.write("photos/cat.jpg", std::string(70'000, 'c'));
    src.write("notes.txt", "hello");
    REQUIRE(::chmod(top.root.c_str(), 0755) == 0);
    top.mkdir("home", 0700);
    REQUIRE(::chown(top.path("home").c_str(), nobody, nobody) == 0);

    auto [agent, unpacker] =
        run_programs({src.path("photos"), src.path("notes.txt")}, top.path("home"), "work");
    CHECK(agent == 0);
    CHECK(unpacker == 0);
    CHECK(top.read("home/QubesIncoming/work/notes.txt") == "hello");
    CHECK(top.read("home/QubesIncoming/work/photos/cat.jpg") == std::string(70'000, 'c'));
    struct stat st;
    REQUIRE(::lstat(top.path("home/QubesIncoming/work/notes.txt").c_str(), &st) == 0);
    CHECK(st.st_uid == nobody);

    // Sending the same file again: the receiver refuses, qfile-agent fails.
    auto again = run_programs({src.path("notes.txt")}, top.path("home"), "work");
    CHECK(again.first == 1);
    CHECK(again.second == 1);

    // A remote domain name that is not one: nothing is created.
    auto bad = run_programs({src.path("notes.txt")}, top.path("home"), "../../etc");
    CHECK(bad.first != 0);
    CHECK(bad.second == 1);
    CHECK(sys::list_dir(top.path("home/QubesIncoming")).value() ==
          std::vector<std::string>{"work"});
}

TEST_CASE("qfile-agent --progress: bytes, rate and ETA on stderr for copies over 4 MiB") {
    Scratch src, top;
    src.write("big", std::string(8u << 20, 'b'));
    src.write("small", "s");
    REQUIRE(::chmod(top.root.c_str(), 0755) == 0);
    top.mkdir("home", 0700);
    REQUIRE(::chown(top.path("home").c_str(), nobody, nobody) == 0);
    auto progress_of = [&](std::vector<std::string> const& opts, std::string const& file) {
        auto err = sys::make_temp_dir("/tmp/bulkhead-fc-progress-").value();
        auto fd = sys::open(err + "/err", O_WRONLY | O_CREAT | O_CLOEXEC, 0600).value();
        auto [agent, unpacker] =
            run_programs({src.path(file)}, top.path("home"), "w", opts, fd.get());
        CHECK(agent == 0);
        CHECK(unpacker == 0);
        auto text = sys::read_file(err + "/err").value();
        (void)sys::remove_tree(err);
        (void)sys::remove_tree(top.path("home/QubesIncoming"));
        return text;
    };
    auto shown = progress_of({"--progress"}, "big");
    CHECK(shown.find("8.0 MiB / 8.0 MiB") != std::string::npos);
    CHECK(shown.find("/s  ETA ") != std::string::npos);
    CHECK(progress_of({"--progress"}, "small").empty());       // under 4 MiB: quiet
    CHECK(progress_of({"--without-progress"}, "big").empty()); // asked not to
    CHECK(progress_of({}, "big").empty());                     // stderr not a terminal
}

TEST_CASE("load_unpack_options: later files win, suffixes, bad lines refuse") {
    Scratch d;
    d.write("a.conf", "# template\nmax_bytes = 1G\nmax_files=100\n");
    d.write("b.conf", "max_files = 20K  # this domain\n");
    d.write("bad-key.conf", "max_size = 1\n");
    d.write("bad-value.conf", "max_files = -3\n");
    d.write("zero.conf", "max_bytes = 0\n");
    d.write("overflow.conf", "max_bytes = 99999999999999999G\n");
    auto o = filecopy::load_unpack_options({d.path("a.conf"), d.path("missing"), d.path("b.conf")});
    REQUIRE(o.has_value());
    CHECK(o->max_bytes == uint64_t(1) << 30);
    CHECK(o->max_files == 20u << 10);
    auto none = filecopy::load_unpack_options({d.path("missing")});
    REQUIRE(none.has_value());
    CHECK(none->max_bytes == uint64_t(2) << 30);
    CHECK(none->max_files == 2048);
    for (auto const* bad : {"bad-key.conf", "bad-value.conf", "zero.conf", "overflow.conf"}) {
        INFO(bad);
        CHECK_FALSE(filecopy::load_unpack_options({d.path(bad)}).has_value());
    }
}
