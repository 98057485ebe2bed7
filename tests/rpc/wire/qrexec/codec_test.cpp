// Encode→decode of every message, byte-exact layouts written by hand from Qubes' qrexec.h
// structs, and the validator's refusals (truncated, oversized, wrong version, bad strings).
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/qrexec/frame_writer.h>

#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

using namespace bulkhead;
using namespace bulkhead::rpc;
using namespace bulkhead::rpc::qrexec;

namespace {

std::vector<std::byte> B(std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int x : v)
        out.push_back(std::byte(x));
    return out;
}
void append(std::vector<std::byte>& out, std::string const& s) {
    for (char c : s)
        out.push_back(std::byte(c));
}
void pad(std::vector<std::byte>& out, size_t n) {
    out.insert(out.end(), n, std::byte{0});
}
void u32(std::vector<std::byte>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(std::byte(v >> (8 * i)));
}
std::vector<std::byte> header(uint32_t type, uint32_t len) {
    std::vector<std::byte> out;
    u32(out, type);
    u32(out, len);
    return out;
}

// Decodes one frame with a fresh reader that already saw HELLO at `version`.
Result<std::optional<ValidatedMessage>> decode(std::vector<std::byte> const& frame, Expect expect,
                                               uint32_t version = protocol_version) {
    FrameReader r(expect);
    auto hello = FrameWriter::encode(Hello{version}).value();
    std::span<std::byte const> in(hello);
    auto h = r.next(in);
    REQUIRE(h.has_value());
    REQUIRE(r.version() == negotiate(version));
    in = frame;
    return r.next(in);
}

template <typename T>
T roundtrip(T const& msg, Expect expect, uint32_t version = protocol_version) {
    auto frame = FrameWriter::encode(msg, version);
    REQUIRE(frame.has_value());
    auto got = decode(*frame, expect, version);
    REQUIRE(got.has_value());
    REQUIRE(got->has_value());
    REQUIRE(std::holds_alternative<T>((*got)->message));
    return std::get<T>((*got)->message);
}

} // namespace

TEST_CASE("HELLO is {0x300, 4} + u32 version, little-endian") {
    auto want = B({0x00, 0x03, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0});
    CHECK(FrameWriter::encode(Hello{3}).value() == want);
    FrameReader r(Expect::FromDaemon);
    std::span<std::byte const> in(want);
    auto m = r.next(in).value();
    REQUIRE(m);
    CHECK(std::get<Hello>(m->message).version == 3);
    CHECK(r.version() == 3);
}

TEST_CASE("version negotiation accepts v2..v4 peers as Qubes and refuses v1") {
    CHECK(negotiate(1) == 0);
    CHECK(negotiate(2) == 2);
    CHECK(negotiate(3) == 3);
    CHECK(negotiate(4) == 3);
    CHECK(negotiate(99) == 3);
    for (uint32_t v : {2u, 3u, 4u}) {
        FrameReader r(Expect::FromAgent);
        auto f = FrameWriter::encode(Hello{v}).value();
        std::span<std::byte const> in(f);
        REQUIRE(r.next(in).has_value());
        CHECK(r.version() == negotiate(v));
    }
    FrameReader old(Expect::FromAgent);
    auto f = FrameWriter::encode(Hello{1}).value();
    std::span<std::byte const> in(f);
    auto bad = old.next(in);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code() == Errc::Protocol);
}

TEST_CASE("only HELLO before HELLO, and HELLO only once") {
    FrameReader r(Expect::FromDaemon);
    auto exec = FrameWriter::encode(ExecCmdline{0, 513, "user", "true"}).value();
    std::span<std::byte const> in(exec);
    CHECK(r.next(in).error().code() == Errc::Protocol);

    auto twice = FrameWriter::encode(Hello{3}).value();
    auto second = FrameWriter::encode(Hello{3}).value();
    twice.insert(twice.end(), second.begin(), second.end());
    FrameReader r2(Expect::FromDaemon);
    in = twice;
    REQUIRE(r2.next(in).has_value());
    CHECK(r2.next(in).error().code() == Errc::Protocol);
    // Once failed, the reader stays failed.
    in = second;
    CHECK_FALSE(r2.next(in).has_value());
}

