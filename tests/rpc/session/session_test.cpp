#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/loopback_channel.h>
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/qrexec/frame_writer.h>
#include <bulkhead/rpc/session/session.h>
#include <bulkhead/rpc/socket_vchan.h>

#include <catch2/catch.hpp>

#include <future>
#include <string>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::rpc;
using namespace bulkhead::rpc::session;
using namespace std::chrono_literals;

namespace {

// Collects everything written to a pipe, on its own thread.
struct Collector {
    UniqueFd write_end;
    std::future<std::string> text;
    Collector() {
        auto [r, w] = sys::pipe(O_CLOEXEC).value();
        write_end = std::move(w);
        text = std::async(std::launch::async, [fd = std::move(r)]() mutable {
            return sys::read_to_end(fd.get(), 256u << 20).value_or(std::string("<read error>"));
        });
    }
};

// A pipe whose read end gets `data` from a feeder thread (then EOF).
struct Feeder {
    UniqueFd read_end;
    std::thread thread;
    explicit Feeder(std::string data) {
        auto [r, w] = sys::pipe(O_CLOEXEC).value();
        read_end = std::move(r);
        thread = std::thread([fd = std::move(w), d = std::move(data)]() mutable {
            (void)sys::write_all(fd.get(), d);
        });
    }
    ~Feeder() {
        if (thread.joinable())
            thread.join();
    }
};

struct Child {
    pid_t pid;
    UniqueFd in, out, err;
};

Child spawn_sh(std::string const& script) {
    auto [in_r, in_w] = sys::pipe(O_CLOEXEC).value();
    auto [out_r, out_w] = sys::pipe(O_CLOEXEC).value();
    auto [err_r, err_w] = sys::pipe(O_CLOEXEC).value();
    sys::SpawnOptions o;
    o.argv = {"/bin/sh", "-c", script};
    o.fds = {{0, in_r.get()}, {1, out_w.get()}, {2, err_w.get()}};
    pid_t pid = sys::spawn(o).value();
    return Child{pid, std::move(in_w), std::move(out_r), std::move(err_r)};
}

struct CallResult {
    Result<int> caller = Error(Errc::Internal, "not run");
    Result<int> executor = Error(Errc::Internal, "not run");
    std::string out, err;
};

CallResult call_sh(Channel& caller_ch, Channel& exec_ch, std::string const& script,
                   std::string input) {
    Child c = spawn_sh(script);
    CallResult r;
    auto exec = std::async(std::launch::async, [&] {
        ExecutorIo io;
        io.stdin_fd = std::move(c.in);
        io.stdout_fd = std::move(c.out);
        io.stderr_fd = std::move(c.err);
        io.pid = c.pid;
        return run_executor(exec_ch, std::move(io));
    });
    Feeder feed(std::move(input));
    Collector out, err;
    CallerIo io;
    io.stdin_fd = std::move(feed.read_end);
    io.stdout_fd = std::move(out.write_end);
    io.stderr_fd = std::move(err.write_end);
    r.caller = run_caller(caller_ch, std::move(io));
    r.executor = exec.get();
    r.out = out.text.get();
    r.err = err.text.get();
    return r;
}

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i)
        s[i] = char('a' + (i * 7 + i / 251) % 26);
    return s;
}

} // namespace

TEST_CASE("session: stdin, stdout, stderr and exit code over loopback") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    auto r = call_sh(*a, *b, "cat; echo oops >&2; exit 3", "hello\n");
    REQUIRE(r.caller.has_value());
    CHECK(*r.caller == 3);
    CHECK(*r.executor == 3);
    CHECK(r.out == "hello\n");
    CHECK(r.err == "oops\n");
}

TEST_CASE("session: a killed process reports 128 + signal") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    auto r = call_sh(*a, *b, "kill -9 $$", "");
    REQUIRE(r.caller.has_value());
    CHECK(*r.caller == 128 + 9);
}

TEST_CASE("session: short reads and writes, a tiny buffer and stalls keep every byte") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    a->set_faults({.max_read = 7, .max_write = 5, .capacity = 300, .stall_reads = 3});
    b->set_faults({.max_read = 3, .max_write = 11, .capacity = 200, .stall_writes = 2});
    auto data = pattern(300000);
    auto r = call_sh(*a, *b, "cat; printf E >&2", data);
    REQUIRE(r.caller.has_value());
    CHECK(*r.caller == 0);
    CHECK(r.out == data);
    CHECK(r.err == "E");
}

