// Evaluation semantics, case by case (Qubes 4.2): first match, tokens on each side, the
// requested-target normalisation, redirects, @dispvm resolution, autostart, and the set of
// targets an `ask` offers. System info: policy_test_util.h.
#include "policy_test_util.h"

#include <bulkhead/base/sys/proc.h>

using namespace policy_test;

namespace {
std::string const kAllow = "allow target=";
std::string const kDefaults = " user=DEFAULT autostart=yes notify=no";
std::string allow_line(std::string const& t) {
    return kAllow + t + kDefaults;
}
std::string const kDeny = "deny notify=yes";
} // namespace

TEST_CASE("evaluate: no rule, first match wins, no match denies") {
    CHECK(eval("", "work", "vault", "svc") == kDeny);
    std::string p = "svc * work vault deny notify=no\n"
                    "svc * @anyvm @anyvm allow\n";
    CHECK(eval(p, "work", "vault", "svc") == "deny notify=no");
    CHECK(eval(p, "personal", "vault", "svc") == allow_line("vault"));
    CHECK(eval(p, "work", "vault", "other") == kDeny);
    CHECK(eval("svc * @anyvm @anyvm deny", "work", "vault", "svc") == kDeny);
}

TEST_CASE("evaluate: unknown source or invalid service denies") {
    std::string p = "* * @anyvm @anyvm allow\n";
    CHECK(eval(p, "ghost", "vault", "svc") == kDeny);
    CHECK(eval(p, "work", "vault", "*") == kDeny);
    CHECK(eval(p, "work", "vault", "") == kDeny);
    CHECK(eval(p, "work", "vault", "+arg") == kDeny);
    CHECK(eval(p, "work", "vault", "any.Service+arg") == allow_line("vault"));
}

TEST_CASE("evaluate: service argument") {
    std::string p = "svc +a @anyvm @anyvm allow\n"
                    "svc + @anyvm @anyvm deny notify=no\n"
                    "svc * @anyvm @anyvm allow user=star\n";
    CHECK(eval(p, "work", "vault", "svc+a") == allow_line("vault"));
    CHECK(eval(p, "work", "vault", "svc") == "deny notify=no");
    CHECK(eval(p, "work", "vault", "svc+") == "deny notify=no");
    CHECK(eval(p, "work", "vault", "svc+b") ==
          "allow target=vault user=star autostart=yes notify=no");
    CHECK(eval(p, "work", "vault", "svc+a+b") ==
          "allow target=vault user=star autostart=yes notify=no");
}

TEST_CASE("evaluate: @anyvm never matches dom0") {
    std::string p = "svc * @anyvm @anyvm allow\n";
    CHECK(eval(p, "work", "dom0", "svc") == kDeny);
    CHECK(eval(p, "work", "@adminvm", "svc") == kDeny);
    CHECK(eval(p, "dom0", "work", "svc") == kDeny);
    CHECK(eval(p, "work", "uuid:00000000-0000-0000-0000-000000000000", "svc") == kDeny);
}

TEST_CASE("evaluate: @adminvm and dom0 name dom0") {
    for (auto const* tok : {"@adminvm", "dom0"}) {
        std::string p = std::string("svc * @anyvm ") + tok + " allow\n";
        CHECK(eval(p, "work", "dom0", "svc") == allow_line("dom0"));
        CHECK(eval(p, "work", "@adminvm", "svc") == allow_line("dom0"));
        CHECK(eval(p, "work", "vault", "svc") == kDeny);
        p = std::string("svc * ") + tok + " work allow\n";
        CHECK(eval(p, "dom0", "work", "svc") == allow_line("work"));
        CHECK(eval(p, "@adminvm", "work", "svc") == allow_line("work"));
        CHECK(eval(p, "vault", "work", "svc") == kDeny);
    }
}