TEST_CASE("MSG_EXEC_CMDLINE: exec_params {u32 domain; u32 port; char cmdline[]}") {
    auto want = header(0x200, 8 + 14);
    u32(want, 0);
    u32(want, 513);
    append(want, "user:echo hi");
    pad(want, 1);
    // cmdline "user:echo hi\0" is 13 bytes; len = 8 + 13
    want = header(0x200, 8 + 13);
    u32(want, 0);
    u32(want, 513);
    append(want, "user:echo hi");
    pad(want, 1);
    ExecCmdline e{0, 513, "user", "echo hi"};
    CHECK(FrameWriter::encode(e).value() == want);
    auto got = roundtrip(e, Expect::FromDaemon);
    CHECK(got.connect_domain == 0);
    CHECK(got.connect_port == 513);
    CHECK(got.user == "user");
    CHECK(got.command == "echo hi");

    auto j = roundtrip(JustExec{7, 600, "root", "QUBESRPC qubes.Foo+bar dom0"}, Expect::FromDaemon);
    CHECK(j.connect_domain == 7);
    CHECK(j.command == "QUBESRPC qubes.Foo+bar dom0");
    auto jf = FrameWriter::encode(JustExec{7, 600, "root", "x"}).value();
    CHECK(jf[0] == std::byte{0x01});
    CHECK(jf[1] == std::byte{0x02});
}

TEST_CASE("exec command lines: NUL last and only there, user: prefix, length cap") {
    auto frame = [](std::string const& cmd, bool nul) {
        auto f = header(0x200, uint32_t(8 + cmd.size() + (nul ? 1 : 0)));
        u32(f, 0);
        u32(f, 513);
        append(f, cmd);
        if (nul)
            pad(f, 1);
        return f;
    };
    CHECK(decode(frame("user:ls", true), Expect::FromDaemon).has_value());
    CHECK(decode(frame("user:ls", false), Expect::FromDaemon).error().code() == Errc::Protocol);
    CHECK(decode(frame(std::string("user:l\0s", 8), true), Expect::FromDaemon).error().code() ==
          Errc::Protocol);
    CHECK(decode(frame("nocolon", true), Expect::FromDaemon).error().code() == Errc::Protocol);
    CHECK(decode(frame(":ls", true), Expect::FromDaemon).error().code() == Errc::Protocol);
    CHECK(decode(frame("", false), Expect::FromDaemon).error().code() == Errc::Protocol);
    // Largest legal command line (65535 with NUL) passes; one more is refused from the header.
    std::string longest = "u:" + std::string(max_cmdline_len - 3, 'x');
    CHECK(decode(frame(longest, true), Expect::FromDaemon).has_value());
    CHECK(decode(frame(longest + "x", true), Expect::FromDaemon).error().code() == Errc::Protocol);
    CHECK(FrameWriter::encode(ExecCmdline{0, 1, "u", longest.substr(2) + "x"}).error().code() ==
          Errc::Invalid);
}

TEST_CASE("MSG_SERVICE_CONNECT: exec_params + service_params ident[32]") {
    auto want = header(0x202, 8 + 32);
    u32(want, 4);
    u32(want, 514);
    append(want, "SOCKET7");
    pad(want, 32 - 7);
    ServiceConnect c{4, 514, "SOCKET7"};
    CHECK(FrameWriter::encode(c).value() == want);
    auto got = roundtrip(c, Expect::FromDaemon);
    CHECK(got.connect_domain == 4);
    CHECK(got.connect_port == 514);
    CHECK(got.ident == "SOCKET7");
    // An ident filling all 32 bytes has no NUL: refused both ways.
    CHECK(FrameWriter::encode(ServiceConnect{4, 514, std::string(32, 'a')}).error().code() ==
          Errc::Invalid);
    auto nonul = header(0x202, 8 + 32);
    u32(nonul, 4);
    u32(nonul, 514);
    append(nonul, std::string(32, 'a'));
    CHECK(decode(nonul, Expect::FromDaemon).error().code() == Errc::Protocol);
}

TEST_CASE("MSG_SERVICE_REFUSED: service_params ident[32]") {
    auto want = header(0x203, 32);
    append(want, "42");
    pad(want, 30);
    CHECK(FrameWriter::encode(ServiceRefused{"42"}).value() == want);
    CHECK(roundtrip(ServiceRefused{"42"}, Expect::FromDaemon).ident == "42");
    auto shortf = header(0x203, 31);
    append(shortf, "42");
    pad(shortf, 29);
    CHECK(decode(shortf, Expect::FromDaemon).error().code() == Errc::Protocol);
}

