// The policy v5 grammar, point by point: every token in every column, every action and
// parameter, and every malformed form (each must name file:line and what is wrong).
#include "policy_test_util.h"

using namespace policy_test;

namespace {

Rule only_rule(std::string const& text) {
    Policy p = parse(text);
    REQUIRE(p.rules().size() == 1);
    return p.rules()[0];
}

// The error message must be exactly one problem at t.policy:LINE containing `what`.
void expect_error(std::string const& text, uint32_t line, std::string const& what) {
    INFO("policy: " << text);
    std::string err = parse_error(text);
    REQUIRE(!err.empty());
    CHECK(err.find('\n') == std::string::npos);
    CHECK(err.rfind("t.policy:" + std::to_string(line) + ": ", 0) == 0);
    CHECK(err.find(what) != std::string::npos);
}

} // namespace

TEST_CASE("parser: comments, blank lines and whitespace") {
    Policy p = parse("# comment\n\n   \t\n  # indented comment\n"
                     "qubes.Filecopy\t*  @anyvm\t\t@anyvm   ask  \n"
                     "qubes.Echo * work vault allow\r\n");
    REQUIRE(p.rules().size() == 2);
    CHECK(p.rules()[0].line == 5);
    CHECK(p.rules()[0].file == "test.policy");
    CHECK(p.rules()[1].line == 6);
    CHECK(p.rules()[1].action.kind == ActionKind::Allow);
    CHECK(parse("").rules().empty());
    CHECK(parse("\n\n").rules().empty());
}

TEST_CASE("parser: service and argument columns") {
    Rule r = only_rule("qubes.Filecopy * @anyvm @anyvm ask");
    CHECK(r.service == "qubes.Filecopy");
    CHECK(!r.argument);
    r = only_rule("qubes.Gpg +work-key @anyvm @anyvm ask");
    REQUIRE(r.argument);
    CHECK(*r.argument == "work-key");
    r = only_rule("qubes.Gpg + @anyvm @anyvm ask"); // bare + = empty argument
    REQUIRE(r.argument);
    CHECK(r.argument->empty());
    r = only_rule("* * @anyvm @anyvm deny");
    CHECK(r.service == "*");
    CHECK(!r.argument);
    r = only_rule("my_service-1.x +a.b-c_d+e @anyvm @anyvm deny");
    CHECK(*r.argument == "a.b-c_d+e");
}

TEST_CASE("parser: every source token") {
    struct Case {
        char const* text;
        TokenKind kind;
        char const* value;
    };
    Case cases[] = {
        {"@anyvm", TokenKind::AnyVM, ""},
        {"@adminvm", TokenKind::AdminVM, ""},
        {"dom0", TokenKind::AdminVM, ""},
        {"@dispvm:default-dvm", TokenKind::DispVMTemplate, "default-dvm"},
        {"@dispvm:@tag:dvmtag", TokenKind::DispVMTag, "dvmtag"},
        {"@tag:work", TokenKind::Tag, "work"},
        {"@type:AppVM", TokenKind::Type, "AppVM"},
        {"uuid:11111111-2222-3333-4444-555555555555", TokenKind::Uuid,
         "11111111-2222-3333-4444-555555555555"},
        {"work", TokenKind::Name, "work"},
    };
    for (auto const& c : cases) {
        INFO(c.text);
        Rule r = only_rule(std::string("svc * ") + c.text + " @anyvm deny");
        CHECK(r.source.kind == c.kind);
        CHECK(r.source.value == c.value);
    }
}

TEST_CASE("parser: every target token") {
    struct Case {
        char const* text;
        TokenKind kind;
    };
    Case cases[] = {
        {"@anyvm", TokenKind::AnyVM},
        {"@adminvm", TokenKind::AdminVM},
        {"dom0", TokenKind::AdminVM},
        {"@default", TokenKind::Default},
        {"@dispvm", TokenKind::DispVM},
        {"@dispvm:default-dvm", TokenKind::DispVMTemplate},
        {"@dispvm:@tag:dvmtag", TokenKind::DispVMTag},
        {"@tag:work", TokenKind::Tag},
        {"@type:TemplateVM", TokenKind::Type},
        {"uuid:11111111-2222-3333-4444-555555555555", TokenKind::Uuid},
        {"vault", TokenKind::Name},
    };
    for (auto const& c : cases) {
        INFO(c.text);
        Rule r = only_rule(std::string("svc * @anyvm ") + c.text + " deny");
        CHECK(r.target.kind == c.kind);
    }
    for (auto const* type : {"AdminVM", "AppVM", "TemplateVM", "DispVM", "StandaloneVM"})
        CHECK(only_rule(std::string("svc * @anyvm @type:") + type + " deny").target.value == type);
}