TEST_CASE("evaluate: @tag: and @type: never match dom0") {
    std::string p = "svc * @tag:work @tag:work allow\n";
    CHECK(eval(p, "work", "sys-usb", "svc") == allow_line("sys-usb"));
    CHECK(eval(p, "work", "dom0", "svc") == kDeny);
    CHECK(eval(p, "dom0", "work", "svc") == kDeny);
    CHECK(eval(p, "personal", "work", "svc") == kDeny);
    CHECK(eval(p, "work", "personal", "svc") == kDeny);

    p = "svc * @type:AppVM @type:TemplateVM allow\n"
        "svc * @type:DispVM @type:StandaloneVM allow\n"
        "svc * @anyvm @type:AdminVM allow\n"
        "svc * @type:AdminVM @anyvm allow\n";
    CHECK(eval(p, "work", "fedora", "svc") == allow_line("fedora"));
    CHECK(eval(p, "work", "vault", "svc") == kDeny);
    CHECK(eval(p, "disp1", "fedora", "svc") == kDeny);
    CHECK(eval(p, "disp1", "net", "svc") == allow_line("net"));
    CHECK(eval(p, "work", "dom0", "svc") == kDeny);
    CHECK(eval(p, "dom0", "work", "svc") == kDeny);
}

TEST_CASE("evaluate: literal names and uuid:") {
    std::string p = "svc * work vault allow\n"
                    "svc * uuid:11111111-2222-3333-4444-555555555555 "
                    "uuid:00000000-0000-0000-0000-000000000000 allow\n"
                    "svc * personal uuid:11111111-2222-3333-4444-555555555555 allow\n";
    CHECK(eval(p, "work", "vault", "svc") == allow_line("vault"));
    CHECK(eval(p, "vault", "work", "svc") == kDeny);
    CHECK(eval(p, "work", "dom0", "svc") == allow_line("dom0"));
    CHECK(eval(p, "personal", "work", "svc") == allow_line("work"));
    // A request may name its target by uuid too; qrexec gets the name.
    CHECK(eval(p, "personal", std::string("uuid:") + kWorkUuid, "svc") == allow_line("work"));
    CHECK(eval(p, "work", "uuid:33333333-2222-3333-4444-555555555555", "svc") ==
          allow_line("vault"));
}

TEST_CASE("evaluate: @default, and unknown targets count as @default") {
    std::string p = "svc * @anyvm @default allow target=vault\n"
                    "svc * @anyvm work allow\n";
    CHECK(eval(p, "work", "", "svc") == allow_line("vault"));
    CHECK(eval(p, "work", "@default", "svc") == allow_line("vault"));
    CHECK(eval(p, "personal", "work", "svc") == allow_line("work"));
    CHECK(eval(p, "personal", "vault", "svc") == kDeny);
    // Nonexistent names, uuids, non-template @dispvm:X and unknown keywords.
    for (auto const* t : {"ghost", "uuid:abababab-2222-3333-4444-555555555555", "@dispvm:vault",
                          "@dispvm:ghost", "@anyvm", "@tag:work", "@bogus"}) {
        INFO(t);
        CHECK(eval(p, "work", t, "svc") == allow_line("vault"));
    }
    // allow with neither a requested nor a redirected target denies.
    CHECK(eval("svc * @anyvm @anyvm allow", "work", "", "svc") == kDeny);
}

