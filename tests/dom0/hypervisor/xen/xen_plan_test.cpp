// The xen backend's mapping from DomainSpec to libxl's domain config, checked without a
// hypervisor: the plan's rules, and libxl's own JSON form of the config
// (libxl_domain_config_to_json of the libxl_domain_config libxl_domain_create_new is given).
#include <bulkhead/dom0/hypervisor/xen/xen_plan.h>
#include <bulkhead/policy/json.h>

#include <catch2/catch.hpp>

using namespace bulkhead;
using namespace bulkhead::dom0;
using namespace bulkhead::dom0::xen;
using bulkhead::policy::JsonValue;

namespace {

DomainSpec app_spec() {
    DomainSpec s;
    s.name = "work";
    s.uuid = "5f0c3c1e-8c2a-4a57-9d2e-0f6e6b1f2a3b";
    s.layers = {"/var/lib/bulkhead/layers/base", "/var/lib/bulkhead/layers/desktop",
                "/var/lib/bulkhead/layers/dev"};
    s.volatile_dir = "/var/lib/bulkhead/volatile/work";
    s.private_dir = "/var/lib/bulkhead/appvms/work/private";
    s.memory_mib = 400;
    s.maxmem_mib = 4000;
    s.vcpus = 2;
    s.init_argv = {"/usr/lib/bulkhead/bulkhead-agent"};
    s.init_env = {"VCHAN_SOCKET_DIR=/run/qubes-vchan", "PATH=/usr/bin:/bin:/usr/lib/bulkhead",
                  "BULKHEAD_DOMAIN=work"};
    s.binds.push_back({"/run/bulkhead/vchan/work", "/run/qubes-vchan", true});
    return s;
}

std::string xs(XenDomainPlan const& p, std::string const& key) {
    for (auto const& [k, v] : p.xenstore)
        if (k == key)
            return v;
    return "<absent>";
}

std::vector<std::string> targets_for(XenDomainPlan const& p) {
    std::vector<std::string> t;
    for (size_t i = 0; i < p.disks.size(); ++i)
        t.push_back("/dev/loop" + std::to_string(i));
    return t;
}

} // namespace

TEST_CASE("an AppVM maps to PV with layers read-only and the private volume writable", "[xen]") {
    auto plan = plan_domain(app_spec(), XenOptions{});
    REQUIRE(plan.has_value());
    CHECK(plan->type == VirtMode::Pv); // PVH asked, no HAP on this host: PV
    CHECK(plan->kernel == "/var/lib/bulkhead/vm-kernels/default/vmlinuz");
    CHECK(plan->ramdisk == "/var/lib/bulkhead/vm-kernels/default/initramfs");
    CHECK(plan->cmdline == "console=hvc0 rdinit=/init quiet bulkhead.layers=3 bulkhead.private=1");
    CHECK(plan->memory_kib == 400 * 1024);
    CHECK(plan->maxmem_kib == 4000 * 1024);
    REQUIRE(plan->disks.size() == 4);
    CHECK(plan->disks[0].vdev == "xvda");
    CHECK(plan->disks[0].image == "/var/lib/bulkhead/layers/base.squashfs");
    CHECK(plan->disks[0].source == "/var/lib/bulkhead/layers/base");
    CHECK_FALSE(plan->disks[0].writable);
    CHECK(plan->disks[2].vdev == "xvdc");
    CHECK_FALSE(plan->disks[2].writable);
    CHECK(plan->disks[3].vdev == "xvdp");
    CHECK(plan->disks[3].kind == XenDisk::Kind::Private);
    CHECK(plan->disks[3].image == "/var/lib/bulkhead/appvms/work/private.img");
    CHECK(plan->disks[3].writable);
    CHECK(xs(*plan, "bulkhead/hostname") == "work");
    CHECK(xs(*plan, "bulkhead/argv/0") == "/usr/lib/bulkhead/bulkhead-agent");
    CHECK(xs(*plan, "bulkhead/argv/1") == "<absent>");
    // The socket directory is the sandbox's; on Xen the agent is told to use libxenvchan.
    CHECK(xs(*plan, "bulkhead/env/0") == "PATH=/usr/bin:/bin:/usr/lib/bulkhead");
    CHECK(xs(*plan, "bulkhead/env/1") == "BULKHEAD_DOMAIN=work");
    CHECK(xs(*plan, "bulkhead/env/2") == "BULKHEAD_VCHAN=xen");
    CHECK(xs(*plan, "bulkhead/env/3") == "<absent>");
}

