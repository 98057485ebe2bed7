#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/socket_vchan.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::rpc;
using namespace std::chrono_literals;

namespace {

struct TempDir {
    std::string path = sys::make_temp_dir("/tmp/bulkhead-vchan-").value();
    ~TempDir() { (void)sys::remove_tree(path); }
};

std::span<std::byte const> bytes_of(std::string const& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

std::string read_n(Channel& ch, size_t n) {
    std::string out(n, '\0');
    auto r = read_exact(ch, std::as_writable_bytes(std::span(out.data(), n)), 5s);
    REQUIRE(r.has_value());
    return out;
}

} // namespace

TEST_CASE("socket vchan path follows libvchan-socket's convention") {
    CHECK(SocketTransport::socket_path("/var/run/vchan", 3, 0, 512) ==
          "/var/run/vchan/vchan.3.0.512.sock");
    TempDir dir;
    SocketTransport agent(dir.path, 7);
    auto l = agent.listen(0, 512);
    REQUIRE(l.has_value());
    CHECK(sys::exists(dir.path + "/vchan.7.0.512.sock"));
    CHECK((*l)->peer_domain() == 0);
    CHECK((*l)->port() == 512);
    l->reset();
    CHECK_FALSE(sys::exists(dir.path + "/vchan.7.0.512.sock"));
}

TEST_CASE("socket vchan transport reads VCHAN_DOMAIN and VCHAN_SOCKET_DIR") {
    ::setenv("VCHAN_SOCKET_DIR", "/tmp/somewhere", 1);
    ::setenv("VCHAN_DOMAIN", "12", 1);
    auto t = SocketTransport::from_env();
    REQUIRE(t.has_value());
    CHECK(t->local_domain() == 12);
    CHECK(t->dir() == "/tmp/somewhere");
    ::setenv("VCHAN_DOMAIN", "twelve", 1);
    CHECK(SocketTransport::from_env().error().code() == Errc::Invalid);
    ::unsetenv("VCHAN_DOMAIN");
    CHECK(SocketTransport::from_env().error().code() == Errc::Invalid);
    ::unsetenv("VCHAN_SOCKET_DIR");
}

TEST_CASE("socket vchan connects both ways, knows its peer, and reports EAGAIN and EOF") {
    TempDir dir;
    SocketTransport dom0(dir.path, 0);
    SocketTransport agent(dir.path, 5);
    auto listener = agent.listen(0, 513).value();
    // Nobody connected yet: accept says "not yet".
    auto none = listener->accept();
    REQUIRE(none.has_value());
    CHECK(*none == nullptr);

    auto client = dom0.connect(5, 513, 2s);
    REQUIRE(client.has_value());
    auto server = accept_wait(*listener, 2s);
    REQUIRE(server.has_value());
    CHECK((*client)->peer_domain() == 5);
    CHECK((*server)->peer_domain() == 0);
    CHECK((*server)->port() == 513);
    // The socket file is gone once the one client is accepted.
    CHECK_FALSE(sys::exists(SocketTransport::socket_path(dir.path, 5, 0, 513)));
    CHECK(listener->accept().error().code() == Errc::Busy);

    std::byte buf[16];
    CHECK((*server)->read(buf).value() == 0); // EAGAIN → 0
    CHECK((*server)->read(std::span<std::byte>()).value() == 0);
    REQUIRE(write_all(**client, bytes_of("hello"), 1s).has_value());
    CHECK(read_n(**server, 5) == "hello");
    REQUIRE(write_all(**server, bytes_of("back"), 1s).has_value());
    CHECK(read_n(**client, 4) == "back");

    client->reset();
    REQUIRE(wait_ready(**server, WantWrite::No, 2s).value());
    CHECK((*server)->read(buf).error().code() == Errc::Closed);
}

TEST_CASE("socket vchan client retries until the server appears, and times out") {
    TempDir dir;
    SocketTransport dom0(dir.path, 0);
    SocketTransport agent(dir.path, 9);
    auto missing = dom0.connect(9, 600, 50ms);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code() == Errc::Timeout);

    std::unique_ptr<Listener> listener;
    std::thread late([&] {
        std::this_thread::sleep_for(100ms);
        listener = agent.listen(0, 600).value();
    });
    auto client = dom0.connect(9, 600, 3s);
    late.join();
    REQUIRE(client.has_value());
    auto server = accept_wait(*listener, 2s);
    REQUIRE(server.has_value());

    // Reconnect: the server side restarts (new listener at the same name), client reconnects.
    server->reset();
    client->reset();
    listener = agent.listen(0, 600).value();
    auto again = dom0.connect(9, 600, 2s);
    REQUIRE(again.has_value());
    auto server2 = accept_wait(*listener, 2s);
    REQUIRE(server2.has_value());
    REQUIRE(write_all(**again, bytes_of("x"), 1s).has_value());
    CHECK(read_n(**server2, 1) == "x");
}

TEST_CASE("socket vchan interoperates with a plain client socket at the file path") {
    // Qubes' libvchan-socket clients do a bare connect() with no handshake: so can anyone.
    TempDir dir;
    SocketTransport agent(dir.path, 4);
    auto listener = agent.listen(0, 512).value();
    auto raw = sys::unix_connect(dir.path + "/vchan.4.0.512.sock");
    REQUIRE(raw.has_value());
    auto server = accept_wait(*listener, 2s);
    REQUIRE(server.has_value());
    REQUIRE(sys::write_all(raw->get(), std::string_view("raw")).has_value());
    CHECK(read_n(**server, 3) == "raw");
}

TEST_CASE("socket vchan write to a closed peer is Closed, and a full buffer returns 0") {
    TempDir dir;
    SocketTransport a(dir.path, 0), b(dir.path, 1);
    auto l = b.listen(0, 700).value();
    auto c = a.connect(1, 700, 1s).value();
    auto s = accept_wait(*l, 1s).value();
    std::vector<std::byte> big(1 << 16);
    size_t total = 0;
    for (;;) {
        size_t n = c->write(big).value();
        if (n == 0)
            break;
        total += n;
    }
    CHECK(total > 0);
    s.reset();
    auto w = c->write(big);
    for (int i = 0; i < 10 && w.has_value(); ++i)
        w = c->write(big);
    REQUIRE_FALSE(w.has_value());
    CHECK(w.error().code() == Errc::Closed);
}
