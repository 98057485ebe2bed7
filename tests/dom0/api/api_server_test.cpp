// ApiServer over a real Store and a recording Lifecycle, driven through ApiClient on a temp
// socket: every request kind, the error paths (nothing changes on error), socket mode,
// framing limits, the client cap and stop().
#include "api_fixture.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/poll.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/dom0/api/framing.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::dom0;
using namespace bulkhead::dom0::test;

namespace {
admin::ErrorCode code_of(admin::Response const& r) {
    return r.has_error() ? r.error().code() : admin::ERROR_UNSPECIFIED;
}

admin::Response call(ApiClient& c, admin::Request const& req) {
    auto r = c.call(req);
    INFO((r ? "" : r.error().message()));
    REQUIRE(r);
    return *r;
}

admin::Ok call_ok(ApiClient& c, admin::Request const& req) {
    auto r = c.call(req);
    REQUIRE(r);
    INFO((r->has_error() ? r->error().message() : ""));
    REQUIRE(r->has_ok());
    return r->ok();
}

admin::Request create(std::string name, std::string klass, std::string tmpl, std::string label,
                      std::map<std::string, std::string> props = {}) {
    admin::Request r;
    auto* c = r.mutable_create();
    c->set_name(name);
    c->set_klass(klass);
    c->set_template_(tmpl);
    c->set_label(label);
    for (auto& [k, v] : props)
        (*c->mutable_properties())[k] = v;
    return r;
}
admin::Request prop_set(std::string d, std::string p, std::string v) {
    admin::Request r;
    r.mutable_property_set()->set_domain(d);
    r.mutable_property_set()->set_name(p);
    r.mutable_property_set()->set_value(v);
    return r;
}
admin::Request prop_get(std::string d, std::string p) {
    admin::Request r;
    r.mutable_property_get()->set_domain(d);
    r.mutable_property_get()->set_name(p);
    return r;
}
admin::Request prop_reset(std::string d, std::string p) {
    admin::Request r;
    r.mutable_property_reset()->set_domain(d);
    r.mutable_property_reset()->set_name(p);
    return r;
}
admin::Request remove_req(std::string d) {
    admin::Request r;
    r.mutable_remove()->set_name(d);
    return r;
}
admin::Request list(bool props = false) {
    admin::Request r;
    r.mutable_list_domains()->set_with_properties(props);
    return r;
}

admin::DomainInfo const* find(admin::Ok const& ok, std::string const& name) {
    for (auto const& d : ok.domains())
        if (d.name() == name)
            return &d;
    return nullptr;
}
} // namespace

TEST_CASE("list domains: classes, power states, label, template, netvm, properties") {
    ApiFixture f;
    f.basic();
    f.life.set_state("work", "Running");
    auto c = f.client();
    auto ok = call_ok(c, list());
    REQUIRE(ok.domains_size() == 5);
    auto const* work = find(ok, "work");
    REQUIRE(work);
    CHECK(work->klass() == "AppVM");
    CHECK(work->state() == "Running");
    CHECK(work->label() == "red");
    CHECK(work->template_() == "fedora");
    CHECK(work->netvm() == "sys-net");
    CHECK(work->uuid().size() == 36);
    CHECK(work->properties_size() == 0);
    auto const* dom0 = find(ok, "dom0");
    REQUIRE(dom0);
    CHECK(dom0->klass() == "AdminVM");
    CHECK(dom0->qid() == 0);
    CHECK(dom0->state() == "Running");
    CHECK(find(ok, "fedora")->state() == "Halted");

    auto full = call_ok(c, list(true));
    auto const* w = find(full, "work");
    REQUIRE(w->properties_size() > 10);
    bool saw_memory = false;
    for (auto const& p : w->properties())
        if (p.name() == "memory") {
            saw_memory = true;
            CHECK(p.value() == "400");
            CHECK(p.is_default());
            CHECK(p.type() == "int");
        }
    CHECK(saw_memory);
}