TEST_CASE("MSG_TRIGGER_SERVICE (v2): service_name[64] target_domain[32] ident[32]") {
    auto want = header(0x210, 128);
    append(want, "qubes.Filecopy");
    pad(want, 64 - 14);
    append(want, "personal");
    pad(want, 32 - 8);
    append(want, "1");
    pad(want, 31);
    TriggerService t{"qubes.Filecopy", "personal", "1"};
    CHECK(FrameWriter::encode(t).value() == want);
    auto got = roundtrip(t, Expect::FromAgent, protocol_v2);
    CHECK(got.service_name == "qubes.Filecopy");
    CHECK(got.target_domain == "personal");
    CHECK(got.ident == "1");
}

TEST_CASE("MSG_TRIGGER_SERVICE3: target_domain[64] ident[32] then the service name") {
    auto want = header(0x212, 64 + 32 + 20);
    append(want, "@default");
    pad(want, 64 - 8);
    append(want, "SOCKET12");
    pad(want, 32 - 8);
    append(want, "qubes.Filecopy+arg1");
    pad(want, 1);
    TriggerService3 t{"@default", "SOCKET12", "qubes.Filecopy+arg1"};
    CHECK(FrameWriter::encode(t).value() == want);
    auto got = roundtrip(t, Expect::FromAgent);
    CHECK(got.target_domain == "@default");
    CHECK(got.ident == "SOCKET12");
    CHECK(got.service_name == "qubes.Filecopy+arg1");
    // Not legal on a v2 session, nor toward an agent.
    CHECK(decode(want, Expect::FromAgent, protocol_v2).error().code() == Errc::Protocol);
    CHECK(decode(want, Expect::FromDaemon).error().code() == Errc::Protocol);
    // Bad strings: empty target, space in a name, missing name, name without NUL.
    CHECK(FrameWriter::encode(TriggerService3{"", "1", "a"}).error().code() == Errc::Invalid);
    CHECK(FrameWriter::encode(TriggerService3{"x y", "1", "a"}).error().code() == Errc::Invalid);
    auto noname = header(0x212, 96);
    append(noname, "work");
    pad(noname, 60);
    append(noname, "1");
    pad(noname, 31);
    CHECK(decode(noname, Expect::FromAgent).error().code() == Errc::Protocol);
    auto spaced = want;
    spaced[8] = std::byte{' '};
    CHECK(decode(spaced, Expect::FromAgent).error().code() == Errc::Protocol);
    auto unterminated = want;
    unterminated.back() = std::byte{'x'};
    CHECK(decode(unterminated, Expect::FromAgent).error().code() == Errc::Protocol);
}

TEST_CASE("MSG_TRIGGER_SERVICE4 (v4): source[64] target[64] ident[32] then the name") {
    TriggerService4 t{"", "work", "3", "qubes.Foo"};
    auto f = FrameWriter::encode(t, protocol_v4).value();
    CHECK(f.size() == 8 + 160 + 10);
    CHECK(f[0] == std::byte{0x13});
    CHECK(f[8] == std::byte{0});         // empty source
    CHECK(f[8 + 64] == std::byte{'w'});  // target
    CHECK(f[8 + 128] == std::byte{'3'}); // ident
    CHECK(f[8 + 160] == std::byte{'q'}); // service name
    // Our sessions negotiate at most v3, so it is refused there; a v4 validator accepts it.
    CHECK(decode(f, Expect::FromAgent, protocol_v4).error().code() == Errc::Protocol);
    auto h = QrexecValidator::header(UntrustedBytes(std::span(f).first(8)), Expect::FromAgent,
                                     protocol_v4);
    REQUIRE(h.has_value());
    auto m = QrexecValidator::payload(*h, UntrustedBytes(std::span(f).subspan(8)), protocol_v4);
    REQUIRE(m.has_value());
    CHECK(std::get<TriggerService4>(m->message).service_name == "qubes.Foo");
}

TEST_CASE("MSG_CONNECTION_TERMINATED: exec_params without cmdline, exactly 8 bytes") {
    auto want = header(0x211, 8);
    u32(want, 0);
    u32(want, 515);
    CHECK(FrameWriter::encode(ConnectionTerminated{0, 515}).value() == want);
    auto got = roundtrip(ConnectionTerminated{0, 515}, Expect::FromAgent);
    CHECK(got.port == 515);
    auto longer = header(0x211, 9);
    u32(longer, 0);
    u32(longer, 515);
    pad(longer, 1);
    CHECK(decode(longer, Expect::FromAgent).error().code() == Errc::Protocol);
}

