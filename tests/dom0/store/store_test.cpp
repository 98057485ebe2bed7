// Store: domain CRUD, properties with defaults and validation, chains, tags, features,
// globals, layers. Each test uses a fresh temp root.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/dom0/store/store.h>

#include <catch2/catch.hpp>

using namespace bulkhead;
using namespace bulkhead::dom0;

namespace {
struct Fixture {
    std::string root = sys::make_temp_dir("/tmp/bh-store").value();
    std::unique_ptr<Store> s = Store::open(root).value();
    ~Fixture() { (void)sys::remove_tree(root); }

    void make(std::string name, Klass k, std::map<std::string, std::string> props = {}) {
        auto r = s->create({name, k, "red", props});
        INFO((r ? "" : r.error().message()));
        REQUIRE(r);
    }
    // A typical layout: fedora (template), sys-net (netvm), work (AppVM), dvm-tpl.
    void basic() {
        make("fedora", Klass::TemplateVM);
        make("sys-net", Klass::StandaloneVM, {{"provides_network", "True"}});
        make("work", Klass::AppVM, {{"template", "fedora"}});
        make("dvm", Klass::AppVM, {{"template", "fedora"}, {"template_for_dispvms", "True"}});
    }
    std::string prop(std::string d, std::string p) { return s->get_property(d, p).value().value; }
};
} // namespace

TEST_CASE("dom0 exists after first open and the db file is where documented") {
    Fixture f;
    REQUIRE(sys::exists(f.root + "/store/domains.db"));
    auto d = f.s->get("dom0");
    REQUIRE(d);
    CHECK(d->klass == Klass::AdminVM);
    CHECK(d->qid == 0);
    CHECK(f.prop("dom0", "label") == "black");
    auto again = Store::open(f.root);
    REQUIRE(again);
    CHECK((*again)->list().value().size() == 1);
}

TEST_CASE("create, defaults, set and reset") {
    Fixture f;
    f.basic();
    CHECK(f.prop("work", "memory") == "400");
    CHECK(f.prop("work", "maxmem") == "4000");
    CHECK(f.prop("work", "vcpus") == "2");
    CHECK(f.prop("work", "default_user") == "user");
    CHECK(f.prop("work", "virt_mode") == "pvh");
    CHECK(f.prop("work", "qrexec_timeout") == "60");
    CHECK(f.prop("work", "netvm") == "");
    CHECK(f.prop("work", "klass") == "AppVM");
    CHECK(f.s->get_property("work", "memory")->is_default);
    auto uuid = f.prop("work", "uuid");
    CHECK(uuid.size() == 36);

    uint64_t g = f.s->generation();
    REQUIRE(f.s->set_property("work", "memory", "800"));
    CHECK(f.s->generation() == g + 1);
    CHECK(f.prop("work", "memory") == "800");
    CHECK_FALSE(f.s->get_property("work", "memory")->is_default);
    REQUIRE(f.s->reset_property("work", "memory"));
    CHECK(f.prop("work", "memory") == "400");
    REQUIRE(f.s->set_property("work", "autostart", "true"));
    CHECK(f.prop("work", "autostart") == "True");

    REQUIRE(f.s->set_global("default_netvm", "sys-net"));
    CHECK(f.prop("work", "netvm") == "sys-net");
    CHECK(f.prop("sys-net", "netvm") == ""); // never itself
    CHECK(f.prop("fedora", "netvm") == "");  // templates: no network by default
}

