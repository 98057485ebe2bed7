// A hostile agent making service calls dom0 must refuse: names and arguments at and past
// every limit, targets it may not name, claims to be another domain, ends of calls it does
// not own. Refusals inside the protocol come back as MSG_SERVICE_REFUSED with the call's
// ident and the connection stays; a malformed field makes dom0 hang up (fail closed).
#include "fixture.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/poll.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/session/session.h>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::hostile;
namespace q = bulkhead::rpc::qrexec;

namespace {

constexpr uint32_t T(q::MsgType t) {
    return uint32_t(t);
}

} // namespace

TEST_CASE("hostile agent: service names and arguments at and past every limit", "[hostile]") {
    Fixture f;
    std::string const ident31(31, 'i');
    SECTION("at the limits: refused by policy, the connection stays") {
        // The longest service+argument (64,999 bytes and its NUL), the longest target (63)
        // and ident (31): all well-formed, none allowed.
        std::string longest = "test.Denied+" + std::string(kMarker);
        longest += std::string(q::max_service_name_len - 1 - longest.size(), 'a');
        f.good_during([&] {
            f.bad.send(trigger3("good", ident31, longest));
            CHECK(f.bad.refused() == ident31);
        });
        f.bad.send(trigger3(std::string(kMarker) + std::string(59, 'd'), "HSTL1", "test.Any"));
        CHECK(f.bad.refused() == "HSTL1");
        f.bad.send(trigger3("good", "HSTL2", "test.Denied+"));
        CHECK(f.bad.refused() == "HSTL2");
        // Allowed (test.Echo * with any argument): the call runs.
        f.bad.send(trigger3("good", "HSTL3", "test.Echo+" + std::string(kMarker)));
        auto c = connected(f.bad, "HSTL3");
        auto [code, out] = run_call(f.bad, c, "echo me\n");
        CHECK(code == 0);
        CHECK(out == "echo me\n");
        // Characters outside Qubes' service charset, though a '*' rule would allow the call:
        // dom0 refuses it before policy (a '/' would reach the target's file lookups).
        for (std::string bad_arg : {"/../../x", "a/b", "a;b", "$(x)", "a\\b"}) {
            INFO("argument " << bad_arg);
            f.bad.send(trigger3("good", "HSTL4", "test.Echo+" + std::string(kMarker) + bad_arg));
            CHECK(f.bad.refused() == "HSTL4");
        }
        f.bad.send(trigger3("good", "HSTL5", "test/Echo"));
        CHECK(f.bad.refused() == "HSTL5");
    }
    SECTION("past the limits: dom0 hangs up and kills the domain") {
        struct Case {
            char const* what;
            std::string bytes;
            char const* why;
        };
        std::vector<Case> const cases = {
            {"a service name of 65,000 bytes and its NUL",
             trigger3("good", "HSTL4", std::string(kMarker) + std::string(64996, 's')),
             "MSG_TRIGGER_SERVICE3 too long"},
            {"a target of 64 bytes without NUL",
             frame(T(q::MsgType::TriggerService3), std::string(kMarker) + std::string(60, 't') +
                                                       field("HSTL5", 32) + "test.Any" +
                                                       std::string(1, '\0')),
             "target domain is not NUL-terminated"},
            {"an ident of 32 bytes without NUL", trigger3("good", std::string(32, 'i'), "test.Any"),
             "ident is not NUL-terminated"},
            {"an empty service name", trigger3("good", "HSTL6", ""), "service name is not a name"},
            {"a service name with a space", trigger3("good", "HSTL7", "test.Any HSTL"),
             "service name is not a name"},
            {"a service name with a control character", trigger3("good", "HSTL8", "test.Any\x1b"),
             "service name is not a name"},
            {"a service name with an embedded NUL",
             trigger3("good", "HSTL9", std::string("test.Any\0HSTL", 13)), "embedded NUL"},
            {"a service name without its NUL",
             frame(T(q::MsgType::TriggerService3),
                   field("good", 64) + field("HSTL10", 32) + "test.Any"),
             "service name is not NUL-terminated"},
            {"no service name at all",
             frame(T(q::MsgType::TriggerService3), field("good", 64) + field("HSTL11", 32)),
             "without service name"},
            {"an empty target", trigger3("", "HSTL12", "test.Any"), "target domain is empty"},
        };
        for (auto const& c : cases) {
            INFO("case: " << c.what);
            auto mark = f.log_mark();
            f.bad.send(c.bytes);
            f.dropped(mark, c.why);
            f.restart_hostile();
        }
    }
    f.good_is_fine();
    f.nothing_written_outside();
}