TEST_CASE("MSG_DATA_*: raw bytes up to the version's chunk size; exit code u32") {
    auto want = header(0x191, 3);
    append(want, "abc");
    DataChunk d{Stream::Stdout, B({'a', 'b', 'c'})};
    CHECK(FrameWriter::encode(d).value() == want);
    CHECK(roundtrip(d, Expect::Data).bytes == d.bytes);
    CHECK(roundtrip(DataChunk{Stream::Stdin, {}}, Expect::Data).bytes.empty()); // EOF marker
    CHECK(roundtrip(DataChunk{Stream::Stderr, B({1})}, Expect::Data).stream == Stream::Stderr);

    auto exit = header(0x193, 4);
    u32(exit, 127);
    CHECK(FrameWriter::encode(ExitCode{127}).value() == exit);
    CHECK(roundtrip(ExitCode{127}, Expect::Data).code == 127);

    // 64 KiB chunks at v3; 4 KiB at v2.
    DataChunk big{Stream::Stdin, std::vector<std::byte>(max_data_chunk_v3)};
    CHECK(roundtrip(big, Expect::Data).bytes.size() == 65536);
    CHECK(FrameWriter::encode(big, protocol_v2).error().code() == Errc::Invalid);
    auto f = FrameWriter::encode(big).value();
    CHECK(decode(f, Expect::Data, protocol_v2).error().code() == Errc::Protocol);
    auto over = header(0x190, 65537);
    CHECK(decode(over, Expect::Data).error().code() == Errc::Protocol);
    // Data is not legal on a control channel and control not on a data channel.
    CHECK(decode(want, Expect::FromDaemon).error().code() == Errc::Protocol);
    CHECK(decode(FrameWriter::encode(ServiceRefused{"1"}).value(), Expect::Data).error().code() ==
          Errc::Protocol);
}

TEST_CASE("unknown types and truncated frames") {
    CHECK(decode(header(0x999, 0), Expect::FromDaemon).error().code() == Errc::Protocol);
    CHECK(decode(header(0x204, 0), Expect::FromDaemon).error().code() == Errc::Protocol);
    // A truncated frame is simply incomplete: nothing yet, no error.
    auto f = FrameWriter::encode(ExecCmdline{0, 513, "u", "cmd"}).value();
    f.pop_back();
    auto partial = decode(f, Expect::FromDaemon);
    REQUIRE(partial.has_value());
    CHECK_FALSE(partial->has_value());
    // The validator itself refuses a payload shorter than its header says.
    auto h = QrexecValidator::header(UntrustedBytes(std::span(f).first(8)), Expect::FromDaemon, 3);
    REQUIRE(h.has_value());
    CHECK(QrexecValidator::payload(*h, UntrustedBytes(std::span(f).subspan(8)), 3).error().code() ==
          Errc::Protocol);
    CHECK(QrexecValidator::header(UntrustedBytes(std::span(f).first(7)), Expect::FromDaemon, 3)
              .error()
              .code() == Errc::Protocol);
}

TEST_CASE("a reader's frame cap refuses big frames before buffering them") {
    FrameReader r(Expect::Data, 64);
    auto hello = FrameWriter::encode(Hello{3}).value();
    std::span<std::byte const> in(hello);
    REQUIRE(r.next(in).has_value());
    auto f = header(0x191, 1000);
    in = f;
    auto res = r.next(in);
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code() == Errc::Limit);
    CHECK(r.buffered() <= 64);
}

TEST_CASE("FrameWriter splits data into chunks and ends a stream with an empty frame") {
    FrameWriter w;
    std::vector<std::byte> data(150000, std::byte{7});
    w.push_data(Stream::Stdout, data);
    w.push_data(Stream::Stdout, {});
    CHECK(w.queued() == 3 * 8 + 150000 + 8);
    w.set_version(protocol_v2);
    FrameWriter w2;
    w2.set_version(protocol_v2);
    w2.push_data(Stream::Stdout, std::span(data).first(10000));
    CHECK(w2.queued() == 3 * 8 + 10000);
}