TEST_CASE("a disposable has no private disk; PVH where the host has HAP", "[xen]") {
    auto spec = app_spec();
    spec.private_dir.clear();
    XenOptions opts;
    opts.pvh_available = true;
    auto plan = plan_domain(spec, opts);
    REQUIRE(plan.has_value());
    CHECK(plan->type == VirtMode::Pvh);
    CHECK(plan->disks.size() == 3);
    CHECK(plan->cmdline.ends_with("bulkhead.layers=3 bulkhead.private=0"));
    spec.virt_mode = VirtMode::Pv;
    CHECK(plan_domain(spec, opts)->type == VirtMode::Pv);
}

TEST_CASE("a netvm's kernel command line asks for netback and nftables", "[xen]") {
    auto spec = app_spec();
    spec.network_backend = true;
    auto plan = plan_domain(spec, {});
    REQUIRE(plan.has_value());
    CHECK(plan->cmdline.ends_with("bulkhead.private=1 bulkhead.netvm=1"));
    spec.network_backend = false;
    CHECK(plan_domain(spec, {})->cmdline.find("netvm") == std::string::npos);
}

TEST_CASE("kernel names select a directory under kernels_dir, never outside", "[xen]") {
    auto spec = app_spec();
    XenOptions opts;
    opts.kernels_dir = "/k";
    spec.kernel = "6.1.0-28-amd64";
    CHECK(plan_domain(spec, opts)->kernel == "/k/6.1.0-28-amd64/vmlinuz");
    spec.kernel = "/opt/kernels/test";
    CHECK(plan_domain(spec, opts)->ramdisk == "/opt/kernels/test/initramfs");
    for (auto bad : {"..", "../etc", "a/b", "/k/../../etc", "/k/..", "x y"}) {
        spec.kernel = bad;
        auto p = plan_domain(spec, opts);
        INFO(bad);
        REQUIRE_FALSE(p.has_value());
        CHECK(p.error().code() == Errc::Invalid);
    }
}

TEST_CASE("specs the xen backend cannot run are refused with the reason", "[xen]") {
    auto check = [](DomainSpec const& s, Errc code) {
        auto p = plan_domain(s, XenOptions{});
        REQUIRE_FALSE(p.has_value());
        CHECK(p.error().code() == code);
    };
    auto s = app_spec();
    s.name = "bad name";
    check(s, Errc::Invalid);
    s = app_spec();
    s.layers.clear();
    check(s, Errc::Invalid);
    s = app_spec();
    s.layers.assign(kMaxLayers + 1, "/l");
    check(s, Errc::Limit);
    s.layers.assign(kMaxLayers, "/l");
    CHECK(plan_domain(s, XenOptions{})->disks.back().vdev == "xvdp");
    CHECK(plan_domain(s, XenOptions{})->disks[kMaxLayers - 1].vdev == "xvdo");
    s = app_spec();
    s.root_upper_dir = "/var/lib/bulkhead/roots/t";
    check(s, Errc::Unsupported);
    s = app_spec();
    s.virt_mode = VirtMode::Hvm;
    check(s, Errc::Unsupported);
    s = app_spec();
    s.init_argv.clear();
    check(s, Errc::Invalid);
    s = app_spec();
    s.init_env.push_back("NOEQUALS");
    check(s, Errc::Invalid);
    s = app_spec();
    s.init_env.push_back("=value");
    check(s, Errc::Invalid);
    s = app_spec();
    s.init_argv.push_back(std::string(kMaxXenstoreValue + 1, 'x'));
    check(s, Errc::Limit);
    s = app_spec();
    s.init_argv.push_back(std::string("a\0b", 3));
    check(s, Errc::Invalid);
    s = app_spec();
    s.memory_mib = 0;
    check(s, Errc::Invalid);
}