TEST_CASE("create, clone and remove") {
    ApiFixture f;
    f.basic();
    auto c = f.client();
    call_ok(c, create("mail", "", "fedora", "blue", {{"memory", "800"}}));
    CHECK(f.store->get("mail")->klass == Klass::AppVM);
    CHECK(f.prop("mail", "label") == "blue");
    CHECK(f.prop("mail", "memory") == "800");
    CHECK(f.prop("mail", "template") == "fedora");
    call_ok(c, create("tpl2", "TemplateVM", "", "black"));
    CHECK(f.store->get("tpl2")->klass == Klass::TemplateVM);

    admin::Request cl;
    cl.mutable_clone()->set_source("mail");
    cl.mutable_clone()->set_name("mail2");
    call_ok(c, cl);
    CHECK(f.prop("mail2", "memory") == "800");
    CHECK(f.prop("mail2", "uuid") != f.prop("mail", "uuid"));

    call_ok(c, remove_req("mail2"));
    CHECK(!f.store->get("mail2"));
    CHECK(f.life.calls() == std::vector<std::string>{"before_remove mail2"});
}

TEST_CASE("properties: get, set, reset, list") {
    ApiFixture f;
    f.basic();
    auto c = f.client();
    auto got = call_ok(c, prop_get("work", "memory"));
    REQUIRE(got.properties_size() == 1);
    CHECK(got.properties(0).value() == "400");
    CHECK(got.properties(0).is_default());
    call_ok(c, prop_set("work", "memory", "1024"));
    got = call_ok(c, prop_get("work", "memory"));
    CHECK(got.properties(0).value() == "1024");
    CHECK(!got.properties(0).is_default());
    call_ok(c, prop_set("work", "autostart", "true"));
    CHECK(f.prop("work", "autostart") == "True");
    call_ok(c, prop_set("work", "netvm", ""));
    CHECK(f.prop("work", "netvm") == "");
    call_ok(c, prop_reset("work", "memory"));
    CHECK(f.prop("work", "memory") == "400");

    admin::Request pl;
    pl.mutable_property_list()->set_domain("work");
    auto all = call_ok(c, pl);
    std::vector<std::string> names;
    for (auto const& p : all.properties())
        names.push_back(p.name());
    CHECK(std::find(names.begin(), names.end(), "template") != names.end());
    CHECK(std::find(names.begin(), names.end(), "qid") != names.end());
    CHECK(all.properties_size() == int(property_names(Klass::AppVM).size()));
}

TEST_CASE("tags, features and globals") {
    ApiFixture f;
    f.basic();
    auto c = f.client();
    admin::Request r;
    r.mutable_tag_add()->set_domain("work");
    r.mutable_tag_add()->set_tag("project-x");
    call_ok(c, r);
    r.Clear();
    r.mutable_tags_list()->set_domain("work");
    auto tags = call_ok(c, r);
    REQUIRE(tags.tags_size() == 1);
    CHECK(tags.tags(0) == "project-x");
    r.Clear();
    r.mutable_tag_remove()->set_domain("work");
    r.mutable_tag_remove()->set_tag("project-x");
    call_ok(c, r);
    CHECK(f.store->list_tags("work")->empty());
    CHECK(code_of(call(c, r)) == admin::NOT_FOUND);

    r.Clear();
    r.mutable_feature_set()->set_domain("work");
    r.mutable_feature_set()->set_key("gui");
    r.mutable_feature_set()->set_value("1");
    call_ok(c, r);
    r.Clear();
    r.mutable_feature_get()->set_domain("work");
    r.mutable_feature_get()->set_key("gui");
    CHECK(call_ok(c, r).value() == "1");
    r.Clear();
    r.mutable_features_list()->set_domain("work");
    auto feats = call_ok(c, r);
    CHECK(feats.features().at("gui") == "1");
    r.Clear();
    r.mutable_feature_remove()->set_domain("work");
    r.mutable_feature_remove()->set_key("gui");
    call_ok(c, r);
    r.Clear();
    r.mutable_feature_get()->set_domain("work");
    r.mutable_feature_get()->set_key("gui");
    CHECK(code_of(call(c, r)) == admin::NOT_FOUND);

    r.Clear();
    r.mutable_global_set()->set_name("default_template");
    r.mutable_global_set()->set_value("fedora");
    call_ok(c, r);
    r.Clear();
    r.mutable_global_get()->set_name("default_template");
    CHECK(call_ok(c, r).value() == "fedora");
    r.Clear();
    r.mutable_global_list();
    CHECK(call_ok(c, r).properties_size() == int(global_defs().size()));
    r.Clear();
    r.mutable_global_set()->set_name("default_netvm");
    r.mutable_global_set()->set_value("work");
    CHECK(code_of(call(c, r)) == admin::INVALID);
    r.Clear();
    r.mutable_global_get()->set_name("nosuch");
    CHECK(code_of(call(c, r)) == admin::NOT_FOUND);
}

