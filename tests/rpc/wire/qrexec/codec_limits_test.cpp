// The codec's edges, for every message kind: encode → decode → encode byte-exact, every
// prefix of a frame is "incomplete" (never an error, never a message), EOF mid-frame,
// payloads shorter than their fixed part, lengths past the limits up to 4 GiB, HELLO
// versions (v2..v4 peers accepted as Qubes, lower refused) and TRIGGER_SERVICE4 on v4.
#include <bulkhead/rpc/loopback_channel.h>
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/qrexec/frame_writer.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace bulkhead;
using namespace bulkhead::rpc;
using namespace bulkhead::rpc::qrexec;
using namespace std::chrono_literals;

namespace {

struct Case {
    Message msg;
    Expect expect;
    uint32_t version; // the session version it is legal at
};

std::vector<Case> every_message() {
    return {
        {ExecCmdline{0, 513, "user", "echo hi"}, Expect::FromDaemon, 3},
        {ExecCmdline{5, 514, "root", ""}, Expect::FromDaemon, 3},
        {JustExec{7, 600, "root", "QUBESRPC qubes.Foo+bar dom0"}, Expect::FromDaemon, 3},
        {ServiceConnect{4, 514, "SOCKET7"}, Expect::FromDaemon, 3},
        {ServiceRefused{"42"}, Expect::FromDaemon, 3},
        {TriggerService{"qubes.Filecopy", "personal", "1"}, Expect::FromAgent, 2},
        {TriggerService3{"@default", "SOCKET12", "qubes.Filecopy+arg1"}, Expect::FromAgent, 3},
        {TriggerService4{"", "work", "3", "qubes.Foo"}, Expect::FromAgent, 4},
        {TriggerService4{"vault", "@dispvm:dvm", "9", "qubes.OpenInVM"}, Expect::FromAgent, 4},
        {ConnectionTerminated{0, 515}, Expect::FromAgent, 3},
        {DataChunk{Stream::Stdin, std::vector<std::byte>(64, std::byte{'a'})}, Expect::Data, 3},
        {DataChunk{Stream::Stdout, std::vector<std::byte>(65536, std::byte{1})}, Expect::Data, 3},
        {DataChunk{Stream::Stderr, {}}, Expect::Data, 2},
        {ExitCode{-1}, Expect::Data, 3},
    };
}

std::vector<std::byte> header(uint32_t type, uint32_t len) {
    std::vector<std::byte> out;
    for (uint32_t v : {type, len})
        for (int i = 0; i < 4; ++i)
            out.push_back(std::byte(v >> (8 * i)));
    return out;
}

// Validator only: header then payload, at `version` (any version, v4 included).
Result<ValidatedMessage> validate(std::span<std::byte const> frame, Expect expect,
                                  uint32_t version) {
    auto h = TRY(QrexecValidator::header(UntrustedBytes(frame.first(8)), expect, version));
    return QrexecValidator::payload(h, UntrustedBytes(frame.subspan(8)), version);
}

// A reader that already negotiated v3 (or v2) from a HELLO.
FrameReader reader_after_hello(Expect expect, uint32_t version, size_t cap = max_frame) {
    FrameReader r(expect, cap);
    auto hello = FrameWriter::encode(Hello{version}).value();
    std::span<std::byte const> in(hello);
    REQUIRE(r.next(in).value().has_value());
    return r;
}

} // namespace

TEST_CASE("every message encodes, decodes and re-encodes byte-exact") {
    for (auto const& c : every_message()) {
        INFO(msg_type_name(message_type(c.msg)));
        auto f = FrameWriter::encode(c.msg, c.version).value();
        auto m = validate(f, c.expect, c.version);
        REQUIRE(m.has_value());
        CHECK(message_type(m->message) == message_type(c.msg));
        CHECK(FrameWriter::encode(m->message, c.version).value() == f);
        // Through a reader as well, where the session can reach that version (≤ v3).
        if (c.version <= protocol_version) {
            auto r = reader_after_hello(c.expect, c.version);
            std::span<std::byte const> in(f);
            auto got = r.next(in).value();
            REQUIRE(got.has_value());
            CHECK(FrameWriter::encode(got->message, c.version).value() == f);
        }
    }
}

