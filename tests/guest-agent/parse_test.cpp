#include <bulkhead/agent/passwd.h>
#include <bulkhead/agent/service.h>

#include <catch2/catch.hpp>

using namespace bulkhead;
using namespace bulkhead::agent;

TEST_CASE("passwd: entries, malformed lines, groups") {
    std::string passwd = "root:x:0:0:root:/root:/bin/sh\n"
                         "broken line\n"
                         "bad:x:notanumber:1:::\n"
                         "user:x:1000:1000::/home/user:\n"
                         "other:x:1001:1001:o:/home/o:/bin/false\n";
    auto u = find_user(passwd, "user");
    REQUIRE(u);
    CHECK(u->uid == 1000);
    CHECK(u->gid == 1000);
    CHECK(u->home == "/home/user");
    CHECK(u->shell == "/bin/sh");
    CHECK_FALSE(find_user(passwd, "bad"));
    CHECK_FALSE(find_user(passwd, "nobody"));
    CHECK_FALSE(find_user(passwd, ""));
    CHECK(find_user(passwd, "root")->home == "/root");
    auto groups = groups_of("wheel:x:10:root,user\nuser:x:1000:\naudio:x:29:user\nx:y\n", "user");
    CHECK(groups == std::vector<gid_t>{10, 29});
}

TEST_CASE("passwd: root resolves without a file") {
    auto r = lookup_user("root", "/nonexistent/passwd").value();
    REQUIRE(r);
    CHECK(r->uid == 0);
    CHECK_FALSE(lookup_user("user", "/nonexistent/passwd").value());
}

TEST_CASE("service call parsing") {
    CHECK(strip_nogui("nogui:QUBESRPC a b") == "QUBESRPC a b");
    CHECK(strip_nogui("echo nogui:") == "echo nogui:");
    CHECK_FALSE(parse_service_call("echo hi").value());
    auto c = parse_service_call("QUBESRPC qubes.Filecopy+a+b work").value();
    REQUIRE(c);
    CHECK(c->service == "qubes.Filecopy");
    CHECK(c->arg == "a+b");
    CHECK(c->source == "work");
    CHECK(c->full_name() == "qubes.Filecopy+a+b");
    CHECK_FALSE(parse_service_call("QUBESRPC qubes.Echo").has_value());
    CHECK_FALSE(parse_service_call("QUBESRPC ../x src").has_value());
    CHECK_FALSE(parse_service_call("QUBESRPC .. src").has_value());
    CHECK_FALSE(parse_service_call("QUBESRPC a+../b src").has_value());
    CHECK_FALSE(parse_service_call("QUBESRPC a/b src").has_value());
    CHECK_FALSE(parse_service_call("QUBESRPC a src/x").has_value());
}

TEST_CASE("rpc-config parsing") {
    auto c =
        parse_service_config("# comment\nwait-for-session = 1\nskip-service-descriptor='true'\n"
                             "unknown=1\nnot a pair\n");
    CHECK(c.wait_for_session);
    CHECK(c.skip_service_descriptor);
    auto d = parse_service_config("wait-for-session=0\nskip-service-descriptor=false\n");
    CHECK_FALSE(d.wait_for_session);
    CHECK_FALSE(d.skip_service_descriptor);
    CHECK(split_search_path("/a::/b:") == std::vector<std::string>{"/a", "/b"});
}