TEST_CASE("power operations go to the Lifecycle") {
    ApiFixture f;
    f.basic();
    auto c = f.client();
    admin::Request r;
    r.mutable_start()->set_name("work");
    call_ok(c, r);
    CHECK(f.life.power_state("work") == "Running");
    CHECK(code_of(call(c, r)) == admin::BUSY); // already running: the Lifecycle's error
    r.Clear();
    r.mutable_pause()->set_name("work");
    call_ok(c, r);
    CHECK(f.life.power_state("work") == "Paused");
    r.Clear();
    r.mutable_unpause()->set_name("work");
    call_ok(c, r);
    r.Clear();
    r.mutable_shutdown()->set_name("work");
    r.mutable_shutdown()->set_wait(true);
    call_ok(c, r);
    r.Clear();
    r.mutable_start()->set_name("work");
    call_ok(c, r);
    r.Clear();
    call_ok(c, prop_set("work", "shutdown_timeout", "7"));
    r.mutable_shutdown()->set_name("work");
    call_ok(c, r);
    f.life.set_state("work", "Running");
    r.Clear();
    r.mutable_shutdown()->set_name("work");
    r.mutable_shutdown()->set_timeout_seconds(3);
    call_ok(c, r);
    f.life.set_state("work", "Running");
    r.Clear();
    r.mutable_kill()->set_name("work");
    call_ok(c, r);
    CHECK(f.life.calls() == std::vector<std::string>{"start work", "start work", "pause work",
                                                     "unpause work", "shutdown work wait 60",
                                                     "start work", "shutdown work nowait 7",
                                                     "shutdown work nowait 3", "kill work"});
}

TEST_CASE("unknown domains are NOT_FOUND for every kind, and nothing is called") {
    ApiFixture f;
    f.basic();
    auto c = f.client();
    std::vector<admin::Request> reqs(20);
    reqs[0].mutable_remove()->set_name("nosuch");
    reqs[1].mutable_clone()->set_source("nosuch");
    reqs[1].mutable_clone()->set_name("other");
    reqs[2] = prop_get("nosuch", "memory");
    reqs[3] = prop_set("nosuch", "memory", "1");
    reqs[4] = prop_reset("nosuch", "memory");
    reqs[5].mutable_property_list()->set_domain("nosuch");
    reqs[6].mutable_tags_list()->set_domain("nosuch");
    reqs[7].mutable_tag_add()->set_domain("nosuch");
    reqs[7].mutable_tag_add()->set_tag("t");
    reqs[8].mutable_tag_remove()->set_domain("nosuch");
    reqs[8].mutable_tag_remove()->set_tag("t");
    reqs[9].mutable_features_list()->set_domain("nosuch");
    reqs[10].mutable_feature_get()->set_domain("nosuch");
    reqs[11].mutable_feature_set()->set_domain("nosuch");
    reqs[11].mutable_feature_set()->set_key("k");
    reqs[12].mutable_feature_remove()->set_domain("nosuch");
    reqs[12].mutable_feature_remove()->set_key("k");
    reqs[13].mutable_start()->set_name("nosuch");
    reqs[14].mutable_shutdown()->set_name("nosuch");
    reqs[15].mutable_kill()->set_name("nosuch");
    reqs[16].mutable_pause()->set_name("nosuch");
    reqs[17].mutable_unpause()->set_name("nosuch");
    reqs[18] = prop_set("work", "netvm", "nosuch");
    reqs[19] = create("x", "AppVM", "nosuch", "red");
    auto gen = f.store->generation();
    for (auto const& r : reqs) {
        auto resp = call(c, r);
        INFO(r.ShortDebugString());
        CHECK(code_of(resp) == admin::NOT_FOUND);
        if (resp.has_error())
            CHECK(resp.error().message().find("nosuch") != std::string::npos);
    }
    CHECK(f.store->generation() == gen);
    CHECK(f.life.calls().empty());
    CHECK(f.prop("work", "netvm") == "sys-net");
}