TEST_CASE("hostile agent: targets it may not name", "[hostile]") {
    Fixture f;
    auto before = f.s.ok({"qvm-ls", "--raw-list"});
    auto running = f.s.ok({"qvm-ls", "--raw-list", "--running"});
    // Policy allows test.Any from anyone to @anyvm: what stops these is the target itself.
    std::vector<std::string> const targets = {
        "dom0",         "@adminvm",        "@default",    "@dispvm",
        "@dispvm:good", "@dispvm:HSTLno",  "HSTLnone",    "../../../../tmp/HSTL",
        "@anyvm",       "@tag:HSTL",       "@type:AppVM", "$dispvm",
        "$adminvm",     "@dispvm:dom0",    "/tmp/HSTL",   "good/../HSTL",
        "HSTL\\good",   "@dispvm:@dispvm", "HSTL%2e%2e",  "-HSTL",
    };
    int i = 0;
    for (auto const& t : targets) {
        INFO("target " << t);
        auto ident = "HSTL" + std::to_string(i++);
        f.bad.send(trigger3(t, ident, "test.Any"));
        CHECK(f.bad.refused() == ident);
    }
    // Nothing was created or started on the hostile domain's behalf.
    CHECK(f.s.ok({"qvm-ls", "--raw-list"}) == before);
    CHECK(f.s.ok({"qvm-ls", "--raw-list", "--running"}) == running);
    f.good_is_fine();
    f.nothing_written_outside();
}

TEST_CASE("hostile agent: pretending to be another domain", "[hostile]") {
    Fixture f;
    auto good_id = f.domid("good");
    REQUIRE(good_id > 0);
    SECTION("a name or id in the payload does not make the call good's") {
        // Only good may call test.GoodOnly. The ident, target and a v2 trigger's fields are
        // all the hostile domain's words, not its identity.
        f.bad.send(trigger3("good", "good", "test.GoodOnly"));
        CHECK(f.bad.refused() == "good");
        f.bad.send(frame(T(q::MsgType::TriggerService),
                         field("test.GoodOnly", 64) + field("good", 32) + field("HSTL1", 32)));
        CHECK(f.bad.refused() == "HSTL1");
        // The target's service is told who really called.
        f.bad.send(trigger3("good", "good", "test.WhoAmI"));
        auto c = connected(f.bad, "good");
        CHECK(c.connect_domain == good_id);
        auto [code, out] = run_call(f.bad, c, "");
        CHECK(code == 0);
        CHECK(out == "hostile\n");
    }
    SECTION("ending calls it does not own: good's call runs to its end") {
        auto out = f.s.root() + "/test-out/long-call.out";
        auto sink = sys::open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        auto null = sys::open("/dev/null", O_RDONLY | O_CLOEXEC);
        REQUIRE(sink);
        REQUIRE(null);
        sys::SpawnOptions o;
        o.argv = {f.s.bin() + "/qvm-run", "-p", "good", "echo started; sleep 3; echo done"};
        o.env = f.s.env();
        o.fds = {{0, null->get()}, {1, sink->get()}, {2, sink->get()}};
        auto pid = sys::spawn(o);
        REQUIRE(pid);
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (sys::read_file(out).value_or("") != "started\n" &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(10ms);
        REQUIRE(sys::read_file(out).value_or("") == "started\n");
        // Every port dom0 could have given the call, as ended by dom0 (0), by good and by
        // the hostile domain itself.
        std::string burst;
        for (uint32_t port = q::vchan_base_port; port < 4096; ++port)
            for (uint32_t dom : {0u, uint32_t(good_id), f.bad.id()})
                burst += terminated(dom, port);
        f.bad.send(burst);
        auto st = sys::waitpid(*pid);
        REQUIRE(st);
        CHECK(st->code == 0);
        CHECK(sys::read_file(out).value_or("") == "started\ndone\n");
        // The connection is still fine: a refusal still comes back.
        f.bad.send(trigger3("good", "HSTL2", "test.Denied"));
        CHECK(f.bad.refused() == "HSTL2");
    }
    f.good_is_fine();
    f.nothing_written_outside();
}