TEST_CASE("libxl's JSON form of the config: what libxl_domain_create_new is given", "[xen]") {
    auto spec = app_spec();
    spec.maxmem_mib = 100; // below memory: maxmem is raised to memory
    auto plan = plan_domain(spec, XenOptions{});
    REQUIRE(plan.has_value());
    auto json = to_libxl_json(*plan, targets_for(*plan));
    INFO((json ? *json : json.error().message()));
    REQUIRE(json.has_value());
    // libxl's writer leaves out fields at their defaults; everything we set is there.
    auto doc = policy::JsonValue::parse(*json);
    REQUIRE(doc.has_value());
    auto str = [](JsonValue const* v) {
        return v && v->is(JsonValue::Kind::String) ? v->as_string() : "<none>";
    };
    auto num = [](JsonValue const* v) {
        return v && v->is(JsonValue::Kind::Number) ? v->as_number() : -1.0;
    };
    auto const* c = doc->find("c_info");
    REQUIRE(c);
    CHECK(str(c->find("type")) == "pv");
    CHECK(str(c->find("name")) == "work");
    CHECK(str(c->find("uuid")) == "5f0c3c1e-8c2a-4a57-9d2e-0f6e6b1f2a3b");
    CHECK(str(c->find("run_hotplug_scripts")) == "True");
    auto const* b = doc->find("b_info");
    REQUIRE(b);
    CHECK(num(b->find("max_vcpus")) == 2);
    CHECK(str(b->find("avail_vcpus")) == "<none>"); // a bitmap is written as a list
    REQUIRE(b->find("avail_vcpus"));
    CHECK(b->find("avail_vcpus")->items().size() == 2);
    CHECK(num(b->find("max_memkb")) == 400 * 1024);
    CHECK(num(b->find("target_memkb")) == 400 * 1024);
    CHECK(str(b->find("kernel")) == plan->kernel);
    CHECK(str(b->find("ramdisk")) == plan->ramdisk);
    CHECK(str(b->find("cmdline")) == plan->cmdline);
    // Every end is final. destroy is libxl's initial value, so its writer leaves it out; any
    // other action would be written.
    for (auto action : {"on_poweroff", "on_reboot", "on_crash", "on_watchdog", "on_soft_reset"}) {
        INFO(action);
        auto v = str(doc->find(action));
        CHECK((v == "<none>" || v == "destroy"));
    }
    CHECK(doc->find("nics") == nullptr); // no network device: networking is issue 7
    auto const* disks = doc->find("disks");
    REQUIRE(disks);
    REQUIRE(disks->items().size() == 4);
    for (size_t i = 0; i < 4; ++i) {
        INFO(i);
        auto const& d = disks->items()[i];
        CHECK(str(d.find("pdev_path")) == "/dev/loop" + std::to_string(i));
        CHECK(str(d.find("vdev")) == plan->disks[i].vdev);
        CHECK(str(d.find("backend")) == "phy");
        CHECK(str(d.find("format")) == "raw");
        CHECK(num(d.find("readwrite")) == (i == 3 ? 1 : -1)); // read-only is the default: absent
    }
}

TEST_CASE("a PVH config in libxl JSON; a bad uuid is refused", "[xen]") {
    auto spec = app_spec();
    XenOptions opts;
    opts.pvh_available = true;
    auto plan = plan_domain(spec, opts).value();
    auto json = to_libxl_json(plan, targets_for(plan));
    REQUIRE(json.has_value());
    auto doc = policy::JsonValue::parse(*json);
    REQUIRE(doc.has_value());
    CHECK(doc->find("c_info")->find("type")->as_string() == "pvh");
    CHECK(doc->find("b_info")->find("type.pvh") != nullptr);

    plan.uuid = "not-a-uuid";
    auto bad = to_libxl_json(plan, targets_for(plan));
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code() == Errc::Invalid);
    plan.uuid = "5f0c3c1e-8c2a-4a57-9d2e-0f6e6b1f2a3b";
    CHECK(to_libxl_json(plan, {"/dev/loop0"}).error().code() == Errc::Internal);
}

TEST_CASE("the exit status a guest reports is a decimal 0..255 or nothing", "[xen]") {
    auto parse = [](std::string s) { return GuestExitValidator::parse(Untrusted<std::string>(s)); };
    CHECK(parse("0") == 0);
    CHECK(parse("3") == 3);
    CHECK(parse("255") == 255);
    CHECK(parse("007") == 7);
    for (auto bad : {"", "256", "-1", "1 ", " 1", "0x1", "1000", "12a", "99999999999"}) {
        INFO(bad);
        CHECK_FALSE(parse(bad).has_value());
    }
    CHECK_FALSE(parse(std::string("1\0", 2)).has_value());
}

TEST_CASE("a netvm's ruleset answer is 'GEN ok' or 'GEN error TEXT', its text made printable",
          "[xen]") {
    auto parse = [](std::string s) {
        return FirewallAckValidator::parse(Untrusted<std::string>(std::move(s)));
    };
    auto ok = parse("17 ok");
    REQUIRE(ok.has_value());
    CHECK(ok->gen == 17);
    CHECK(ok->ok);
    auto err = parse("3 error Error: syntax error\x1b[31m\xff");
    REQUIRE(err.has_value());
    CHECK(err->gen == 3);
    CHECK_FALSE(err->ok);
    CHECK(err->error == "Error: syntax error?[31m?");
    auto long_error = parse("4 error " + std::string(1000, 'x'));
    REQUIRE(long_error.has_value());
    CHECK(long_error->error.size() == 300);
    CHECK(parse("9999999999999999999 ok").has_value()); // 19 digits at most (fits 64 bits)
    for (auto bad : {"", "ok", "1", "1 ", "1 OK", "1 ok ", " 1 ok", "-1 ok", "+1 ok", "1  ok",
                     "1 errors", "1 error", "x ok", "12345678901234567890 ok"}) {
        INFO(bad);
        CHECK_FALSE(parse(bad).has_value());
    }
    CHECK_FALSE(parse(std::string(5000, '1')).has_value());
}