TEST_CASE("invalid names, properties and values are refused and change nothing") {
    ApiFixture f;
    f.basic();
    auto c = f.client();
    auto gen = f.store->generation();
    for (std::string bad : {"", "1abc", "has space", "none", "default", "sys-x-dm", "dom0",
                            "a2345678901234567890123456789012", "x/y", "na\xc3\xafve"}) {
        INFO(bad);
        CHECK(code_of(call(c, create(bad, "AppVM", "fedora", "red"))) == admin::INVALID);
    }
    CHECK(code_of(call(c, create("ok", "NoSuchClass", "fedora", "red"))) == admin::INVALID);
    CHECK(code_of(call(c, create("ok", "AdminVM", "", "red"))) == admin::INVALID);
    CHECK(code_of(call(c, create("ok", "AppVM", "fedora", ""))) == admin::INVALID);
    CHECK(code_of(call(c, create("ok", "AppVM", "fedora", "pink"))) == admin::INVALID);
    CHECK(code_of(call(c, create("ok", "AppVM", "work", "red"))) == admin::INVALID);
    CHECK(code_of(call(c, create("ok", "AppVM", "fedora", "red", {{"qid", "9"}}))) ==
          admin::INVALID);
    CHECK(code_of(call(c, create("ok", "AppVM", "fedora", "red", {{"nosuch", "1"}}))) ==
          admin::NOT_FOUND);
    CHECK(code_of(call(c, create("work", "AppVM", "fedora", "red"))) == admin::EXISTS);
    admin::Request cl;
    cl.mutable_clone()->set_source("work");
    cl.mutable_clone()->set_name("fedora");
    CHECK(code_of(call(c, cl)) == admin::EXISTS);
    cl.mutable_clone()->set_name("bad name");
    CHECK(code_of(call(c, cl)) == admin::INVALID);
    cl.mutable_clone()->set_source("dom0");
    cl.mutable_clone()->set_name("dom1");
    CHECK(code_of(call(c, cl)) == admin::INVALID);

    CHECK(code_of(call(c, prop_set("work", "nosuch", "1"))) == admin::NOT_FOUND);
    CHECK(code_of(call(c, prop_get("work", "nosuch"))) == admin::NOT_FOUND);
    CHECK(code_of(call(c, prop_set("work", "memory", "lots"))) == admin::INVALID);
    CHECK(code_of(call(c, prop_set("work", "memory", "-1"))) == admin::INVALID);
    CHECK(code_of(call(c, prop_set("work", "autostart", "maybe"))) == admin::INVALID);
    CHECK(code_of(call(c, prop_set("work", "label", "pink"))) == admin::INVALID);
    CHECK(code_of(call(c, prop_set("work", "virt_mode", "kvm"))) == admin::INVALID);
    CHECK(code_of(call(c, prop_set("work", "name", "other"))) == admin::INVALID);
    CHECK(code_of(call(c, prop_set("work", "qid", "5"))) == admin::INVALID);
    CHECK(code_of(call(c, prop_set("work", "netvm", "fedora"))) == admin::INVALID);
    CHECK(code_of(call(c, prop_set("work", "netvm", "work"))) == admin::INVALID);
    CHECK(code_of(call(c, prop_set("work", "template", "dvm"))) == admin::INVALID);
    CHECK(code_of(call(c, prop_set("work", "default_user", "a\nb"))) == admin::INVALID);
    CHECK(f.store->generation() == gen);
    CHECK(f.prop("work", "netvm") == "sys-net");
    CHECK(f.prop("work", "template") == "fedora");
}