TEST_CASE("session: megabytes both ways over the socket vchan") {
    auto dir = sys::make_temp_dir("/tmp/bh-session-").value();
    SocketTransport dom0(dir, 0), guest(dir, 5);
    auto listener = dom0.listen(5, 600).value();
    auto client = guest.connect(0, 600, 5s).value();
    auto server = accept_wait(*listener, 5s).value();
    auto data = pattern(8u << 20);
    auto r = call_sh(*server, *client, "cat; cat /dev/null >&2", data);
    REQUIRE(r.caller.has_value());
    CHECK(*r.caller == 0);
    CHECK(r.out.size() == data.size());
    CHECK(r.out == data);
    (void)sys::remove_tree(dir);
}

TEST_CASE("session: a process that never reads stdin still finishes") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    auto r = call_sh(*a, *b, "echo done; exit 0", pattern(2u << 20));
    REQUIRE(r.caller.has_value());
    CHECK(*r.caller == 0);
    CHECK(r.out == "done\n");
}

TEST_CASE("session: run_failed sends the message on stderr and the code") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    auto exec =
        std::async(std::launch::async, [&] { return run_failed(*b, 127, "service not found\n"); });
    Collector out, err;
    CallerIo io;
    io.stdout_fd = std::move(out.write_end);
    io.stderr_fd = std::move(err.write_end);
    auto code = run_caller(*a, std::move(io));
    REQUIRE(exec.get().has_value());
    REQUIRE(code.has_value());
    CHECK(*code == 127);
    CHECK(out.text.get().empty());
    CHECK(err.text.get() == "service not found\n");
}

TEST_CASE("session: executor without a process: one socket for both directions") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    auto [mine, theirs] = sys::socketpair().value();
    // The "service": echoes what it reads, upper-cased, until EOF.
    std::thread service([fd = std::move(theirs)]() mutable {
        auto in = sys::read_to_end(fd.get()).value();
        for (auto& c : in)
            c = char(std::toupper(static_cast<unsigned char>(c)));
        (void)sys::write_all(fd.get(), in);
    });
    auto exec = std::async(std::launch::async, [&, sock = std::move(mine)]() mutable {
        ExecutorIo io;
        io.stdin_fd = sys::dup(sock.get()).value();
        io.stdout_fd = std::move(sock);
        return run_executor(*b, std::move(io));
    });
    Feeder feed("abc");
    Collector out;
    CallerIo io;
    io.stdin_fd = std::move(feed.read_end);
    io.stdout_fd = std::move(out.write_end);
    auto code = run_caller(*a, std::move(io));
    service.join();
    REQUIRE(code.has_value());
    CHECK(*code == 0);
    CHECK(exec.get().has_value());
    CHECK(out.text.get() == "ABC");
}

TEST_CASE("session: EOF mid-frame is a protocol error for the caller") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    // HELLO (12 bytes) then 5 bytes of a DATA_STDOUT header, then the stream ends.
    b->set_faults({.eof_after = 17});
    auto exec = std::async(std::launch::async, [&] {
        ExecutorIo io;
        auto [r, w] = sys::pipe(O_CLOEXEC).value();
        (void)sys::write_all(w.get(), std::string_view("some output"));
        io.stdout_fd = std::move(r);
        return run_executor(*b, std::move(io));
    });
    CallerIo io;
    auto code = run_caller(*a, std::move(io));
    REQUIRE_FALSE(code.has_value());
    CHECK(code.error().code() == Errc::Protocol);
    CHECK_FALSE(exec.get().has_value());
}

TEST_CASE("session: a clean close before the exit code is Errc::Closed") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    auto hello = qrexec::FrameWriter::encode(qrexec::Hello{}).value();
    REQUIRE(write_all(*b, hello, 1s).has_value());
    b->close();
    auto code = run_caller(*a, CallerIo{});
    REQUIRE_FALSE(code.has_value());
    CHECK(code.error().code() == Errc::Closed);
}

