// A hostile agent speaking qrexec v3 badly on the control vchan: wrong HELLO versions and
// sizes, frames past their limits and past 4 GiB, types out of order, truncated frames then
// EOF or silence. Each must be refused (a bad HELLO fails the start; a bad frame after it
// makes dom0 hang up and kill the domain: fail closed, with the validator's reason in the
// log), while good's qvm-run stays within the fixture's latency bound.
#include "fixture.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace bulkhead::hostile;
namespace q = bulkhead::rpc::qrexec;

namespace {

constexpr uint32_t T(q::MsgType t) {
    return uint32_t(t);
}

// Halts the hostile domain (whatever state it is in) so a case can start it its own way.
void halt(Fixture& f) {
    (void)f.s.tool({"qvm-kill", f.bad.name()});
    f.bad.close();
    REQUIRE(f.halted_within(f.bad.name(), 10s));
}

// Starts the hostile domain answering dom0's HELLO with `reply`; qvm-start must fail with
// `why` in its message and leave the domain halted.
void start_refused(Fixture& f, std::string const& reply, std::string const& why) {
    halt(f);
    f.bad.begin_start();
    auto h = f.bad.next(10s);
    REQUIRE(h.kind == Reply::Kind::Message);
    REQUIRE(std::holds_alternative<q::Hello>(*h.message));
    if (!reply.empty())
        f.bad.send(reply);
    auto r = f.bad.finish_start();
    INFO("qvm-start: " << r.err);
    CHECK(r.code != 0);
    CHECK(r.err.find(why) != std::string::npos);
    CHECK(f.bad.closed_within(5s));
    CHECK(f.halted_within(f.bad.name(), 10s));
}

} // namespace

TEST_CASE("hostile agent: wrong protocol versions and sizes at HELLO", "[hostile]") {
    Fixture f;
    WARN("good's qvm-run p99 before: " << f.base_p99 << " s; bound " << f.bound << " s");
    SECTION("versions dom0 does not speak") {
        for (uint32_t v : {0u, 1u})
            start_refused(f, hello(v), "protocol version " + std::to_string(v) + " is too old");
    }
    SECTION("HELLO of the wrong size") {
        start_refused(f, frame(T(q::MsgType::Hello), le32(3) + "x"), "MSG_HELLO too long: 5");
        start_refused(f, frame(T(q::MsgType::Hello), "\3\0"), "MSG_HELLO must be 4 bytes");
        start_refused(f, header(T(q::MsgType::Hello), 0xffffffffu), "too long: 4294967295");
    }
    SECTION("a call before HELLO") {
        start_refused(f, trigger3("good", "HSTL1", "test.Echo"), "not legal here (before HELLO)");
    }
    SECTION("silence after connecting: the start times out (qrexec_timeout 5 s)") {
        f.good_during([&] { start_refused(f, "", "no HELLO"); });
    }
    SECTION("a version from the future is negotiated down to v3") {
        halt(f);
        f.bad.begin_start();
        REQUIRE(f.bad.next(10s).kind == Reply::Kind::Message);
        f.bad.send(hello(0xffffffffu));
        REQUIRE(f.bad.finish_start().code == 0);
        f.bad.send(trigger3("good", "HSTL2", "test.Denied"));
        CHECK(f.bad.refused() == "HSTL2");
    }
    SECTION("a v2 agent is served with v2 messages only") {
        halt(f);
        f.bad.begin_start();
        REQUIRE(f.bad.next(10s).kind == Reply::Kind::Message);
        f.bad.send(hello(2));
        REQUIRE(f.bad.finish_start().code == 0);
        f.bad.send(frame(T(q::MsgType::TriggerService),
                         field("test.Denied", 64) + field("good", 32) + field("HSTL3", 32)));
        CHECK(f.bad.refused() == "HSTL3");
        auto mark = f.log_mark();
        f.bad.send(trigger3("good", "HSTL4", "test.Denied")); // v3 only
        f.dropped(mark, "MSG_TRIGGER_SERVICE3 is not legal here");
    }
    f.good_is_fine();
    f.nothing_written_outside();
}