TEST_CASE("every prefix of every frame is incomplete, then the rest completes it") {
    for (auto const& c : every_message()) {
        if (c.version > protocol_version)
            continue;
        INFO(msg_type_name(message_type(c.msg)));
        auto f = FrameWriter::encode(c.msg, c.version).value();
        size_t step = f.size() > 4096 ? 997 : 1;
        for (size_t k = 0; k < f.size(); k += step) {
            auto r = reader_after_hello(c.expect, c.version);
            std::span<std::byte const> in = std::span<std::byte const>(f).first(k);
            auto partial = r.next(in);
            REQUIRE(partial.has_value());
            REQUIRE_FALSE(partial->has_value());
            CHECK(in.empty());
            in = std::span<std::byte const>(f).subspan(k);
            auto whole = r.next(in);
            REQUIRE(whole.has_value());
            REQUIRE(whole->has_value());
            CHECK(r.buffered() == 0);
        }
        // Byte by byte.
        auto r = reader_after_hello(c.expect, c.version);
        size_t got = 0;
        for (size_t i = 0; i < f.size(); ++i) {
            std::span<std::byte const> in = std::span<std::byte const>(f).subspan(i, 1);
            if (r.next(in).value())
                ++got;
        }
        CHECK(got == 1);
    }
}

TEST_CASE("a channel closing mid-frame is a protocol error; between frames it is Closed") {
    for (size_t cut : {size_t(3), size_t(8), size_t(20)}) {
        auto [a, b] = LoopbackChannel::create_pair(0, 2, 513).value();
        auto bytes = FrameWriter::encode(Hello{3}).value();
        auto exec = FrameWriter::encode(ExecCmdline{0, 513, "user", "echo hi"}).value();
        bytes.insert(bytes.end(), exec.begin(), exec.begin() + ptrdiff_t(cut));
        REQUIRE(write_all(*a, bytes, 1s).has_value());
        a->close();
        FrameReader r(Expect::FromDaemon);
        REQUIRE(wait_ready(*b, WantWrite::No, 1s).value());
        auto hello = r.next(*b);
        REQUIRE(hello.has_value());
        REQUIRE(hello->has_value());
        auto rest = r.next(*b);
        REQUIRE_FALSE(rest.has_value());
        CHECK(rest.error().code() == Errc::Protocol);
    }
    auto [a, b] = LoopbackChannel::create_pair(0, 2, 513).value();
    auto hello = FrameWriter::encode(Hello{3}).value();
    REQUIRE(write_all(*a, hello, 1s).has_value());
    a->close();
    FrameReader r(Expect::FromDaemon);
    REQUIRE(r.next(*b).value().has_value());
    CHECK(r.next(*b).error().code() == Errc::Closed);
}