TEST_CASE("validation errors change nothing") {
    Fixture f;
    f.basic();
    uint64_t g = f.s->generation();
    auto r = f.s->set_property("work", "netvm", "nosuch");
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::NotFound);
    CHECK(r.error().message().find("'nosuch' does not exist") != std::string::npos);
    CHECK(f.s->set_property("work", "nosuchprop", "1").error().code() == Errc::NotFound);
    CHECK(f.s->set_property("work", "memory", "lots").error().code() == Errc::Invalid);
    CHECK(f.s->set_property("work", "autostart", "maybe").error().code() == Errc::Invalid);
    CHECK(f.s->set_property("work", "label", "pink").error().code() == Errc::Invalid);
    CHECK(f.s->set_property("work", "virt_mode", "xx").error().code() == Errc::Invalid);
    CHECK(f.s->set_property("work", "name", "other").error().code() == Errc::Invalid);
    CHECK(f.s->set_property("work", "netvm", "fedora")
              .error()
              .message()
              .find("does not provide network") != std::string::npos);
    CHECK(f.s->set_property("work", "template", "sys-net")
              .error()
              .message()
              .find("not a TemplateVM") != std::string::npos);
    CHECK(f.s->set_property("work", "template", "").error().code() == Errc::Invalid);
    CHECK(f.s->set_property("work", "default_dispvm", "work").error().code() == Errc::Invalid);
    CHECK(f.s->set_property("work", "default_dispvm", "fedora")
              .error()
              .message()
              .find("template_for_dispvms") != std::string::npos);
    CHECK(f.s->set_property("fedora", "kernel", std::string("a\x01")).error().code() ==
          Errc::Invalid);
    CHECK(f.s->set_property("sys-net", "template", "fedora").error().code() == Errc::NotFound);
    CHECK(f.s->generation() == g);
    CHECK(f.prop("work", "memory") == "400");
}

TEST_CASE("domain names follow Qubes' rules") {
    Fixture f;
    f.make("fedora", Klass::TemplateVM);
    for (std::string bad : {"", "1abc", "a b", "none", "default", "x-dm", "dom0",
                            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a/b", "ünï"}) {
        auto r = f.s->create({bad, Klass::AppVM, "red", {{"template", "fedora"}}});
        INFO(bad);
        CHECK_FALSE(r);
    }
    CHECK(f.s->create({"ok-1.a_b", Klass::AppVM, "red", {{"template", "fedora"}}}));
    CHECK(f.s->create({"ok-1.a_b", Klass::AppVM, "red", {{"template", "fedora"}}}).error().code() ==
          Errc::Exists);
    CHECK_FALSE(f.s->create({"nolabel", Klass::AppVM, "", {{"template", "fedora"}}}));
    CHECK_FALSE(f.s->create({"notmpl", Klass::AppVM, "red", {}}));
    CHECK_FALSE(
        f.s->create({"badprop", Klass::AppVM, "red", {{"template", "fedora"}, {"memory", "x"}}}));
    CHECK_FALSE(f.s->get("badprop"));
    CHECK_FALSE(f.s->create({"admin2", Klass::AdminVM, "red", {}}));
}

TEST_CASE("netvm and template loops are refused; stacked templates give a layer stack") {
    Fixture f;
    f.make("net1", Klass::StandaloneVM, {{"provides_network", "True"}});
    f.make("net2", Klass::StandaloneVM, {{"provides_network", "True"}, {"netvm", "net1"}});
    auto r = f.s->set_property("net1", "netvm", "net2");
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("loop") != std::string::npos);
    CHECK(f.s->set_property("net1", "provides_network", "False").error().code() == Errc::Busy);

    f.make("base", Klass::TemplateVM);
    f.make("desk", Klass::TemplateVM, {{"template", "base"}});
    f.make("dev", Klass::TemplateVM, {{"template", "desk"}});
    CHECK(f.s->set_property("base", "template", "dev").error().message().find("loop") !=
          std::string::npos);
    REQUIRE(f.s->set_layers("base", {"debian-12"}));
    REQUIRE(f.s->set_layers("desk", {"xfce", "fonts"}));
    REQUIRE(f.s->set_layers("dev", {"gcc"}));
    CHECK_FALSE(f.s->set_layers("dev", {"../x"}));
    f.make("app", Klass::AppVM, {{"template", "dev"}});
    CHECK(f.s->layers("desk").value() == std::vector<std::string>{"xfce", "fonts"});
    CHECK(f.s->layer_stack("app").value() ==
          std::vector<std::string>{"debian-12", "xfce", "fonts", "gcc"});
    auto c = f.s->clone("desk", "desk2");
    REQUIRE(c);
    CHECK(f.s->layers("desk2").value() == std::vector<std::string>{"xfce", "fonts"});
    CHECK(f.prop("desk2", "template") == "base");
    CHECK(c->uuid != f.s->get("desk")->uuid);
}