TEST_CASE("hostile agent: malformed and out-of-order frames after HELLO", "[hostile]") {
    Fixture f;
    struct Case {
        char const* what;
        std::string bytes;
        std::string why; // in dom0's log
    };
    std::string const trigger_max(q::trigger3_fixed_size + q::max_service_name_len, 'x');
    std::vector<Case> const cases = {
        {"a length past 4 GiB", header(T(q::MsgType::TriggerService3), 0xffffffffu),
         "MSG_TRIGGER_SERVICE3 too long: 4294967295"},
        {"a length one past the frame limit",
         header(T(q::MsgType::TriggerService3), uint32_t(trigger_max.size() + 1)),
         "MSG_TRIGGER_SERVICE3 too long: " + std::to_string(trigger_max.size() + 1)},
        {"a length past the data limit on the control vchan",
         header(T(q::MsgType::DataStdout), 0x7fffffffu), "MSG_DATA_STDOUT is not legal here"},
        {"an unknown type", frame(0x12345, "HSTL"), "unknown message type 74565"},
        {"HELLO twice", hello(), "MSG_HELLO is not legal here"},
        {"dom0's own message", frame(T(q::MsgType::ExecCmdline), le32(0) + le32(513) + "root:id"),
         "MSG_EXEC_CMDLINE is not legal here"},
        {"a data message on the control vchan", frame(T(q::MsgType::DataStdout), "HSTL"),
         "MSG_DATA_STDOUT is not legal here"},
        {"an exit code on the control vchan", frame(T(q::MsgType::DataExitCode), le32(0)),
         "MSG_DATA_EXIT_CODE is not legal here"},
        {"a v4 trigger on a v3 connection (its source field would be a claimed identity)",
         frame(T(q::MsgType::TriggerService4), field("good", 64) + field("good", 64) +
                                                   field("HSTL5", 32) + "test.Echo" +
                                                   std::string(1, '\0')),
         "MSG_TRIGGER_SERVICE4 is not legal here"},
        {"CONNECTION_TERMINATED of the wrong size",
         frame(T(q::MsgType::ConnectionTerminated), le32(0)),
         "MSG_CONNECTION_TERMINATED must be 8 bytes"},
        {"SERVICE_REFUSED from the agent", frame(T(q::MsgType::ServiceRefused), field("HSTL", 32)),
         "MSG_SERVICE_REFUSED is not legal here"},
    };
    SECTION("each refused, the domain killed, good unaffected") {
        for (auto const& c : cases) {
            INFO("case: " << c.what);
            auto mark = f.log_mark();
            f.bad.send(c.bytes);
            f.dropped(mark, c.why);
            f.good_is_fine();
            f.restart_hostile();
        }
    }
    SECTION("a truncated frame, then EOF") {
        auto mark = f.log_mark();
        f.bad.send(trigger3("good", "HSTL6", "test.Echo").substr(0, 50));
        f.bad.close();
        CHECK(f.halted_within(f.bad.name(), 10s));
        auto log = f.log_since(mark);
        INFO(log);
        CHECK(log.find("ended mid-frame") != std::string::npos);
    }
    SECTION("a truncated header, then silence; then a truncated payload, then silence") {
        auto call = trigger3("good", "HSTL7", "test.Echo");
        for (size_t cut : {size_t(3), size_t(50)}) {
            INFO("cut after " << cut << " bytes");
            f.bad.send(call.substr(0, cut));
            // dom0 waits for the rest without holding anyone else up.
            f.good_during([&] { std::this_thread::sleep_for(1500ms); });
            CHECK_FALSE(f.bad.closed_within(0ms));
            CHECK(f.s.ok({"qvm-ls", "--raw-list", "--running"}).find("hostile\n") !=
                  std::string::npos);
            // ... and the domain can still be killed at once.
            auto t0 = std::chrono::steady_clock::now();
            f.s.ok({"qvm-kill", "hostile"});
            CHECK(f.bad.closed_within(5s));
            CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() <
                  f.bound);
            f.restart_hostile();
        }
    }
    f.good_is_fine();
    f.nothing_written_outside();
}