TEST_CASE("payloads shorter than their fixed part are refused, not read past") {
    struct Short {
        uint32_t type;
        Expect expect;
        std::vector<uint32_t> lens;
    };
    std::vector<Short> cases = {
        {0x200, Expect::FromDaemon, {0, 1, 4, 7, 8}}, // exec_params is 8 bytes, then cmdline
        {0x201, Expect::FromDaemon, {0, 3, 7, 8}},
        {0x202, Expect::FromDaemon, {0, 4, 8}},
        {0x203, Expect::FromDaemon, {0, 31}},
        {0x210, Expect::FromAgent, {0, 64, 127}},
        {0x211, Expect::FromAgent, {0, 7}},
        {0x212, Expect::FromAgent, {0, 64, 96}},
        {0x193, Expect::Data, {0, 3}},
    };
    for (auto const& c : cases) {
        for (uint32_t len : c.lens) {
            INFO("type " << c.type << " len " << len);
            auto f = header(c.type, len);
            f.insert(f.end(), len, std::byte{'a'});
            // A payload of 'a's has no NUL anywhere, so nothing may pass.
            auto r = reader_after_hello(c.expect, 3);
            std::span<std::byte const> in(f);
            auto got = r.next(in);
            REQUIRE_FALSE(got.has_value());
            CHECK(got.error().code() == Errc::Protocol);
        }
    }
    // The same with zeros: still refused (empty names, missing user: prefix).
    for (uint32_t len : {0u, 4u, 7u, 8u, 9u}) {
        auto f = header(0x200, len);
        f.insert(f.end(), len, std::byte{0});
        CHECK_FALSE(validate(f, Expect::FromDaemon, 3).has_value());
    }
    auto f = header(0x213, 160);
    f.insert(f.end(), 160, std::byte{0});
    CHECK_FALSE(validate(f, Expect::FromAgent, 4).has_value());
    auto hello = header(0x300, 3);
    hello.insert(hello.end(), 3, std::byte{3});
    FrameReader r(Expect::FromAgent);
    std::span<std::byte const> in(hello);
    CHECK(r.next(in).error().code() == Errc::Protocol);
}

TEST_CASE("lengths past each message's limit, up to 4 GiB, are refused from the header") {
    for (auto const& c : every_message()) {
        auto type = message_type(c.msg);
        INFO(msg_type_name(type));
        size_t limit = QrexecValidator::max_payload_len(type, c.version);
        for (uint64_t len : {uint64_t(limit) + 1, uint64_t(max_payload) + 1, uint64_t(0x7fffffff),
                             uint64_t(0x80000000), uint64_t(0xfffffff7), uint64_t(0xfffffff8),
                             uint64_t(0xffffffff)}) {
            INFO("len " << len);
            auto f = header(uint32_t(type), uint32_t(len));
            auto h = QrexecValidator::header(UntrustedBytes(std::span(f)), c.expect, c.version);
            REQUIRE_FALSE(h.has_value());
            CHECK(h.error().code() == Errc::Protocol);
            if (c.version > protocol_version)
                continue;
            // A reader refuses it before buffering anything more than the header.
            auto r = reader_after_hello(c.expect, c.version);
            f.insert(f.end(), 100, std::byte{0});
            std::span<std::byte const> in(f);
            auto got = r.next(in);
            REQUIRE_FALSE(got.has_value());
            CHECK(r.buffered() <= max_frame);
        }
        // Exactly at the limit passes the header check.
        auto at = header(uint32_t(type), uint32_t(limit));
        CHECK(QrexecValidator::header(UntrustedBytes(std::span(at)), c.expect, c.version)
                  .has_value());
    }
    // HELLO itself, before the version is known.
    for (uint32_t len : {5u, 0xffffffffu}) {
        auto f = header(0x300, len);
        CHECK(QrexecValidator::header(UntrustedBytes(std::span(f)), Expect::FromAgent, 0)
                  .error()
                  .code() == Errc::Protocol);
    }
    // A v2 session caps data at 4 KiB.
    auto d = header(0x191, 4097);
    CHECK_FALSE(QrexecValidator::header(UntrustedBytes(std::span(d)), Expect::Data, 2));
    d = header(0x191, 4096);
    CHECK(QrexecValidator::header(UntrustedBytes(std::span(d)), Expect::Data, 2));
}

