// The busybox template layer has what bulkhead-agent needs inside a domain.
#include <bulkhead/agent/passwd.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/templates/template_store.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <unistd.h>

using namespace bulkhead;

TEST_CASE("busybox layer: passwd, group, home, services, /run, /var/run -> /run") {
    auto dir = sys::make_temp_dir("/tmp/bh-agent-layer-").value();
    auto start = std::chrono::steady_clock::now();
    REQUIRE(templates::build_busybox_layer(dir + "/base", "/bin/busybox").has_value());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    auto base = dir + "/base";
    auto user = agent::lookup_user("user", base + "/etc/passwd").value();
    REQUIRE(user);
    CHECK(user->uid == 1000);
    CHECK(user->gid == 1000);
    CHECK(user->home == "/home/user");
    CHECK(user->shell == "/bin/sh");
    auto root = agent::find_user(sys::read_file(base + "/etc/passwd").value(), "root");
    REQUIRE(root);
    CHECK(root->uid == 0);
    auto group = sys::read_file(base + "/etc/group").value();
    CHECK(group.find("root:x:0:") != std::string::npos);
    CHECK(group.find("user:x:1000:") != std::string::npos);
    CHECK(S_ISDIR(sys::stat(base + "/home/user").value().st_mode));
    CHECK(S_ISDIR(sys::stat(base + "/run").value().st_mode));
    CHECK(S_ISDIR(sys::stat(base + "/tmp").value().st_mode));
    CHECK(sys::readlink(base + "/var/run").value() == "/run");
    for (auto svc : {"qubes.Echo", "qubes.Hostname"})
        CHECK(::access((base + "/etc/qubes-rpc/" + svc).c_str(), X_OK) == 0);
    CHECK(::access((base + "/bin/sh").c_str(), F_OK) == 0);
    (void)sys::remove_tree(dir);
}
