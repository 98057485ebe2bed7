// The real bulkhead-agent binary as a child process, driven by a test dom0 over the socket
// vchan (VCHAN_DOMAIN=5). Runs as whoever runs the tests; the `user` checks need root.
#include "harness.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>

#include <catch2/catch.hpp>

#include <future>
#include <thread>
#include <unistd.h>

using namespace bulkhead;
using namespace bulkhead::test;
using namespace bulkhead::rpc::qrexec;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    Domain domain;
    AgentProcess agent{domain, 5};
    Dom0 dom0{domain, 5};
    Fixture() {
        write_script(domain.services() + "/qubes.Echo", "#!/bin/sh\nexec cat\n");
        write_script(domain.services() + "/test.Env",
                     "#!/bin/sh\necho \"argc=$# 1=$1 full=$QREXEC_SERVICE_FULL_NAME "
                     "arg=$QREXEC_SERVICE_ARGUMENT remote=$QREXEC_REMOTE_DOMAIN\"\n"
                     "test -n \"$QREXEC_AGENT_PID\" || echo no agent pid\n");
        write_script(domain.services() + "/test.Env+special", "#!/bin/sh\necho special $#\n");
        dom0.connect();
    }
};

} // namespace

TEST_CASE_METHOD(Fixture, "agent: exec root:echo hi") {
    auto r = dom0.exec("root", "echo hi");
    REQUIRE(r.code.has_value());
    CHECK(*r.code == 0);
    CHECK(r.out == "hi\n");
    CHECK(r.err.empty());
}

TEST_CASE_METHOD(Fixture, "agent: stdin, stderr, exit codes, nogui:") {
    auto echo = dom0.exec("root", "cat", "line one\nline two\n");
    REQUIRE(echo.code.has_value());
    CHECK(echo.out == "line one\nline two\n");
    auto split = dom0.exec("root", "echo out; echo err >&2; exit 3");
    REQUIRE(split.code.has_value());
    CHECK(*split.code == 3);
    CHECK(split.out == "out\n");
    CHECK(split.err == "err\n");
    auto nogui = dom0.exec("root", "nogui:echo $0");
    REQUIRE(nogui.code.has_value());
    CHECK(nogui.out == "/bin/sh\n");
    auto big = std::string(3u << 20, 'x');
    auto cat = dom0.exec("root", "cat", big);
    REQUIRE(cat.code.has_value());
    CHECK(cat.out.size() == big.size());
}

TEST_CASE_METHOD(Fixture, "agent: users from the passwd file") {
    auto unknown = dom0.exec("nobody-here", "echo hi");
    REQUIRE(unknown.code.has_value());
    CHECK(*unknown.code == 126);
    CHECK(unknown.err.find("does not exist") != std::string::npos);
    auto env = dom0.exec("root", "echo $HOME $USER");
    REQUIRE(env.code.has_value());
    CHECK(env.out == "/root root\n");
    if (::geteuid() == 0) {
        auto user = dom0.exec("user", "id -u; id -g; id -G; echo $HOME; pwd");
        REQUIRE(user.code.has_value());
        CHECK(user.out == "1000\n1000\n1000 1234\n/nonexistent\n/\n");
    }
}

TEST_CASE_METHOD(Fixture, "agent: services: lookup order, argument, environment, not found") {
    auto echo = dom0.exec("root", "QUBESRPC qubes.Echo work", "ping");
    REQUIRE(echo.code.has_value());
    CHECK(*echo.code == 0);
    CHECK(echo.out == "ping");
    auto plain = dom0.exec("root", "QUBESRPC test.Env+abc work");
    REQUIRE(plain.code.has_value());
    CHECK(plain.out == "argc=1 1=abc full=test.Env+abc arg=abc remote=work\n");
    auto special = dom0.exec("root", "QUBESRPC test.Env+special work");
    REQUIRE(special.code.has_value());
    CHECK(special.out == "special 0\n");
    auto noarg = dom0.exec("root", "QUBESRPC test.Env dom0");
    REQUIRE(noarg.code.has_value());
    CHECK(noarg.out == "argc=0 1= full=test.Env arg= remote=dom0\n");
    // /usr/local first: services-local shadows services.
    write_script(domain.root + "/services-local/qubes.Echo", "#!/bin/sh\necho local\n");
    auto local = dom0.exec("root", "QUBESRPC qubes.Echo work");
    REQUIRE(local.code.has_value());
    CHECK(local.out == "local\n");
    auto missing = dom0.exec("root", "QUBESRPC no.Such+thing work");
    REQUIRE(missing.code.has_value());
    CHECK(*missing.code == 127);
    CHECK(missing.err.find("not found") != std::string::npos);
    auto traversal = dom0.exec("root", "QUBESRPC ../services/qubes.Echo work");
    REQUIRE(traversal.code.has_value());
    CHECK(*traversal.code == 127);
    // A non-executable file runs with /bin/sh.
    (void)sys::write_file_atomic(domain.services() + "/test.Script", "echo script $1\n", 0644);
    auto script = dom0.exec("root", "QUBESRPC test.Script+x work");
    REQUIRE(script.code.has_value());
    CHECK(script.out == "script x\n");
}

