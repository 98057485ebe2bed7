// Loading policy directories: file-name rules, merging several directories by basename,
// !include, !include-dir, !include-service, and failure modes (all fail closed).
#include "policy_test_util.h"

using namespace policy_test;

namespace {

std::string load_error(std::vector<std::string> const& dirs) {
    auto p = Policy::load(dirs);
    return p ? std::string() : p.error().message();
}

Policy load_ok(std::vector<std::string> const& dirs) {
    auto p = Policy::load(dirs);
    if (!p)
        FAIL(p.error().message());
    return std::move(*p);
}

std::vector<std::string> services(Policy const& p) {
    std::vector<std::string> out;
    for (auto const& r : p.rules())
        out.push_back(r.service + (r.argument ? "+" + *r.argument : ""));
    return out;
}

} // namespace

TEST_CASE("loader: files in byte order of their names") {
    TempDir t;
    auto d = t.mkdir("p");
    t.write("p/50-b.policy", "b * @anyvm @anyvm deny\n");
    t.write("p/10-a.policy", "a * @anyvm @anyvm deny\n");
    t.write("p/50-a.policy", "a2 * @anyvm @anyvm deny\n");
    t.write("p/9.policy", "nine * @anyvm @anyvm deny\n");
    Policy p = load_ok({d});
    CHECK(services(p) == std::vector<std::string>{"a", "a2", "b", "nine"});
    CHECK(p.rules()[0].file == d + "/10-a.policy");
    CHECK(p.rules()[0].line == 1);
}

TEST_CASE("loader: ignored and invalid file names") {
    TempDir t;
    auto d = t.mkdir("p");
    t.write("p/.hidden.policy", "this is not parsed\n");
    t.write("p/README", "neither is this\n");
    t.write("p/30-user.policy~", "nor a backup\n");
    t.write("p/30-user.policy.swp", "nor a swap file\n");
    t.write("p/30-user.policy", "a * @anyvm @anyvm deny\n");
    CHECK(services(load_ok({d})) == std::vector<std::string>{"a"});

    t.write("p/40-Upper.policy", "b * @anyvm @anyvm deny\n");
    std::string err = load_error({d});
    CHECK(err == d + "/40-Upper.policy:0: invalid policy file name '40-Upper.policy' "
                     "(allowed: [0-9a-z_.-], ending in .policy)");
    REQUIRE(sys::unlink(d + "/40-Upper.policy"));
    t.write("p/40 space.policy", "b * @anyvm @anyvm deny\n");
    CHECK(load_error({d}).find("invalid policy file name") != std::string::npos);
    REQUIRE(sys::unlink(d + "/40 space.policy"));

    t.mkdir("p/50-dir.policy"); // a directory with a policy name is an error, not skipped
    CHECK(load_error({d}).find("is not a regular file") != std::string::npos);
}

TEST_CASE("loader: several directories merge by basename, first one wins") {
    TempDir t;
    auto d1 = t.mkdir("run");
    auto d2 = t.mkdir("etc");
    t.write("etc/30-user.policy", "etc-user * @anyvm @anyvm deny\n");
    t.write("etc/90-default.policy", "etc-default * @anyvm @anyvm deny\n");
    t.write("run/30-user.policy", "run-user * @anyvm @anyvm deny\n");
    t.write("run/50-extra.policy", "run-extra * @anyvm @anyvm deny\n");
    CHECK(services(load_ok({d1, d2})) ==
          std::vector<std::string>{"run-user", "run-extra", "etc-default"});
    CHECK(services(load_ok({d2, d1})) ==
          std::vector<std::string>{"etc-user", "run-extra", "etc-default"});
    // A broken file that is shadowed is never read.
    t.write("etc/30-user.policy", "broken\n");
    CHECK(load_error({d1, d2}).empty());
    CHECK(!load_error({d2, d1}).empty());
}

TEST_CASE("loader: missing directory and empty list") {
    TempDir t;
    CHECK(load_error({t.path() + "/nope"})
              .find(t.path() + "/nope:0: cannot list policy "
                               "directory") == 0);
    CHECK(!load_error({}).empty());
    auto empty = t.mkdir("empty");
    CHECK(load_ok({empty}).rules().empty());
}