TEST_CASE("evaluate: @dispvm resolves through the source's default_dispvm") {
    std::string p = "svc * @anyvm @dispvm allow\n";
    CHECK(eval(p, "work", "@dispvm", "svc") == allow_line("@dispvm:default-dvm"));
    CHECK(eval(p, "personal", "@dispvm", "svc") == allow_line("@dispvm:other-dvm"));
    CHECK(eval(p, "vault", "@dispvm", "svc") == kDeny); // no default_dispvm
    CHECK(eval(p, "work", "@dispvm:default-dvm", "svc") == kDeny);

    p = "svc * @anyvm @dispvm:default-dvm allow\n";
    CHECK(eval(p, "work", "@dispvm", "svc") == allow_line("@dispvm:default-dvm"));
    CHECK(eval(p, "work", "@dispvm:default-dvm", "svc") == allow_line("@dispvm:default-dvm"));
    CHECK(eval(p, "personal", "@dispvm", "svc") == kDeny);
    CHECK(eval(p, "work", "@dispvm:other-dvm", "svc") == kDeny);
    CHECK(eval(p, "work", "default-dvm", "svc") == kDeny);

    p = "svc * @anyvm @dispvm:@tag:dvmtag allow\n";
    CHECK(eval(p, "work", "@dispvm:default-dvm", "svc") == allow_line("@dispvm:default-dvm"));
    CHECK(eval(p, "work", "@dispvm", "svc") == allow_line("@dispvm:default-dvm"));
    CHECK(eval(p, "work", "@dispvm:other-dvm", "svc") == kDeny);
    CHECK(eval(p, "personal", "@dispvm", "svc") == kDeny);

    // @anyvm covers disposables too.
    p = "svc * @anyvm @anyvm allow\n";
    CHECK(eval(p, "work", "@dispvm", "svc") == allow_line("@dispvm:default-dvm"));
    CHECK(eval(p, "work", "@dispvm:other-dvm", "svc") == allow_line("@dispvm:other-dvm"));
}

TEST_CASE("evaluate: disposables as source") {
    std::string p = "svc * @dispvm:default-dvm vault allow\n"
                    "svc * @dispvm:@tag:dvmtag work allow\n";
    CHECK(eval(p, "disp1", "vault", "svc") == allow_line("vault"));
    CHECK(eval(p, "work", "vault", "svc") == kDeny);
    CHECK(eval(p, "disp1", "work", "svc") == allow_line("work"));
    CHECK(eval(p, "default-dvm", "work", "svc") == kDeny);
}

TEST_CASE("evaluate: target= redirects as Qubes does") {
    std::string p = "svc * work @anyvm allow target=vault\n";
    CHECK(eval(p, "work", "personal", "svc") == allow_line("vault"));
    CHECK(eval(p, "work", "@dispvm", "svc") == allow_line("vault"));
    CHECK(eval(p, "work", "", "svc") == allow_line("vault")); // @anyvm matches @default
    CHECK(eval(p, "work", "dom0", "svc") == kDeny);
    CHECK(eval(p, "personal", "vault", "svc") == kDeny);
}

TEST_CASE("evaluate: @anyvm matches @default and redirect wins over earlier denies") {
    std::string p = "svc * @anyvm vault deny\n"
                    "svc * work @anyvm allow target=vault\n";
    // The redirect stands even though an earlier rule denies vault (Qubes: intentional).
    CHECK(eval(p, "work", "personal", "svc") == allow_line("vault"));
    CHECK(eval(p, "work", "@default", "svc") == allow_line("vault"));
    CHECK(eval(p, "work", "vault", "svc") == kDeny);
}

TEST_CASE("evaluate: redirect targets resolve") {
    auto with = [](std::string const& target, std::string const& source = "work") {
        return eval("svc * @anyvm @anyvm allow target=" + target, source, "vault", "svc");
    };
    CHECK(with("@dispvm") == allow_line("@dispvm:default-dvm"));
    CHECK(with("@dispvm", "personal") == allow_line("@dispvm:other-dvm"));
    CHECK(with("@dispvm", "vault") == kDeny);
    CHECK(with("@dispvm:other-dvm") == allow_line("@dispvm:other-dvm"));
    CHECK(with("@dispvm:vault") == kDeny); // not a disposable template
    CHECK(with("@adminvm") == allow_line("dom0"));
    CHECK(with("dom0") == allow_line("dom0"));
    CHECK(with("ghost") == kDeny);
    CHECK(with(std::string("uuid:") + kWorkUuid) == allow_line("work"));
    CHECK(with("uuid:abababab-2222-3333-4444-555555555555") == kDeny);
}