TEST_CASE_METHOD(Fixture, "agent: socket services get the header, then the stream") {
    auto path = domain.services() + "/test.Sock";
    auto listener = sys::unix_listen(path).value();
    bool skip = false;
    SECTION("with descriptor") {}
    SECTION("skip-service-descriptor") {
        skip = true;
        (void)sys::write_file_atomic(
            domain.root + "/rpc-config/test.Sock",
            "# options\nwait-for-session=0\nskip-service-descriptor=true\n");
    }
    auto server = std::async(std::launch::async, [&] {
        auto fd = sys::accept(listener.get()).value();
        auto in = sys::read_to_end(fd.get()).value();
        (void)sys::write_all(fd.get(), "got:" + in);
        return in;
    });
    auto r = dom0.exec("root", "QUBESRPC test.Sock+arg src", "payload");
    REQUIRE(r.code.has_value());
    CHECK(*r.code == 0);
    std::string header = skip ? "" : std::string("test.Sock+arg src") + '\0';
    CHECK(server.get() == header + "payload");
    CHECK(r.out == "got:" + header + "payload");
}

TEST_CASE_METHOD(Fixture, "agent: 100 concurrent execs") {
    constexpr int n = 100;
    std::vector<std::unique_ptr<rpc::Listener>> listeners;
    std::vector<rpc::Port> ports;
    for (int i = 0; i < n; ++i) {
        auto port = dom0.next_port();
        listeners.push_back(dom0.transport().listen(5, port).value());
        ports.push_back(port);
        dom0.send(ExecCmdline{0, port, "root", "echo " + std::to_string(i) + "; cat"});
    }
    std::vector<std::future<Output>> calls;
    for (int i = 0; i < n; ++i)
        calls.push_back(std::async(std::launch::async, [&, i] {
            auto ch = rpc::accept_wait(*listeners[size_t(i)], 60s);
            if (!ch) {
                Output o;
                o.code = std::move(ch).error();
                return o;
            }
            return call(**ch, "in" + std::to_string(i));
        }));
    for (int i = 0; i < n; ++i) {
        auto o = calls[size_t(i)].get();
        REQUIRE(o.code.has_value());
        CHECK(*o.code == 0);
        CHECK(o.out == std::to_string(i) + "\nin" + std::to_string(i));
    }
    for (auto port : ports)
        CHECK(dom0.wait_terminated(0, port, 30s));
}

TEST_CASE_METHOD(Fixture, "agent: a bad frame from dom0 closes the connection, dom0 reconnects") {
    SECTION("garbage") {
        dom0.send_raw(std::vector<std::byte>(16, std::byte{0xee}));
    }
    SECTION("a message only an agent sends") {
        dom0.send(TriggerService3{"x", "1", "y"});
    }
    SECTION("a second HELLO") {
        dom0.send(Hello{});
    }
    auto end = dom0.next(10s);
    REQUIRE_FALSE(end.has_value());
    CHECK(end.error().code() == Errc::Closed);
    dom0.connect();
    auto r = dom0.exec("root", "echo again");
    REQUIRE(r.code.has_value());
    CHECK(r.out == "again\n");
}

TEST_CASE_METHOD(Fixture, "agent: MSG_JUST_EXEC runs without streams") {
    auto marker = domain.root + "/just-exec";
    auto port = dom0.next_port();
    dom0.send(JustExec{0, port, "root", "echo ran > " + marker});
    CHECK(dom0.wait_terminated(0, port, 10s));
    std::string content;
    for (int i = 0; i < 1000 && content != "ran\n"; ++i) {
        std::this_thread::sleep_for(10ms);
        content = sys::read_file(marker).value_or("");
    }
    CHECK(content == "ran\n");
}

TEST_CASE_METHOD(Fixture, "agent: SIGTERM stops running requests and exits 0") {
    auto port = dom0.next_port();
    auto listener = dom0.transport().listen(5, port).value();
    dom0.send(ExecCmdline{0, port, "root", "sleep 100"});
    auto ch = rpc::accept_wait(*listener, 10s).value();
    auto start = std::chrono::steady_clock::now();
    CHECK(agent.terminate() == 0);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
}
