#include <bulkhead/rpc/loopback_channel.h>

#include <catch2/catch.hpp>

#include <string>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::rpc;
using namespace std::chrono_literals;

namespace {

std::span<std::byte const> bytes_of(std::string const& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

} // namespace

TEST_CASE("loopback pair carries bytes both ways and knows both peers") {
    auto [a, b] = LoopbackChannel::create_pair(0, 3, 513).value();
    CHECK(a->peer_domain() == 3);
    CHECK(b->peer_domain() == 0);
    CHECK(a->port() == 513);
    std::byte buf[8];
    CHECK(b->read(buf).value() == 0);
    CHECK(a->write(bytes_of("abc")).value() == 3);
    REQUIRE(wait_ready(*b, WantWrite::No, 1s).value());
    CHECK(b->read(buf).value() == 3);
    CHECK(std::string(reinterpret_cast<char*>(buf), 3) == "abc");
}

TEST_CASE("loopback short reads and writes") {
    auto [a, b] = LoopbackChannel::create_pair(0, 1, 1).value();
    a->set_faults({.max_write = 2});
    b->set_faults({.max_read = 1});
    CHECK(a->write(bytes_of("hello")).value() == 2);
    std::byte buf[8];
    CHECK(b->read(buf).value() == 1);
    CHECK(b->read(buf).value() == 1);
    CHECK(b->read(buf).value() == 0);
}

TEST_CASE("loopback EOF after N bytes ends the stream mid-message") {
    auto [a, b] = LoopbackChannel::create_pair(0, 1, 1).value();
    a->set_faults({.eof_after = 3});
    CHECK(a->write(bytes_of("hello")).value() == 3);
    CHECK(a->write(bytes_of("more")).error().code() == Errc::Closed);
    std::byte buf[8];
    CHECK(b->read(buf).value() == 3);
    CHECK(b->read(buf).error().code() == Errc::Closed);
}

TEST_CASE("loopback stalls, capacity and close") {
    auto [a, b] = LoopbackChannel::create_pair(0, 1, 1).value();
    a->set_faults({.capacity = 4, .stall_writes = 1});
    CHECK(a->write(bytes_of("x")).value() == 0);      // stalled
    CHECK(a->write(bytes_of("abcdef")).value() == 4); // buffer full at 4
    CHECK(a->write(bytes_of("z")).value() == 0);
    b->set_faults({.stall_reads = 2});
    std::byte buf[8];
    CHECK(b->read(buf).value() == 0);
    CHECK(b->read(buf).value() == 0);
    CHECK(b->read(buf).value() == 4);
    // The writer is woken when space frees up.
    REQUIRE(wait_ready(*a, WantWrite::Yes, 1s).value());
    CHECK(a->write(bytes_of("z")).value() == 1);
    a->close();
    CHECK(b->read(buf).value() == 1);
    CHECK(b->read(buf).error().code() == Errc::Closed);
    CHECK(b->write(bytes_of("q")).error().code() == Errc::Closed);
}

TEST_CASE("loopback works across threads with blocking helpers") {
    auto [a, b] = LoopbackChannel::create_pair(0, 1, 1).value();
    a->set_faults({.max_write = 7, .capacity = 64});
    std::string payload(10000, 'q');
    std::thread writer([&, &a = a] { REQUIRE(write_all(*a, bytes_of(payload), 5s).has_value()); });
    std::string got(payload.size(), '\0');
    auto r = read_exact(*b, std::as_writable_bytes(std::span(got.data(), got.size())), 5s);
    writer.join();
    REQUIRE(r.has_value());
    CHECK(got == payload);
}

TEST_CASE("a stalled call wakes its own end, so a waiting caller retries") {
    // Without the wake, a writer stalled before anything was sent waits for a peer that
    // has nothing to read and never signals: write_all would hang until its deadline.
    auto [a, b] = LoopbackChannel::create_pair(0, 1, 1).value();
    a->set_faults({.stall_writes = 2});
    CHECK(a->write(bytes_of("x")).value() == 0);
    CHECK(wait_ready(*a, WantWrite::Yes, 0ms).value());
    auto start = std::chrono::steady_clock::now();
    REQUIRE(write_all(*a, bytes_of("hello"), 20s).has_value());
    CHECK(std::chrono::steady_clock::now() - start < 5s); // not the deadline
    b->set_faults({.stall_reads = 1});
    std::byte buf[8];
    CHECK(b->read(buf).value() == 0);
    CHECK(wait_ready(*b, WantWrite::No, 0ms).value());
    CHECK(b->read(buf).value() == 5);
}