TEST_CASE("netvm and template loops are refused") {
    ApiFixture f;
    f.basic();
    f.make("net-a", Klass::StandaloneVM, {{"provides_network", "True"}});
    f.make("net-b", Klass::StandaloneVM, {{"provides_network", "True"}, {"netvm", "net-a"}});
    f.make("tpl-a", Klass::TemplateVM);
    f.make("tpl-b", Klass::TemplateVM, {{"template", "tpl-a"}});
    auto c = f.client();
    auto gen = f.store->generation();
    auto r = call(c, prop_set("net-a", "netvm", "net-b"));
    CHECK(code_of(r) == admin::INVALID);
    CHECK(r.error().message().find("loop") != std::string::npos);
    r = call(c, prop_set("tpl-a", "template", "tpl-b"));
    CHECK(code_of(r) == admin::INVALID);
    CHECK(r.error().message().find("loop") != std::string::npos);
    CHECK(f.store->generation() == gen);
}

TEST_CASE("remove refuses running domains, templates in use and dom0; nothing changes") {
    ApiFixture f;
    f.basic();
    auto c = f.client();
    auto gen = f.store->generation();
    f.life.set_state("work", "Running");
    auto r = call(c, remove_req("work"));
    CHECK(code_of(r) == admin::BUSY);
    CHECK(r.error().message().find("Running") != std::string::npos);
    f.life.set_state("work", "Paused");
    CHECK(code_of(call(c, remove_req("work"))) == admin::BUSY);
    r = call(c, remove_req("fedora"));
    CHECK(code_of(r) == admin::BUSY);
    CHECK(r.error().message().find("template") != std::string::npos);
    CHECK(code_of(call(c, remove_req("sys-net"))) == admin::BUSY); // netvm of work
    CHECK(code_of(call(c, remove_req("dom0"))) == admin::DENIED);
    CHECK(f.store->generation() == gen);
    CHECK(f.life.calls().empty()); // before_remove never ran
    CHECK(f.store->get("work"));
    CHECK(f.store->get("fedora"));

    // Template and netvm changes need the domain halted; label does not.
    f.life.set_state("work", "Running");
    CHECK(code_of(call(c, prop_set("work", "template", "fedora"))) == admin::BUSY);
    CHECK(code_of(call(c, prop_reset("work", "template"))) == admin::BUSY);
    call_ok(c, prop_set("work", "label", "green"));
    call_ok(c, prop_set("work", "netvm", ""));
}

TEST_CASE("socket mode: 0660 with group bulkhead-admin when it exists, else 0600") {
    ApiFixture f;
    auto st = sys::stat(f.socket);
    REQUIRE(st);
    CHECK(S_ISSOCK(st->st_mode));
    auto gid = sys::lookup_group("bulkhead-admin");
    REQUIRE(gid);
    if (*gid) {
        CHECK((st->st_mode & 07777) == 0660);
        CHECK(st->st_gid == **gid);
    } else {
        CHECK((st->st_mode & 07777) == 0600);
    }
}

namespace {
// A raw connection for framing tests.
UniqueFd raw_connect(std::string const& path) {
    auto fd = sys::unix_connect(path);
    REQUIRE(fd);
    return std::move(*fd);
}
bool closed_soon(int fd) {
    for (int i = 0; i < 100; ++i) {
        auto ev = sys::poll_one(fd, POLLIN, std::chrono::milliseconds(50));
        REQUIRE(ev);
        if (*ev) {
            char b;
            auto n = sys::read(fd, std::as_writable_bytes(std::span(&b, 1)));
            return !n || *n == 0;
        }
    }
    return false;
}
admin::Response read_response(int fd) {
    auto frame = api::read_frame(fd);
    REQUIRE(frame);
    admin::Response r;
    REQUIRE(r.ParseFromString(*frame));
    return r;
}
} // namespace

TEST_CASE("framing: oversized length closes that connection only") {
    ApiFixture f;
    f.basic();
    auto other = f.client();
    auto bad = raw_connect(f.socket);
    std::string hdr("\x01\x00\x00\x02", 4); // 32 MiB + 1
    REQUIRE(sys::write_all(bad.get(), hdr));
    auto r = read_response(bad.get());
    CHECK(code_of(r) == admin::LIMIT);
    CHECK(closed_soon(bad.get()));
    CHECK(call_ok(other, list()).domains_size() == 5);
    auto fresh = f.client();
    CHECK(call_ok(fresh, list()).domains_size() == 5);
}

