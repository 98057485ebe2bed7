// FrameReader and FrameWriter over real Channels: a loopback with every fault at once
// (short reads and writes, a small buffer, stalls) and the socket vchan, carrying a control
// exchange and a data stream whose bytes must arrive intact and in order.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/rpc/loopback_channel.h>
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/qrexec/frame_writer.h>
#include <bulkhead/rpc/socket_vchan.h>

#include <catch2/catch.hpp>

#include <string>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::rpc;
using namespace bulkhead::rpc::qrexec;
using namespace std::chrono_literals;

namespace {

// Reads messages until one arrives (or the channel fails / the deadline passes).
Result<ValidatedMessage> next_blocking(Channel& ch, FrameReader& r) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
        auto m = TRY(r.next(ch));
        if (m)
            return std::move(*m);
        if (std::chrono::steady_clock::now() > deadline)
            return unexpected(Errc::Timeout, "no message");
        TRY(wait_ready(ch, WantWrite::No, 100ms));
    }
}

std::vector<std::byte> pattern(size_t n) {
    std::vector<std::byte> out(n);
    for (size_t i = 0; i < n; ++i)
        out[i] = std::byte(i * 7 + i / 251);
    return out;
}

// Sends HELLO, `total` bytes of stdout in `chunk`-sized pushes, EOF, exit code 3.
Result<void> send_stream(Channel& ch, std::vector<std::byte> const& data, size_t chunk) {
    FrameWriter w;
    TRY(w.push(Hello{}));
    for (size_t at = 0; at < data.size(); at += chunk)
        w.push_data(Stream::Stdout, std::span(data).subspan(at, std::min(chunk, data.size() - at)));
    w.push_data(Stream::Stdout, {});
    TRY(w.push(ExitCode{3}));
    return w.flush_all(ch, 30s);
}

// Receives what send_stream sent; returns the stdout bytes, checks EOF then the exit code.
std::vector<std::byte> receive_stream(Channel& ch) {
    FrameReader r(Expect::Data);
    auto hello = next_blocking(ch, r);
    if (!hello)
        FAIL(hello.error().message());
    REQUIRE(std::holds_alternative<Hello>(hello->message));
    std::vector<std::byte> got;
    for (;;) {
        auto m = next_blocking(ch, r);
        REQUIRE(m.has_value());
        auto* d = std::get_if<DataChunk>(&m->message);
        REQUIRE(d != nullptr);
        CHECK(d->stream == Stream::Stdout);
        CHECK(d->bytes.size() <= max_data_chunk_v3);
        if (d->bytes.empty())
            break;
        got.insert(got.end(), d->bytes.begin(), d->bytes.end());
    }
    auto exit = next_blocking(ch, r);
    REQUIRE(exit.has_value());
    CHECK(std::get<ExitCode>(exit->message).code == 3);
    auto eof = r.next(ch);
    if (eof && !*eof) { // nothing yet: wait for the close
        (void)wait_ready(ch, WantWrite::No, 5s);
        eof = r.next(ch);
    }
    REQUIRE_FALSE(eof.has_value());
    CHECK(eof.error().code() == Errc::Closed);
    return got;
}

} // namespace

TEST_CASE("a qrexec stream survives short reads and writes, a tiny buffer and stalls") {
    auto [a, b] = LoopbackChannel::create_pair(0, 2, 513).value();
    a->set_faults({.max_write = 5, .capacity = 777, .stall_writes = 3});
    b->set_faults({.max_read = 7, .stall_reads = 5});
    auto data = pattern(300000);
    Result<void> sent;
    std::thread writer([&, &a = a] {
        sent = send_stream(*a, data, 100000); // split into 64 KiB frames by push_data
        a->close();
    });
    auto got = receive_stream(*b);
    writer.join();
    REQUIRE(sent.has_value());
    CHECK(got == data);
}

TEST_CASE("a qrexec stream over the socket vchan, 1 MiB in odd-sized pushes") {
    auto dir = sys::make_temp_dir("/tmp/bulkhead-qrexec-vchan-").value();
    SocketTransport dom0(dir, 0);
    SocketTransport guest(dir, 4);
    auto listener = guest.listen(0, 514).value();
    auto data = pattern(1 << 20);
    Result<void> sent;
    std::thread writer([&] {
        auto ch = dom0.connect(4, 514, 5s);
        if (!ch) {
            sent = std::move(ch).error();
            return;
        }
        sent = send_stream(**ch, data, 12345);
    });
    auto server = accept_wait(*listener, 5s).value();
    CHECK(server->peer_domain() == 0);
    auto got = receive_stream(*server);
    writer.join();
    REQUIRE(sent.has_value());
    CHECK(got == data);
    (void)sys::remove_tree(dir);
}

TEST_CASE("control exchange over a faulty loopback: HELLO both ways, EXEC, TERMINATED") {
    auto [daemon, agent] = LoopbackChannel::create_pair(4, 0, 512).value();
    daemon->set_faults({.max_write = 3, .capacity = 50});
    agent->set_faults({.max_read = 2, .max_write = 11});
    Result<void> agent_side;
    std::string agent_got;
    std::thread t([&, &agent = agent] {
        agent_side = [&]() -> Result<void> {
            FrameWriter w;
            TRY(w.push(Hello{}));
            TRY(w.flush_all(*agent, 5s));
            FrameReader r(Expect::FromDaemon);
            auto hello = TRY(next_blocking(*agent, r));
            if (!std::holds_alternative<Hello>(hello.message))
                return unexpected(Errc::Protocol, "no hello");
            auto exec = TRY(next_blocking(*agent, r));
            auto const& e = std::get<ExecCmdline>(exec.message);
            agent_got = e.user + "|" + e.command + "|" + std::to_string(e.connect_port);
            TRY(w.push(TriggerService3{"@default", "SOCKET1", "qubes.Filecopy"}));
            TRY(w.push(ConnectionTerminated{0, e.connect_port}));
            return w.flush_all(*agent, 5s);
        }();
    });
    FrameWriter w;
    REQUIRE(w.push(Hello{}).has_value());
    REQUIRE(w.push(ExecCmdline{0, 513, "user", "QUBESRPC qubes.Foo dom0"}).has_value());
    REQUIRE(w.flush_all(*daemon, 5s).has_value());
    FrameReader r(Expect::FromAgent);
    auto hello = next_blocking(*daemon, r);
    REQUIRE(hello.has_value());
    CHECK(r.version() == protocol_version);
    auto trigger = next_blocking(*daemon, r);
    REQUIRE(trigger.has_value());
    CHECK(std::get<TriggerService3>(trigger->message).service_name == "qubes.Filecopy");
    auto term = next_blocking(*daemon, r);
    REQUIRE(term.has_value());
    CHECK(std::get<ConnectionTerminated>(term->message).port == 513);
    t.join();
    REQUIRE(agent_side.has_value());
    CHECK(agent_got == "user|QUBESRPC qubes.Foo dom0|513");
}