TEST_CASE("evaluate: user, notify and autostart parameters") {
    CHECK(eval("svc * @anyvm @anyvm allow user=root notify=yes", "work", "vault", "svc") ==
          "allow target=vault user=root autostart=yes notify=yes");
    CHECK(eval("svc * @anyvm @anyvm allow user=", "work", "vault", "svc") == allow_line("vault"));
    std::string p = "svc * @anyvm @anyvm allow autostart=no\n"
                    "svc * @anyvm @adminvm allow autostart=no\n"
                    "svc2 * @anyvm @anyvm allow autostart=no notify=yes\n";
    // autostart=no: only a running target; power_state decides.
    CHECK(eval(p, "vault", "work", "svc") ==
          "allow target=work user=DEFAULT autostart=no notify=no");
    CHECK(eval(p, "vault", "disp1", "svc") ==
          "allow target=disp1 user=DEFAULT autostart=no notify=no");
    CHECK(eval(p, "work", "vault", "svc") == "deny notify=no");
    CHECK(eval(p, "work", "net", "svc") == "deny notify=no"); // Paused
    CHECK(eval(p, "work", "vault", "svc2") == "deny notify=yes");
    CHECK(eval(p, "work", "@dispvm", "svc") == "deny notify=no"); // a new disposable
    CHECK(eval(p, "work", "dom0", "svc") == "allow target=dom0 user=DEFAULT autostart=no "
                                            "notify=no");
    CHECK(eval("svc * @anyvm @anyvm allow autostart=yes", "work", "vault", "svc") ==
          allow_line("vault"));
}

TEST_CASE("ask: offers every target the policy would allow or ask for") {
    std::string all = "@dispvm:default-dvm,@dispvm:other-dvm,default-dvm,disp1,fedora,net,"
                      "other-dvm,personal,vault,work";
    CHECK(eval("svc * @anyvm @anyvm ask", "work", "", "svc") ==
          "ask default_target=- targets=" + all + kDefaults);
    // The requested target is not preselected; only default_target= is.
    CHECK(eval("svc * @anyvm @anyvm ask", "work", "vault", "svc") ==
          "ask default_target=- targets=" + all + kDefaults);
    std::string p = "svc * @anyvm vault deny\n"
                    "svc * @anyvm @tag:work allow\n"
                    "svc * @anyvm @anyvm ask default_target=personal\n";
    CHECK(eval(p, "work", "personal", "svc") ==
          "ask default_target=personal targets=@dispvm:default-dvm,@dispvm:other-dvm,"
          "default-dvm,disp1,fedora,net,other-dvm,personal,work" +
              kDefaults);
}

TEST_CASE("ask: only rules for this source and argument count") {
    std::string p = "svc * personal vault allow\n"
                    "svc +x work fedora allow\n"
                    "other * work net allow\n"
                    "svc * work personal allow\n"
                    "svc * work @tag:personal ask\n"
                    "svc * work @default ask user=u notify=yes\n";
    CHECK(eval(p, "work", "", "svc") ==
          "ask default_target=- targets=personal user=u autostart=yes notify=yes");
    CHECK(eval(p, "work", "", "svc+x") ==
          "ask default_target=- targets=fedora,personal user=u autostart=yes notify=yes");
    // Wildcard-service rules take part.
    p = "* * work vault allow\nsvc * work @default ask\n";
    CHECK(eval(p, "work", "", "svc") == "ask default_target=- targets=vault" + kDefaults);
}

TEST_CASE("ask: deny rules remove earlier-listed targets, in rule order") {
    CHECK(eval("svc * work vault allow\nsvc * work vault deny\nsvc * work @default ask", "work", "",
               "svc") == "ask default_target=- targets=vault" + kDefaults);
    CHECK(eval("svc * work vault deny\nsvc * work vault allow\nsvc * work @default ask", "work", "",
               "svc") == kDeny);
    // Tokens are compared before @dispvm is resolved.
    CHECK(eval("svc * work @dispvm:default-dvm deny\nsvc * work @dispvm allow\n"
               "svc * work @default ask",
               "work", "",
               "svc") == "ask default_target=- targets=@dispvm:default-dvm" + kDefaults);
    CHECK(eval("svc * work @dispvm deny\nsvc * work @anyvm allow\nsvc * work @default ask", "vault",
               "", "svc") == kDeny); // rules for work do not apply to vault
}