TEST_CASE("framing: malformed and truncated frames") {
    ApiFixture f;
    auto conn = raw_connect(f.socket);
    // Not a protobuf: an error reply, and the connection keeps serving.
    REQUIRE(api::write_frame(conn.get(), std::string("\xff\xff\xff\xff", 4)));
    CHECK(code_of(read_response(conn.get())) == admin::PROTOCOL);
    // A valid message naming no operation.
    REQUIRE(api::write_frame(conn.get(), ""));
    CHECK(code_of(read_response(conn.get())) == admin::PROTOCOL);
    // Over-long string field.
    admin::Request big;
    big.mutable_tag_add()->set_domain("dom0");
    big.mutable_tag_add()->set_tag(std::string(5000, 'a'));
    REQUIRE(api::write_frame(conn.get(), big.SerializeAsString()));
    CHECK(code_of(read_response(conn.get())) == admin::PROTOCOL);
    // Invalid UTF-8.
    big.mutable_tag_add()->set_tag("\xc3\x28");
    REQUIRE(api::write_frame(conn.get(), big.SerializeAsString()));
    CHECK(code_of(read_response(conn.get())) == admin::PROTOCOL);
    REQUIRE(api::write_frame(conn.get(), list().SerializeAsString()));
    CHECK(read_response(conn.get()).has_ok());
    // Truncated: header promises 100 bytes, 10 arrive, then the client goes away.
    auto trunc = raw_connect(f.socket);
    REQUIRE(sys::write_all(trunc.get(), std::string("\x64\x00\x00\x00"
                                                    "0123456789",
                                                    14)));
    trunc.reset();
    auto c = f.client();
    CHECK(call_ok(c, list()).domains_size() == 1);
}

TEST_CASE("max clients: the extra connection gets LIMIT, a slot frees on close") {
    ApiFixture f(2);
    auto a = f.client();
    std::optional<ApiClient> b(f.client());
    call_ok(a, list());
    call_ok(*b, list());
    auto third = raw_connect(f.socket);
    CHECK(code_of(read_response(third.get())) == admin::LIMIT);
    CHECK(closed_soon(third.get()));
    b.reset();
    bool served = false;
    for (int i = 0; i < 100 && !served; ++i) {
        auto c = f.client();
        auto r = c.call(list());
        served = r && r->has_ok();
        if (!served)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(served);
}

TEST_CASE("stop() closes idle clients, joins, removes the socket; idempotent") {
    ApiFixture f;
    auto a = f.client();
    auto b = f.client();
    call_ok(a, list());
    f.server->stop();
    CHECK(!sys::exists(f.socket));
    CHECK(closed_soon(a.fd()));
    CHECK(!b.call(list()));
    f.server->stop();
    CHECK(!ApiClient::connect(f.socket));
}

TEST_CASE("several clients at once") {
    ApiFixture f;
    f.basic();
    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&, t] {
            auto c = ApiClient::connect(f.socket);
            if (!c)
                return;
            for (int i = 0; i < 20; ++i) {
                admin::Request r;
                r.mutable_tag_add()->set_domain("work");
                r.mutable_tag_add()->set_tag("t" + std::to_string(t) + "-" + std::to_string(i));
                auto resp = c->call(r);
                if (resp && resp->has_ok())
                    ++good;
            }
        });
    for (auto& t : threads)
        t.join();
    CHECK(good == 120);
    CHECK(f.store->list_tags("work")->size() == 120);
}

TEST_CASE("handle_bytes never fails: garbage becomes an encoded error") {
    ApiFixture f(32, false);
    admin::Response r;
    REQUIRE(r.ParseFromString(f.server->handle_bytes("\x0a\xff", {1, 0, 0})));
    CHECK(code_of(r) == admin::PROTOCOL);
    REQUIRE(r.ParseFromString(f.server->handle_bytes(list().SerializeAsString(), {1, 0, 0})));
    CHECK(r.has_ok());
}
