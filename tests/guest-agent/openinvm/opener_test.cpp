// resolve_opener's order (guest-agent/openinvm/opener.h) and run_opener's plumbing.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/openinvm/opener.h>

#include <catch2/catch.hpp>

using namespace bulkhead;
using namespace bulkhead::openinvm;

namespace {
struct Fake {
    std::string dir = sys::make_temp_dir("/tmp/bh-oiv-opener-").value();
    ~Fake() { (void)sys::remove_tree(dir); }
    void tool(std::string const& name) {
        REQUIRE(sys::write_file_atomic(dir + "/bin/" + name, "#!/bin/sh\n", 0755).has_value());
    }
    OpenerConfig cfg() const {
        OpenerConfig c;
        c.config_path = dir + "/open-command";
        c.path_env = "/nonexistent:" + dir + "/bin";
        return c;
    }
};
using Argv = std::vector<std::string>;
} // namespace

TEST_CASE("opener: env, then config file, then mimeopen -n, xdg-open, see") {
    Fake f;
    REQUIRE(sys::mkdir_p(f.dir + "/bin").has_value());
    auto nothing = resolve_opener(f.cfg());
    REQUIRE_FALSE(nothing.has_value());
    CHECK(nothing.error().code() == Errc::NotFound);
    f.tool("see");
    CHECK(resolve_opener(f.cfg()).value() == Argv{f.dir + "/bin/see"});
    f.tool("xdg-open");
    CHECK(resolve_opener(f.cfg()).value() == Argv{f.dir + "/bin/xdg-open"});
    f.tool("mimeopen");
    CHECK(resolve_opener(f.cfg()).value() == Argv{f.dir + "/bin/mimeopen", "-n"});
    REQUIRE(
        sys::write_file_atomic(f.dir + "/open-command", "# the test viewer\n\n  /bin/sh  /v  \n")
            .has_value());
    CHECK(resolve_opener(f.cfg()).value() == Argv{"/bin/sh", "/v"});
    auto c = f.cfg();
    c.env_command = "my-viewer --wait";
    CHECK(resolve_opener(c).value() == Argv{"my-viewer", "--wait"});
    c.env_command = "   ";
    CHECK_FALSE(resolve_opener(c).has_value());
}

TEST_CASE("opener: runs to completion with the target last, output on the log fd") {
    auto log = sys::pipe().value();
    auto code = run_opener(
        {"/bin/sh", "-c", "echo \"arg=$1\"; read x; echo \"stdin=$x\"; exit 3", "viewer"},
        "/tmp/x y.txt", log.second.get());
    log.second.reset();
    CHECK(code.value() == 3);
    CHECK(sys::read_to_end(log.first.get()).value() == "arg=/tmp/x y.txt\nstdin=\n");
}