TEST_CASE("loader: !include, relative to the policy directory or absolute") {
    TempDir t;
    auto d = t.mkdir("p");
    t.write("p/include/a.inc", "inc-a * @anyvm @anyvm deny\n");
    t.write("other/b.inc", "inc-b * @anyvm @anyvm deny\n");
    t.write("p/30-x.policy", "first * @anyvm @anyvm deny\n"
                             "!include include/a.inc\n"
                             "!include " +
                                 t.path() +
                                 "/other/b.inc\n"
                                 "last * @anyvm @anyvm deny\n");
    Policy p = load_ok({d});
    CHECK(services(p) == std::vector<std::string>{"first", "inc-a", "inc-b", "last"});
    CHECK(p.rules()[1].file == d + "/include/a.inc");

    // A missing file is an error at the including line.
    t.write("p/30-x.policy", "first * @anyvm @anyvm deny\n!include nope.inc\n");
    std::string err = load_error({d});
    CHECK(err.rfind(d + "/30-x.policy:2: cannot read '" + d + "/nope.inc'", 0) == 0);
    // So is a directory.
    t.write("p/30-x.policy", "!include include\n");
    CHECK(load_error({d}) == d + "/30-x.policy:1: '" + d + "/include' is not a regular file");
    // Errors inside an included file name that file and line.
    t.write("p/include/a.inc", "\n\nbad line\n");
    t.write("p/30-x.policy", "!include include/a.inc\n");
    CHECK(load_error({d}) == d + "/include/a.inc:3: wrong number of fields (expected: service "
                                 "argument source target action [params])");
}

TEST_CASE("loader: include cycles and depth are errors") {
    TempDir t;
    auto d = t.mkdir("p");
    t.write("p/inc/self.inc", "!include inc/self.inc\n");
    t.write("p/30-x.policy", "!include inc/self.inc\n");
    CHECK(load_error({d}).find("include cycle") != std::string::npos);

    t.write("p/inc/a.inc", "!include inc/b.inc\n");
    t.write("p/inc/b.inc", "!include inc/a.inc\n");
    t.write("p/30-x.policy", "!include inc/a.inc\n");
    CHECK(load_error({d}).find("include cycle") != std::string::npos);

    for (int i = 0; i < 20; ++i)
        t.write("p/deep/" + std::to_string(i) + ".inc",
                "!include deep/" + std::to_string(i + 1) + ".inc\n");
    t.write("p/deep/20.inc", "x * @anyvm @anyvm deny\n");
    t.write("p/30-x.policy", "!include deep/0.inc\n");
    CHECK(load_error({d}).find("nested too deeply") != std::string::npos);
}

TEST_CASE("loader: !include-dir reads *.policy files of a directory in order") {
    TempDir t;
    auto d = t.mkdir("p");
    t.write("p/sub/20-b.policy", "sub-b * @anyvm @anyvm deny\n");
    t.write("p/sub/10-a.policy", "sub-a * @anyvm @anyvm deny\n");
    t.write("p/sub/.skip.policy", "garbage\n");
    t.write("p/sub/notes.txt", "garbage\n");
    t.write("p/30-x.policy", "before * @anyvm @anyvm deny\n!include-dir sub\n"
                             "after * @anyvm @anyvm deny\n");
    CHECK(services(load_ok({d})) == std::vector<std::string>{"before", "sub-a", "sub-b", "after"});

    t.write("p/sub/30-Bad.policy", "x * @anyvm @anyvm deny\n");
    CHECK(load_error({d}).find("invalid policy file name '30-Bad.policy'") != std::string::npos);
    t.write("p/30-x.policy", "!include-dir missing\n");
    CHECK(load_error({d}).rfind(d + "/30-x.policy:1: cannot list '" + d + "/missing'", 0) == 0);
    t.write("p/30-x.policy", "!include-dir 30-x.policy\n"); // not a directory
    CHECK(!load_error({d}).empty());
    t.write("p/30-x.policy", "!include-dir sub extra\n");
    CHECK(load_error({d}).find("!include-dir takes exactly one path") != std::string::npos);
}

