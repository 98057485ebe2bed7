// qrexec-policy run as a subprocess: exit codes and exact output lines of lint and eval.
#include "policy_test_util.h"

#include <bulkhead/base/sys/proc.h>

using namespace policy_test;

namespace {

struct Run {
    int code;
    std::string out;
    std::string err;
};

Run run(std::vector<std::string> args) {
    std::string bin =
        sys::getenv_or("BULKHEAD_BUILD_DIR", BULKHEAD_BUILD_DIR_FALLBACK) + "/bin/qrexec-policy";
    args.insert(args.begin(), bin);
    auto r = sys::run(args);
    REQUIRE(r);
    REQUIRE(!r->status.signaled);
    return Run{r->status.code, r->out, r->err};
}

// A policy directory plus system info file.
struct Fixture {
    TempDir t;
    std::string dir = t.mkdir("policy.d");
    std::string info = t.write("info.json", system_info_json());

    Run eval(std::string const& src, std::string const& tgt, std::string const& svc) {
        return run({"eval", "--policy-dir", dir, "--system-info", info, src, tgt, svc});
    }
};

} // namespace

TEST_CASE("tool: lint accepts a valid directory") {
    Fixture f;
    f.t.write("policy.d/30-user.policy", "qubes.Filecopy * @anyvm @anyvm ask\n");
    Run r = run({"lint", "--policy-dir", f.dir});
    CHECK(r.code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
}

TEST_CASE("tool: lint lists one FILE:LINE: message per problem") {
    Fixture f;
    f.t.write("policy.d/30-user.policy", "ok * @anyvm @anyvm deny\nbad\n"
                                         "x * @anyvm @anyvm allow target=@anyvm\n");
    f.t.write("policy.d/40-Bad.policy", "");
    Run r = run({"lint", "--policy-dir", f.dir});
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == f.dir +
                       "/30-user.policy:2: wrong number of fields (expected: service "
                       "argument source target action [params])\n" +
                       f.dir + "/30-user.policy:3: @anyvm is not valid as target=\n" + f.dir +
                       "/40-Bad.policy:0: invalid policy file name '40-Bad.policy' (allowed: "
                       "[0-9a-z_.-], ending in .policy)\n");
}

TEST_CASE("tool: lint merges several directories") {
    Fixture f;
    auto d2 = f.t.mkdir("d2");
    f.t.write("d2/30-user.policy", "broken\n");
    f.t.write("policy.d/30-user.policy", "ok * @anyvm @anyvm deny\n");
    CHECK(run({"lint", "--policy-dir", f.dir, "--policy-dir", d2}).code == 0);
    CHECK(run({"lint", "--policy-dir", d2, "--policy-dir", f.dir}).code == 1);
}

TEST_CASE("tool: eval prints exactly one line per decision") {
    Fixture f;
    f.t.write("policy.d/30-user.policy", "svc * work vault allow user=root\n"
                                         "svc * work @dispvm allow\n"
                                         "svc * work personal deny notify=no\n"
                                         "svc * @anyvm @anyvm ask default_target=vault\n");
    Run r = f.eval("work", "vault", "svc");
    CHECK(r.code == 0);
    CHECK(r.out == "allow target=vault user=root autostart=yes notify=no\n");
    r = f.eval("work", "@dispvm", "svc+arg");
    CHECK(r.code == 0);
    CHECK(r.out == "allow target=@dispvm:default-dvm user=DEFAULT autostart=yes notify=no\n");
    r = f.eval("work", "personal", "svc");
    CHECK(r.code == 1);
    CHECK(r.out == "deny notify=no\n");
    r = f.eval("vault", "", "svc");
    CHECK(r.code == 0);
    CHECK(r.out == "ask default_target=vault targets=@dispvm:default-dvm,@dispvm:other-dvm,"
                   "default-dvm,disp1,fedora,net,other-dvm,personal,vault,work user=DEFAULT "
                   "autostart=yes notify=no\n");
    r = f.eval("work", "dom0", "svc");
    CHECK(r.code == 1);
    CHECK(r.out == "deny notify=yes\n");
    r = f.eval("work", "vault", "other");
    CHECK(r.code == 1);
    CHECK(r.out == "deny notify=yes\n");
    CHECK(r.err.empty());
}

TEST_CASE("tool: a broken policy denies everything") {
    Fixture f;
    f.t.write("policy.d/10-ok.policy", "* * @anyvm @anyvm allow\n");
    f.t.write("policy.d/20-bad.policy", "svc * @anyvm @anyvm allow oops\n");
    Run r = f.eval("work", "vault", "svc");
    CHECK(r.code == 1);
    CHECK(r.out == "deny notify=yes\n");
    CHECK(r.err.find(f.dir + "/20-bad.policy:1: invalid action parameter 'oops'") !=
          std::string::npos);
    // A missing policy directory too.
    r = run({"eval", "--policy-dir", f.t.path() + "/nope", "--system-info", f.info, "work", "vault",
             "svc"});
    CHECK(r.code == 1);
    CHECK(r.out == "deny notify=yes\n");
}

TEST_CASE("tool: usage and file errors exit 2 without a decision") {
    Fixture f;
    auto usage = [](Run const& r) {
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.find("usage") != std::string::npos);
    };
    usage(run({}));
    usage(run({"bogus"}));
    usage(run({"lint", "extra"}));
    usage(run({"lint", "--policy-dir"}));
    usage(run({"lint", "--unknown"}));
    usage(run({"eval", "--policy-dir", f.dir, "work", "vault", "svc"})); // no system info
    usage(run({"eval", "--policy-dir", f.dir, "--system-info", f.info, "work", "vault"}));
    usage(run({"eval", "--policy-dir", f.dir, "--system-info", f.info, "a", "b", "c", "d"}));

    Run r = run({"eval", "--policy-dir", f.dir, "--system-info", f.t.path() + "/none.json", "work",
                 "vault", "svc"});
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(!r.err.empty());
    auto bad = f.t.write("bad.json", "{\"domains\": [}");
    r = run({"eval", "--policy-dir", f.dir, "--system-info", bad, "work", "vault", "svc"});
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find("json") != std::string::npos);
}

TEST_CASE("tool: the default policy lints clean and decides") {
    std::string src = sys::getenv_or("BULKHEAD_SOURCE_DIR", BULKHEAD_SOURCE_DIR_FALLBACK);
    Run r = run({"lint", "--policy-dir", src + "/policy/policy.d"});
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    Fixture f;
    r = run({"eval", "--policy-dir", src + "/policy/policy.d", "--system-info", f.info, "work",
             "@dispvm", "qubes.OpenInVM"});
    CHECK(r.code == 0);
    CHECK(r.out == "allow target=@dispvm:default-dvm user=DEFAULT autostart=yes notify=no\n");
}