TEST_CASE("ask: target= redirects") {
    CHECK(eval("svc * work personal allow target=vault\nsvc * work @default ask", "work", "",
               "svc") == "ask default_target=- targets=vault" + kDefaults);
    CHECK(eval("svc * @anyvm @anyvm ask target=vault default_target=vault", "work", "personal",
               "svc") == "ask default_target=vault targets=vault" + kDefaults);
    CHECK(eval("svc * @anyvm @anyvm ask target=@dispvm default_target=@dispvm", "work", "personal",
               "svc") ==
          "ask default_target=@dispvm:default-dvm targets=@dispvm:default-dvm" + kDefaults);
    CHECK(eval("svc * @anyvm @anyvm ask target=@dispvm", "vault", "personal", "svc") == kDeny);
    CHECK(eval("svc * @anyvm @anyvm ask target=ghost", "work", "personal", "svc") == kDeny);
}

TEST_CASE("ask: default_target") {
    CHECK(eval("svc * work vault allow\nsvc * work @default ask default_target=personal", "work",
               "", "svc") == "ask default_target=- targets=vault" + kDefaults);
    CHECK(eval("svc * work @dispvm allow\nsvc * work @default ask default_target=@dispvm", "work",
               "", "svc") ==
          "ask default_target=@dispvm:default-dvm targets=@dispvm:default-dvm" + kDefaults);
    CHECK(eval("svc * work dom0 allow\nsvc * work @default ask default_target=@adminvm", "work", "",
               "svc") == "ask default_target=dom0 targets=dom0" + kDefaults);
    CHECK(eval("svc * work dom0 allow\nsvc * work @default ask default_target=dom0", "work", "",
               "svc") == "ask default_target=dom0 targets=dom0" + kDefaults);
    CHECK(eval("svc * work vault allow\nsvc * work @default ask default_target=uuid:"
               "33333333-2222-3333-4444-555555555555",
               "work", "", "svc") == "ask default_target=vault targets=vault" + kDefaults);
}

TEST_CASE("ask: dom0 is offered only when a rule names it") {
    CHECK(eval("svc * @anyvm @adminvm ask", "work", "dom0", "svc") ==
          "ask default_target=- targets=dom0" + kDefaults);
    CHECK(eval("svc * @anyvm dom0 ask default_target=dom0", "work", "dom0", "svc") ==
          "ask default_target=dom0 targets=dom0" + kDefaults);
    CHECK(eval("svc * @anyvm @anyvm ask", "work", "", "svc").find("dom0") == std::string::npos);
}

TEST_CASE("ask: internal domains are never offered") {
    CHECK(eval("svc * @anyvm sys-usb allow\nsvc * @anyvm @default ask", "work", "", "svc") ==
          kDeny);
    CHECK(eval("svc * @anyvm @anyvm ask target=sys-usb", "work", "vault", "svc") == kDeny);
    CHECK(eval("svc * @anyvm @tag:work ask", "work", "work", "svc") ==
          "ask default_target=- targets=work" + kDefaults);
    // ...but allow is not a prompt: an explicit rule may allow an internal domain.
    CHECK(eval("svc * @anyvm sys-usb allow", "work", "sys-usb", "svc") == allow_line("sys-usb"));
}

