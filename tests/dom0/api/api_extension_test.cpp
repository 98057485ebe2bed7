// ApiServer extensions: request kinds 100-199 go to the extension; its reply may carry a
// descriptor (one sendmsg with the frame, read by ApiClient::call_with_fd) and an
// after_close callback run when that client's connection closes.
#include "api_fixture.h"

#include <bulkhead/base/sys/fd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::dom0;
using namespace bulkhead::dom0::test;

namespace {
// A request whose kind is in the extension range (100-199), found by reflection so the
// suite does not depend on which daemon messages exist; nullopt when there is none yet.
std::optional<admin::Request> extension_request() {
    auto const* oneof = admin::Request::descriptor()->FindOneofByName("kind");
    for (int i = 0; oneof && i < oneof->field_count(); ++i) {
        auto const* f = oneof->field(i);
        if (f->number() >= 100 && f->number() < 200 &&
            f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
            admin::Request r;
            r.GetReflection()->MutableMessage(&r, f);
            return r;
        }
    }
    return std::nullopt;
}

admin::Response ok_value(std::string v) {
    admin::Response r;
    r.mutable_ok()->set_value(std::move(v));
    return r;
}

template <typename F>
bool eventually(F f) {
    for (int i = 0; i < 200; ++i) {
        if (f())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}
} // namespace

TEST_CASE("extension requests without an extension are UNSUPPORTED") {
    auto req = extension_request();
    if (!req) {
        WARN("admin.proto has no request kind in 100-199 yet; extension path not exercised");
        return;
    }
    ApiFixture f;
    auto c = f.client();
    auto r = c.call(*req);
    REQUIRE(r);
    REQUIRE(r->has_error());
    CHECK(r->error().code() == admin::UNSUPPORTED);
}

TEST_CASE("extension reply with a descriptor arrives with its frame") {
    auto req = extension_request();
    if (!req) {
        WARN("admin.proto has no request kind in 100-199 yet; extension path not exercised");
        return;
    }
    ApiFixture f;
    std::atomic<int> calls{0};
    std::atomic<pid_t> seen_pid{0};
    f.server->set_extension([&](admin::Request const&, PeerCred peer) -> Result<ExtensionReply> {
        seen_pid = peer.pid;
        int n = ++calls;
        if (n == 2)
            return unexpected(Errc::Denied, "second call refused");
        if (n == 3)
            return ExtensionReply{ok_value("no fd"), {}, {}};
        if (n == 4) // too large to go with a descriptor
            return ExtensionReply{ok_value(std::string(5000, 'x')),
                                  TRY(sys::open("/dev/null", O_RDONLY | O_CLOEXEC)),
                                  {}};
        auto [r, w] = TRY(sys::pipe());
        TRY(sys::write_all(w.get(), "through the fd"));
        return ExtensionReply{ok_value("here"), std::move(r), {}};
    });
    auto c = f.client();
    auto got = c.call_with_fd(*req);
    REQUIRE(got);
    CHECK(got->first.ok().value() == "here");
    REQUIRE(got->second.valid());
    CHECK(sys::read_to_end(got->second.get()).value() == "through the fd");
    CHECK(seen_pid == getpid());

    got = c.call_with_fd(*req); // an error reply has no descriptor
    REQUIRE(got);
    CHECK(got->first.error().code() == admin::DENIED);
    CHECK(got->first.error().message() == "second call refused");
    CHECK(!got->second.valid());

    got = c.call_with_fd(*req);
    REQUIRE(got);
    CHECK(got->first.ok().value() == "no fd");
    CHECK(!got->second.valid());

    got = c.call_with_fd(*req);
    REQUIRE(got);
    CHECK(got->first.error().code() == admin::INTERNAL);
    CHECK(!got->second.valid());

    // The connection still serves ordinary calls, through either entry point.
    auto plain = c.call_with_fd([] {
        admin::Request r;
        r.mutable_list_domains();
        return r;
    }());
    REQUIRE(plain);
    CHECK(plain->first.ok().domains_size() == 1);
    CHECK(!plain->second.valid());
}

TEST_CASE("call_with_fd reads replies longer than one recvmsg") {
    ApiFixture f;
    for (int i = 0; i < 40; ++i)
        f.make("standalone-" + std::to_string(i), Klass::StandaloneVM);
    auto c = f.client();
    admin::Request r;
    r.mutable_list_domains()->set_with_properties(true);
    auto got = c.call_with_fd(r);
    REQUIRE(got);
    CHECK(got->first.ByteSizeLong() > 16384);
    CHECK(got->first.ok().domains_size() == 41);
    CHECK(!got->second.valid());
    CHECK(c.call(r)->ok().domains_size() == 41); // the stream stayed in step
}

TEST_CASE("after_close runs when that client's connection closes, not before") {
    auto req = extension_request();
    if (!req) {
        WARN("admin.proto has no request kind in 100-199 yet; extension path not exercised");
        return;
    }
    ApiFixture f;
    std::atomic<int> closed{0};
    f.server->set_extension([&](admin::Request const&, PeerCred) -> Result<ExtensionReply> {
        return ExtensionReply{ok_value("kept"), {}, [&] { ++closed; }};
    });
    {
        auto c = f.client();
        auto other = f.client();
        REQUIRE(c.call(*req)->ok().value() == "kept");
        REQUIRE(c.call(*req)->ok().value() == "kept");
        REQUIRE(other.call(*req)->ok().value() == "kept");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        CHECK(closed == 0);
    }
    CHECK(eventually([&] { return closed == 3; }));

    // Still-open clients get theirs when the server stops.
    auto c = f.client();
    REQUIRE(c.call(*req)->has_ok());
    f.server->stop();
    CHECK(closed == 4);

    // Without a connection (handle/handle_bytes) it runs at once.
    CHECK(f.server->handle(*req, {1, 0, 0}).has_ok());
    CHECK(closed == 5);
}