TEST_CASE("HELLO: v2, v3, v4 peers are accepted, v0 and v1 refused, newer ones step down") {
    struct V {
        uint32_t peer;
        uint32_t session; // 0 = refused
    };
    for (auto v : {V{0, 0}, V{1, 0}, V{2, 2}, V{3, 3}, V{4, 3}, V{5, 3}, V{0xffffffff, 3}}) {
        INFO("peer v" << v.peer);
        for (auto expect : {Expect::FromDaemon, Expect::FromAgent, Expect::Data}) {
            FrameReader r(expect);
            auto f = FrameWriter::encode(Hello{v.peer}).value();
            std::span<std::byte const> in(f);
            auto got = r.next(in);
            if (v.session == 0) {
                REQUIRE_FALSE(got.has_value());
                CHECK(got.error().code() == Errc::Protocol);
                CHECK(r.version() == 0);
            } else {
                REQUIRE(got.has_value());
                REQUIRE(got->has_value());
                CHECK(std::get<Hello>((*got)->message).version == v.peer);
                CHECK(r.version() == v.session);
            }
        }
    }
    // What a v2 session then refuses: TRIGGER_SERVICE3 and 64 KiB data.
    auto agent = reader_after_hello(Expect::FromAgent, 2);
    auto t3 = FrameWriter::encode(TriggerService3{"work", "1", "qubes.Foo"}).value();
    std::span<std::byte const> in(t3);
    CHECK(agent.next(in).error().code() == Errc::Protocol);
    auto data = reader_after_hello(Expect::Data, 2);
    auto big = FrameWriter::encode(DataChunk{Stream::Stdout, std::vector<std::byte>(4097)}).value();
    in = big;
    CHECK(data.next(in).error().code() == Errc::Protocol);
}

TEST_CASE("TRIGGER_SERVICE4 is welcome on a v4 session, and only there") {
    TriggerService4 t{"sys-usb", "@dispvm", "SOCKET5", "qubes.InputMouse"};
    auto f = FrameWriter::encode(t, protocol_v4).value();
    auto m = validate(f, Expect::FromAgent, protocol_v4);
    REQUIRE(m.has_value());
    auto const& got = std::get<TriggerService4>(m->message);
    CHECK(got.source_domain == "sys-usb");
    CHECK(got.target_domain == "@dispvm");
    CHECK(got.ident == "SOCKET5");
    CHECK(got.service_name == "qubes.InputMouse");
    for (uint32_t v : {0u, 2u, 3u})
        CHECK(validate(f, Expect::FromAgent, v).error().code() == Errc::Protocol);
    CHECK(validate(f, Expect::FromDaemon, protocol_v4).error().code() == Errc::Protocol);
    CHECK(validate(f, Expect::Data, protocol_v4).error().code() == Errc::Protocol);
    // The longest service name fits (65000 with its NUL); one more does not, both ways.
    std::string longest(max_service_name_len - 1, 'q');
    auto lf = FrameWriter::encode(TriggerService4{"", "work", "1", longest}, protocol_v4).value();
    CHECK(validate(lf, Expect::FromAgent, protocol_v4).has_value());
    CHECK(FrameWriter::encode(TriggerService4{"", "work", "1", longest + "q"}, protocol_v4)
              .error()
              .code() == Errc::Invalid);
    auto over = header(0x213, uint32_t(trigger4_fixed_size + max_service_name_len + 1));
    CHECK(validate(over, Expect::FromAgent, protocol_v4).error().code() == Errc::Protocol);
    // A bad source name is refused like any other name.
    auto spaced = f;
    spaced[8 + 1] = std::byte{' '};
    CHECK(validate(spaced, Expect::FromAgent, protocol_v4).error().code() == Errc::Protocol);
}

TEST_CASE("the writer refuses triggers the session's version does not have") {
    CHECK(FrameWriter::encode(TriggerService3{"work", "1", "qubes.Foo"}, protocol_v2)
              .error()
              .code() == Errc::Invalid);
    CHECK(FrameWriter::encode(TriggerService4{"", "work", "1", "qubes.Foo"}, protocol_v3)
              .error()
              .code() == Errc::Invalid);
    CHECK(FrameWriter::encode(TriggerService4{"", "work", "1", "qubes.Foo"}).error().code() ==
          Errc::Invalid); // we speak v3
    FrameWriter w;
    w.set_version(protocol_v2);
    CHECK(w.push(TriggerService3{"work", "1", "qubes.Foo"}).error().code() == Errc::Invalid);
    CHECK(w.queued() == 0); // nothing half-encoded left behind
    CHECK(w.push(TriggerService{"qubes.Foo", "work", "1"}).has_value());
}