TEST_CASE("ask: autostart=no offers running domains only") {
    CHECK(eval("svc * @anyvm @anyvm ask autostart=no", "vault", "", "svc") ==
          "ask default_target=- targets=disp1,work user=DEFAULT autostart=no notify=no");
    CHECK(eval("svc * @anyvm dom0 allow\nsvc * @anyvm @default ask autostart=no", "vault", "",
               "svc") == "ask default_target=- targets=dom0 user=DEFAULT autostart=no notify=no");
    CHECK(eval("svc * @anyvm @anyvm ask autostart=no target=vault", "work", "", "svc") == kDeny);
}

TEST_CASE("ask: a source without default_dispvm gets no @dispvm") {
    CHECK(eval("svc * @anyvm @dispvm allow\nsvc * @anyvm @default ask", "vault", "", "svc") ==
          kDeny);
    CHECK(eval("svc * @anyvm @dispvm allow\nsvc * @anyvm @default ask", "personal", "", "svc") ==
          "ask default_target=- targets=@dispvm:other-dvm" + kDefaults);
}

TEST_CASE("evaluate: a pure function of its inputs") {
    Policy p = parse("svc * @anyvm @anyvm ask\nsvc2 * @anyvm @dispvm allow\n");
    auto req = make_request("work", "vault", "svc");
    auto a = format_decision(evaluate(p, req, system_info()));
    for (int i = 0; i < 3; ++i)
        CHECK(format_decision(evaluate(p, req, system_info())) == a);
    // The same request from another source is another decision: the source is the caller's.
    CHECK(format_decision(evaluate(p, make_request("vault", "@dispvm", "svc2"), system_info())) ==
          kDeny);
}

TEST_CASE("evaluate: the default policy") {
    std::string dir = sys::getenv_or("BULKHEAD_SOURCE_DIR", BULKHEAD_SOURCE_DIR_FALLBACK);
    auto p = Policy::load({dir + "/policy/policy.d"});
    REQUIRE(p);
    auto e = [&](char const* src, char const* tgt, char const* svc) {
        return format_decision(evaluate(*p, make_request(src, tgt, svc), system_info()));
    };
    CHECK(e("work", "vault", "qubes.Filecopy").rfind("ask default_target=- targets=", 0) == 0);
    CHECK(e("work", "@dispvm", "qubes.OpenInVM") == allow_line("@dispvm:default-dvm"));
    CHECK(e("work", "vault", "qubes.OpenInVM").rfind("ask ", 0) == 0);
    CHECK(e("work", "vault", "qubes.ClipboardPaste").rfind("ask ", 0) == 0);
    CHECK(e("work", "@dispvm", "qubes.VMShell") == allow_line("@dispvm:default-dvm"));
    CHECK(e("work", "vault", "qubes.VMShell") == kDeny);
    CHECK(e("work", "dom0", "qubes.VMShell") == kDeny);
    CHECK(e("work", "dom0", "admin.vm.List") == kDeny);
    CHECK(e("work", "vault", "admin.vm.Start") == kDeny);
    CHECK(e("work", "vault", "qubes.Echo") == kDeny);
    CHECK(e("work", "vault", "qubes.Hostname") == kDeny);
}

TEST_CASE("service calls from guests: Qubes' charset, checked before policy", "[policy]") {
    using bulkhead::policy::valid_service_call;
    CHECK(valid_service_call("qubes.Filecopy"));
    CHECK(valid_service_call("qubes.Filecopy+"));
    CHECK(valid_service_call("test.Echo+a-b_c.d+e"));
    CHECK(valid_service_call("test.Echo+" + std::string(1000, 'a'))); // only '*' rules match
    CHECK_FALSE(valid_service_call(""));
    CHECK_FALSE(valid_service_call("+arg"));
    CHECK_FALSE(valid_service_call(std::string(65, 's')));
    for (char const* bad : {"test/Echo", "test.Echo+../x", "test.Echo+a/b", "test.Echo+a b",
                            "test.Echo+$(x)", "test.Echo+a;b", "test.Echo+a\\b", "t\xc3\xa9st"}) {
        INFO(bad);
        CHECK_FALSE(valid_service_call(bad));
    }
}