TEST_CASE("parser: tokens in the wrong column are errors") {
    expect_error("svc * @default @anyvm allow", 1, "@default is not valid as source");
    expect_error("svc * @dispvm @anyvm allow", 1, "@dispvm is not valid as source");
    expect_error("svc * @anyvm @anyvm allow target=@anyvm", 1, "@anyvm is not valid as target=");
    expect_error("svc * @anyvm @anyvm allow target=@default", 1,
                 "@default is not valid as target=");
    expect_error("svc * @anyvm @anyvm allow target=@tag:work", 1, "@tag: is not valid as target=");
    expect_error("svc * @anyvm @anyvm allow target=@type:AppVM", 1,
                 "@type: is not valid as target=");
    expect_error("svc * @anyvm @anyvm allow target=@dispvm:@tag:x", 1,
                 "@dispvm:@tag: is not valid as target=");
    expect_error("svc * @anyvm @anyvm ask default_target=@anyvm", 1,
                 "@anyvm is not valid as default_target=");
    expect_error("svc * @anyvm @anyvm ask default_target=@tag:x", 1,
                 "@tag: is not valid as default_target=");
}

TEST_CASE("parser: malformed tokens") {
    expect_error("svc * @foo @anyvm deny", 1, "invalid keyword '@foo'");
    expect_error("svc * @anyvm @tag: deny", 1, "invalid tag in '@tag:'");
    expect_error("svc * @anyvm @tag:a/b deny", 1, "invalid tag");
    expect_error("svc * @anyvm @type:Foo deny", 1, "unknown domain type in '@type:Foo'");
    expect_error("svc * @anyvm @type: deny", 1, "unknown domain type");
    expect_error("svc * @anyvm @dispvm: deny", 1, "invalid domain name in '@dispvm:'");
    expect_error("svc * @anyvm @dispvm:1bad deny", 1, "invalid domain name");
    expect_error("svc * @anyvm @dispvm:@tag: deny", 1, "invalid tag");
    expect_error("svc * @anyvm uuid:nope deny", 1, "invalid uuid in 'uuid:nope'");
    expect_error("svc * @anyvm uuid:11111111-2222-3333-4444-55555555555Z deny", 1, "invalid uuid");
    expect_error("svc * @anyvm 1work deny", 1, "invalid target '1work'");
    expect_error("svc * * @anyvm deny", 1, "invalid source '*'");
    expect_error("svc * @anyvm a-very-long-domain-name-over-31-chars deny", 1, "invalid target");
    expect_error("svc * @anyvm $anyvm deny", 1, "invalid target '$anyvm'");
}

TEST_CASE("parser: allow, deny and ask with their parameters") {
    Rule r = only_rule("svc * @anyvm @anyvm allow");
    CHECK(r.action.kind == ActionKind::Allow);
    CHECK(!r.action.target);
    CHECK(r.action.user.empty());
    CHECK(r.action.autostart);
    CHECK(!r.action.notify);

    r = only_rule("svc * @anyvm @anyvm allow target=vault user=root autostart=no notify=yes");
    REQUIRE(r.action.target);
    CHECK(r.action.target->kind == TokenKind::Name);
    CHECK(r.action.target->value == "vault");
    CHECK(r.action.user == "root");
    CHECK(!r.action.autostart);
    CHECK(r.action.notify);

    r = only_rule("svc * @anyvm @anyvm deny");
    CHECK(r.action.kind == ActionKind::Deny);
    CHECK(r.action.notify); // deny notifies by default
    CHECK(!only_rule("svc * @anyvm @anyvm deny notify=no").action.notify);

    r = only_rule("svc * @anyvm @anyvm ask target=@dispvm default_target=@dispvm:default-dvm "
                  "user=user autostart=yes notify=no");
    CHECK(r.action.kind == ActionKind::Ask);
    CHECK(r.action.target->kind == TokenKind::DispVM);
    CHECK(r.action.default_target->kind == TokenKind::DispVMTemplate);
    CHECK(r.action.user == "user");

    // Every token a redirect may name.
    for (auto const* t : {"@adminvm", "dom0", "@dispvm", "@dispvm:x", "vault",
                          "uuid:11111111-2222-3333-4444-555555555555"}) {
        INFO(t);
        CHECK(parse_error(std::string("svc * @anyvm @anyvm allow target=") + t).empty());
        CHECK(parse_error(std::string("svc * @anyvm @anyvm ask target=") + t).empty());
        CHECK(parse_error(std::string("svc * @anyvm @anyvm ask default_target=") + t).empty());
    }
    CHECK(only_rule("svc * @anyvm @anyvm allow user=").action.user.empty());
}