TEST_CASE("remove refuses domains still in use") {
    Fixture f;
    f.basic();
    REQUIRE(f.s->set_property("work", "default_dispvm", "dvm"));
    auto r = f.s->remove("fedora");
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::Busy);
    CHECK(r.error().message().find("in use: template of '") != std::string::npos);
    CHECK(f.s->remove("dvm").error().message().find("default_dispvm") != std::string::npos);
    CHECK(f.s->remove("dom0").error().code() == Errc::Denied);
    CHECK(f.s->set_property("dvm", "template_for_dispvms", "False").error().code() == Errc::Busy);
    REQUIRE(f.s->set_global("default_template", "fedora"));
    REQUIRE(f.s->remove("work"));
    REQUIRE(f.s->remove("dvm"));
    CHECK(f.s->remove("fedora").error().message().find("default_template") != std::string::npos);
    REQUIRE(f.s->set_global("default_template", ""));
    REQUIRE(f.s->remove("fedora"));
    CHECK(f.s->remove("fedora").error().code() == Errc::NotFound);
}

TEST_CASE("tags, features, globals") {
    Fixture f;
    f.basic();
    REQUIRE(f.s->add_tag("work", "audio"));
    REQUIRE(f.s->add_tag("work", "audio"));
    CHECK(f.s->list_tags("work").value() == std::vector<std::string>{"audio"});
    CHECK_FALSE(f.s->add_tag("work", "bad tag"));
    REQUIRE(f.s->remove_tag("work", "audio"));
    CHECK(f.s->remove_tag("work", "audio").error().code() == Errc::NotFound);
    REQUIRE(f.s->set_feature("work", "service.cups", "1"));
    CHECK(f.s->get_feature("work", "service.cups").value() == "1");
    CHECK(f.s->list_features("work")->size() == 1);
    REQUIRE(f.s->remove_feature("work", "service.cups"));
    CHECK_FALSE(f.s->get_feature("work", "service.cups"));
    CHECK(f.s->set_global("default_template", "work").error().code() == Errc::Invalid);
    CHECK(f.s->set_global("default_netvm", "work").error().code() == Errc::Invalid);
    CHECK(f.s->set_global("nosuch", "x").error().code() == Errc::NotFound);
    REQUIRE(f.s->set_global("default_dispvm", "dvm"));
    CHECK(f.prop("work", "default_dispvm") == "dvm");
    CHECK(f.s->list_globals()->size() == 6);
    REQUIRE(f.s->create({"disp1", Klass::DispVM, "red", {}}));
    CHECK(f.prop("disp1", "template") == "dvm");
}

TEST_CASE("firewall rules: default, validated canonical set, clone copies, refusals change "
          "nothing") {
    Fixture f;
    f.basic();
    CHECK(f.s->firewall_rules("work").value() == std::vector<std::string>{"action=accept"});
    auto set = f.s->set_firewall_rules(
        "work", {"proto=tcp action=drop dstports=25", "action=accept expire=+10"}, 1000);
    REQUIRE(set);
    std::vector<std::string> want = {"action=drop proto=tcp dstports=25",
                                     "action=accept expire=1010"};
    CHECK(*set == want);
    CHECK(f.s->firewall_rules("work").value() == want);
    REQUIRE(f.s->clone("work", "work2"));
    CHECK(f.s->firewall_rules("work2").value() == want);
    auto gen = f.s->generation();
    auto bad = f.s->set_firewall_rules("work", {"action=accept", "action=maybe"}, 0);
    REQUIRE(!bad);
    CHECK(bad.error().message().find("rule 2") != std::string::npos);
    CHECK(!f.s->set_firewall_rules("dom0", {"action=accept"}, 0));
    CHECK(!f.s->firewall_rules("nosuch"));
    CHECK(f.s->generation() == gen);
    CHECK(f.s->firewall_rules("work").value() == want);
    REQUIRE(f.s->set_firewall_rules("work", {}, 0)); // an empty list: drop everything
    CHECK(f.s->firewall_rules("work").value().empty());
    REQUIRE(f.s->remove("work2"));
}
