// qrexec-client-vm against the real agent: the trigger reaches the test dom0 as
// MSG_TRIGGER_SERVICE3, refusals exit 126, and a connected call runs against a second agent
// (domain 7) as the target, the way dom0 routes a VM-to-VM call.
#include "harness.h"

#include <catch2/catch.hpp>

#include <future>

using namespace bulkhead;
using namespace bulkhead::test;
using namespace bulkhead::rpc::qrexec;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    Domain domain;
    AgentProcess source{domain, 5};
    AgentProcess target{domain, 7};
    Dom0 dom0{domain, 5};
    Dom0 dom0_target{domain, 7};
    Fixture() {
        write_script(domain.services() + "/qubes.Echo", "#!/bin/sh\nexec cat\n");
        write_script(domain.services() + "/test.Exit",
                     "#!/bin/sh\necho from $QREXEC_REMOTE_DOMAIN arg=$1; echo e >&2; exit 5\n");
        dom0.connect();
        dom0_target.connect();
    }

    std::future<ProgramResult> client(std::vector<std::string> args, std::string input) {
        std::vector<std::string> argv = {bin_dir() + "/qrexec-client-vm", "--agent-socket",
                                         source.socket()};
        argv.insert(argv.end(), args.begin(), args.end());
        return std::async(std::launch::async, [argv, input, this] {
            return run_program(argv, {"VCHAN_DOMAIN=5", "VCHAN_SOCKET_DIR=" + domain.vchan()},
                               input);
        });
    }

    TriggerService3 trigger() {
        for (;;) {
            auto m = dom0.next(20s).value();
            REQUIRE(m.has_value());
            if (auto* t = std::get_if<TriggerService3>(&*m))
                return *t;
        }
    }

    // Plays dom0 for an allowed call: SERVICE_CONNECT to the source, EXEC_CMDLINE to the target.
    void connect(TriggerService3 const& t, rpc::Port port, std::string const& source_name) {
        dom0.send(ServiceConnect{7, port, t.ident});
        dom0_target.send(
            ExecCmdline{5, port, "root", "QUBESRPC " + t.service_name + " " + source_name});
    }
};

} // namespace

TEST_CASE_METHOD(Fixture, "qrexec-client-vm: trigger fields, refusal exits 126") {
    auto c = client({"work", "qubes.Echo+hello"}, "");
    auto t = trigger();
    CHECK(t.target_domain == "work");
    CHECK(t.service_name == "qubes.Echo+hello");
    CHECK_FALSE(t.ident.empty());
    dom0.send(ServiceRefused{t.ident});
    auto r = c.get();
    CHECK(r.code == 126);
    CHECK(r.err.find("refused") != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "qrexec-client-vm: idents are unique per call") {
    auto a = client({"work", "qubes.Echo"}, "");
    auto ta = trigger();
    auto b = client({"work", "qubes.Echo"}, "");
    auto tb = trigger();
    CHECK(ta.ident != tb.ident);
    dom0.send(ServiceRefused{tb.ident});
    dom0.send(ServiceRefused{ta.ident});
    CHECK(a.get().code == 126);
    CHECK(b.get().code == 126);
}

TEST_CASE_METHOD(Fixture, "qrexec-client-vm: a connected call gets output and exit code") {
    auto c = client({"@default", "test.Exit+xy"}, "");
    auto t = trigger();
    CHECK(t.target_domain == "@default");
    connect(t, 600, "source-vm");
    auto r = c.get();
    CHECK(r.code == 5);
    CHECK(r.out == "from source-vm arg=xy\n");
    CHECK(r.err == "e\n");
    CHECK(dom0_target.wait_terminated(5, 600, 10s));
}

TEST_CASE_METHOD(Fixture, "qrexec-client-vm: stdin streams to the target") {
    std::string data(1u << 20, 'q');
    auto c = client({"work", "qubes.Echo"}, data);
    connect(trigger(), 601, "source-vm");
    auto r = c.get();
    CHECK(r.code == 0);
    CHECK(r.out == data);
}

TEST_CASE_METHOD(Fixture, "qrexec-client-vm: LOCAL_PROGRAM gets the remote streams") {
    // The local program sends a line and prints what comes back, upper-cased.
    auto c =
        client({"work", "qubes.Echo", "/bin/sh", "-c", "echo hello; exec >&-; tr a-z A-Z >&2"}, "");
    connect(trigger(), 602, "source-vm");
    auto r = c.get();
    CHECK(r.code == 0);
    CHECK(r.err == "HELLO\n");
}

TEST_CASE_METHOD(Fixture, "qrexec-client-vm: with LOCAL_PROGRAM, its exit status is the answer") {
    // The remote service exits 5; the local program (a packer that checks the peer's
    // confirmation, say) decides: 3.
    auto c = client({"@default", "test.Exit+xy", "/bin/sh", "-c", "cat >/dev/null; exit 3"}, "");
    connect(trigger(), 603, "source-vm");
    CHECK(c.get().code == 3);
}

TEST_CASE_METHOD(Fixture, "qrexec-client-vm: dom0 gone means refused") {
    auto c = client({"work", "qubes.Echo"}, "");
    (void)trigger();
    dom0.send_raw(std::vector<std::byte>(8, std::byte{0xff})); // agent drops dom0
    auto r = c.get();
    CHECK(r.code == 126);
}