TEST_CASE("parser: malformed actions and parameters") {
    expect_error("svc * @anyvm @anyvm permit", 1, "invalid action 'permit'");
    expect_error("svc * @anyvm @anyvm ALLOW", 1, "invalid action");
    expect_error("svc * @anyvm @anyvm allow,target=vault", 1, "invalid action");
    expect_error("svc * @anyvm @anyvm allow target", 1, "expected key=value");
    expect_error("svc * @anyvm @anyvm allow # comment", 1, "expected key=value");
    expect_error("svc * @anyvm @anyvm allow foo=bar", 1, "invalid parameter 'foo'");
    expect_error("svc * @anyvm @anyvm deny target=vault", 1,
                 "invalid parameter 'target' for action deny");
    expect_error("svc * @anyvm @anyvm deny user=root", 1, "invalid parameter 'user'");
    expect_error("svc * @anyvm @anyvm deny autostart=no", 1, "invalid parameter 'autostart'");
    expect_error("svc * @anyvm @anyvm allow default_target=vault", 1,
                 "invalid parameter 'default_target' for action allow");
    expect_error("svc * @anyvm @anyvm allow autostart=maybe", 1,
                 "invalid value for autostart= (expected yes or no)");
    expect_error("svc * @anyvm @anyvm ask notify=1", 1, "invalid value for notify=");
    expect_error("svc * @anyvm @anyvm allow user=root user=user", 1, "duplicate parameter 'user'");
    expect_error("svc * @anyvm @anyvm allow user=a:b", 1, "invalid user");
    expect_error("svc * @anyvm @anyvm allow target=", 1, "invalid target=");
}

TEST_CASE("parser: malformed lines") {
    expect_error("svc * @anyvm @anyvm", 1, "wrong number of fields");
    expect_error("svc", 1, "wrong number of fields");
    expect_error("@anyvm @anyvm allow", 1, "wrong number of fields");
    expect_error("svc+arg * @anyvm @anyvm allow", 1, "invalid service 'svc+arg'");
    expect_error("sv/c * @anyvm @anyvm allow", 1, "invalid service");
    expect_error("svc arg @anyvm @anyvm allow", 1, "invalid argument 'arg'");
    expect_error("svc +a/b @anyvm @anyvm allow", 1, "invalid argument");
    expect_error("* +arg @anyvm @anyvm allow", 1, "only * argument is allowed with * service");
    expect_error("* + @anyvm @anyvm allow", 1, "only * argument");
    expect_error(std::string("svc * @anyvm @anyvm allow\0", 26), 1, "NUL byte");
    expect_error("!foo bar", 1, "invalid directive '!foo'");
    expect_error("!include", 1, "!include takes exactly one path");
    expect_error("!include a b", 1, "!include takes exactly one path");
    expect_error("!include-dir", 1, "!include-dir takes exactly one path");
    expect_error("!include-service svc *", 1, "!include-service takes SERVICE ARGUMENT PATH");
    expect_error("!compat-4.0", 1, "invalid directive");
    expect_error("svc * @anyvm @default allow", 1,
                 "allow action for @default rule must specify target=");
    CHECK(parse_error("svc * @anyvm @default allow target=vault").empty());
    CHECK(parse_error("svc * @anyvm @default ask").empty());
    // Control bytes are escaped in messages.
    std::string err = parse_error("svc * @anyvm @anyvm al\x1blow");
    CHECK(err.find('\x1b') == std::string::npos);
}

TEST_CASE("parser: problems name the line, all of them, and never a partial policy") {
    std::string text = "# ok\n"
                       "svc * @anyvm @anyvm allow\n"
                       "svc * @anyvm @anyvm bogus\n"
                       "svc * @anyvm\n"
                       "svc * @anyvm @anyvm deny\n";
    auto p = Policy::parse_text(text, "x.policy");
    REQUIRE(!p);
    std::string const& msg = p.error().message();
    CHECK(msg.find("x.policy:3: invalid action 'bogus'") != std::string::npos);
    CHECK(msg.find("x.policy:4: wrong number of fields") != std::string::npos);
    CHECK(msg.find("x.policy:2") == std::string::npos);
}

TEST_CASE("parser: includes need a policy directory") {
    // parse_text without a base: includes are errors (no file is ever read).
    CHECK(parse_error("!include /etc/passwd").find("not allowed here") != std::string::npos);
    CHECK(parse_error("!include-dir /etc").find("not allowed here") != std::string::npos);
    CHECK(parse_error("!include-service svc * /etc/passwd").find("not allowed here") !=
          std::string::npos);
}

TEST_CASE("parser: Token::text round-trips") {
    for (auto const* t :
         {"@anyvm", "@adminvm", "@default", "@dispvm", "@dispvm:x", "@dispvm:@tag:t", "@tag:t",
          "@type:AppVM", "uuid:11111111-2222-3333-4444-555555555555", "work"}) {
        Rule r = only_rule(std::string("svc * @anyvm ") + t + " deny");
        CHECK(r.target.text() == t);
    }
}

TEST_CASE("parser: the per-service index keeps file order and wildcard rules") {
    Policy p = parse("a * @anyvm @anyvm allow\n"
                     "* * @anyvm @anyvm deny\n"
                     "b * @anyvm @anyvm allow\n"
                     "a +x @anyvm @anyvm ask\n");
    CHECK(p.rules_for("a") == std::vector<uint32_t>{0, 1, 3});
    CHECK(p.rules_for("b") == std::vector<uint32_t>{1, 2});
    CHECK(p.rules_for("c") == std::vector<uint32_t>{1});
}