TEST_CASE("session: frames the role must not receive are refused") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    std::vector<std::byte> bad = qrexec::FrameWriter::encode(qrexec::Hello{}).value();
    SECTION("caller gets DATA_STDIN") {
        auto more =
            qrexec::FrameWriter::encode(qrexec::DataChunk{qrexec::Stream::Stdin, {std::byte{1}}})
                .value();
        bad.insert(bad.end(), more.begin(), more.end());
        REQUIRE(write_all(*b, bad, 1s).has_value());
        auto code = run_caller(*a, CallerIo{});
        REQUIRE_FALSE(code.has_value());
        CHECK(code.error().code() == Errc::Protocol);
    }
    SECTION("executor gets an exit code") {
        auto more = qrexec::FrameWriter::encode(qrexec::ExitCode{1}).value();
        bad.insert(bad.end(), more.begin(), more.end());
        REQUIRE(write_all(*b, bad, 1s).has_value());
        auto [r, w] = sys::pipe(O_CLOEXEC).value(); // stdout that never ends
        ExecutorIo io;
        io.stdout_fd = std::move(r);
        auto code = run_executor(*a, std::move(io));
        REQUIRE_FALSE(code.has_value());
        CHECK(code.error().code() == Errc::Protocol);
    }
    SECTION("garbage header") {
        std::vector<std::byte> junk(8, std::byte{0xff});
        REQUIRE(write_all(*b, junk, 1s).has_value());
        auto code = run_caller(*a, CallerIo{});
        REQUIRE_FALSE(code.has_value());
        CHECK(code.error().code() == Errc::Protocol);
    }
    SECTION("data after the end of its stream") {
        for (auto const& m :
             {qrexec::Message(qrexec::DataChunk{qrexec::Stream::Stdout, {}}),
              qrexec::Message(qrexec::DataChunk{qrexec::Stream::Stdout, {std::byte{'x'}}})}) {
            auto f = qrexec::FrameWriter::encode(m).value();
            bad.insert(bad.end(), f.begin(), f.end());
        }
        REQUIRE(write_all(*b, bad, 1s).has_value());
        auto code = run_caller(*a, CallerIo{});
        REQUIRE_FALSE(code.has_value());
        CHECK(code.error().code() == Errc::Protocol);
    }
}

TEST_CASE("session: no HELLO within the deadline") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    auto code = run_caller(*a, CallerIo{}, SessionOptions{.hello_timeout = 100ms});
    REQUIRE_FALSE(code.has_value());
    CHECK(code.error().code() == Errc::Timeout);
}

TEST_CASE("session: an old peer (v2) gets 4 KiB chunks") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    auto exec = std::async(std::launch::async, [&] {
        ExecutorIo io;
        auto [r, w] = sys::pipe(O_CLOEXEC).value();
        (void)sys::write_all(w.get(), pattern(10000));
        w.reset();
        io.stdout_fd = std::move(r);
        io.exit_code = 4;
        return run_executor(*b, std::move(io));
    });
    auto hello = qrexec::FrameWriter::encode(qrexec::Hello{2}).value();
    auto eof = qrexec::FrameWriter::encode(qrexec::DataChunk{qrexec::Stream::Stdin, {}}, 2).value();
    hello.insert(hello.end(), eof.begin(), eof.end());
    REQUIRE(write_all(*a, hello, 1s).has_value());
    qrexec::FrameReader reader(qrexec::Expect::Data);
    size_t total = 0;
    int code = -1;
    while (code < 0) {
        auto m = reader.next(*a);
        REQUIRE(m.has_value());
        if (!*m) {
            REQUIRE(wait_ready(*a, WantWrite::No, 5s).value());
            continue;
        }
        if (auto* d = std::get_if<qrexec::DataChunk>(&(*m)->message)) {
            CHECK(d->bytes.size() <= 4096);
            total += d->bytes.size();
        }
        if (auto* e = std::get_if<qrexec::ExitCode>(&(*m)->message))
            code = e->code;
    }
    CHECK(total == 10000);
    CHECK(code == 4);
    CHECK(exec.get().has_value());
}

TEST_CASE("session: the caller's descriptors get their blocking flags back") {
    auto [a, b] = LoopbackChannel::create_pair(0, 5, 513).value();
    // One socket as both stdin and stdout, like a terminal shared with a shell.
    auto [mine, other] = sys::socketpair().value();
    (void)sys::write_all(other.get(), std::string_view("abc"));
    (void)sys::shutdown_write(other.get());
    auto exec = std::async(std::launch::async, [&] {
        ExecutorIo io;
        auto [r, w] = sys::pipe(O_CLOEXEC).value();
        (void)sys::write_all(w.get(), std::string_view("out"));
        w.reset();
        io.stdout_fd = std::move(r);
        return run_executor(*b, std::move(io));
    });
    CallerIo io;
    io.stdin_fd = sys::dup(mine.get()).value();
    io.stdout_fd = sys::dup(mine.get()).value();
    auto code = run_caller(*a, std::move(io));
    REQUIRE(code.has_value());
    CHECK(exec.get().has_value());
    CHECK((::fcntl(mine.get(), F_GETFL) & O_NONBLOCK) == 0);
    CHECK(sys::read_to_end(other.get()).value() == "out");
}