TEST_CASE("loader: !include-service scopes a rules-only file to one service") {
    TempDir t;
    auto d = t.mkdir("p");
    t.write("p/svc.inc", "# source target action\n"
                         "work vault allow\n"
                         "@anyvm @anyvm deny notify=no\n");
    t.write("p/30-x.policy", "!include-service qubes.Gpg +key svc.inc\n"
                             "!include-service qubes.Other * svc.inc\n"
                             "!include-service * * svc.inc\n");
    Policy p = load_ok({d});
    REQUIRE(p.rules().size() == 6);
    CHECK(services(p) == std::vector<std::string>{"qubes.Gpg+key", "qubes.Gpg+key", "qubes.Other",
                                                  "qubes.Other", "*", "*"});
    CHECK(p.rules()[0].source.value == "work");
    CHECK(p.rules()[0].target.value == "vault");
    CHECK(p.rules()[1].action.kind == ActionKind::Deny);
    CHECK(!p.rules()[1].action.notify);
    CHECK(p.rules()[0].file == d + "/svc.inc");
    CHECK(p.rules()[0].line == 2);

    t.write("p/30-x.policy", "!include-service qubes.Gpg + svc.inc\n");
    Policy bare = load_ok({d});
    REQUIRE(bare.rules().size() == 2);
    REQUIRE(bare.rules()[0].argument);
    CHECK(bare.rules()[0].argument->empty());

    t.write("p/30-x.policy", "!include-service * +arg svc.inc\n");
    CHECK(load_error({d}).find("only * argument is allowed with * service") != std::string::npos);
    t.write("p/30-x.policy", "!include-service bad/svc * svc.inc\n");
    CHECK(load_error({d}).find("invalid service") != std::string::npos);
    t.write("p/30-x.policy", "!include-service svc arg svc.inc\n");
    CHECK(load_error({d}).find("invalid argument 'arg'") != std::string::npos);
    // The included file has three columns; five are an error, and so are directives.
    t.write("p/30-x.policy", "!include-service svc * svc.inc\n");
    t.write("p/svc.inc", "svc * work vault allow\n");
    CHECK(load_error({d}).find("svc.inc:1: ") != std::string::npos);
    t.write("p/svc.inc", "!include other.inc\n");
    CHECK(load_error({d}).find("directives are not allowed in a !include-service file") !=
          std::string::npos);
    t.write("p/svc.inc", "work vault\n");
    CHECK(load_error({d}).find("wrong number of fields (expected: source target action") !=
          std::string::npos);
}

TEST_CASE("loader: one bad file anywhere means no policy, every problem listed") {
    TempDir t;
    auto d = t.mkdir("p");
    t.write("p/10-good.policy", "qubes.Filecopy * @anyvm @anyvm allow\n");
    t.write("p/20-bad.policy", "ok * @anyvm @anyvm deny\nbad\nalso bad\n");
    t.write("p/30-bad.policy", "x * @anyvm @anyvm nope\n");
    std::vector<Problem> problems;
    Policy::load_collect({d}, problems);
    REQUIRE(problems.size() == 3);
    CHECK(problems[0].text() == d + "/20-bad.policy:2: wrong number of fields (expected: "
                                    "service argument source target action [params])");
    CHECK(problems[1].line == 3);
    CHECK(problems[2].text() == d + "/30-bad.policy:1: invalid action 'nope'");
    CHECK(!Policy::load({d}));
}

TEST_CASE("loader: a huge fan-out of includes is bounded") {
    TempDir t;
    auto d = t.mkdir("p");
    // Each file includes the next one twice: 2^13 reads without a budget.
    for (int i = 0; i < 12; ++i) {
        std::string next = "inc/" + std::to_string(i + 1) + ".inc";
        t.write("p/inc/" + std::to_string(i) + ".inc",
                "!include " + next + "\n!include " + next + "\n");
    }
    t.write("p/inc/12.inc", "x * @anyvm @anyvm deny\n");
    t.write("p/30-x.policy", "!include inc/0.inc\n");
    CHECK(load_error({d}).find("too many included files") != std::string::npos);
}
