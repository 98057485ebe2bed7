// The xen backend against the Hypervisor contract, on real Xen: run inside dom0 by the e2e
// harness (tests/e2e, `make e2e`), not by CTest (this machine is not dom0 on Xen). Fails,
// never skips, when it is not dom0. Environment:
//   BULKHEAD_XEN_KERNELS_DIR  guest kernels (default /var/lib/bulkhead/vm-kernels)
//   BULKHEAD_BUSYBOX          a static busybox for the fixture template (default /bin/busybox)
#include "hypervisor_contract.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/hypervisor/xen/xen_hypervisor.h>
#include <bulkhead/templates/template_store.h>

#include <catch2/catch.hpp>

using namespace bulkhead;
using namespace bulkhead::dom0;
using contract::Storage;

namespace {

struct Fixture {
    std::string base;
    std::vector<std::string> layers;

    Fixture() {
        base = sys::make_temp_dir("/var/tmp/bulkhead-xen-test-").value();
        templates::TemplateStore store(base + "/store");
        auto busybox = sys::getenv_or("BULKHEAD_BUSYBOX", "/bin/busybox");
        REQUIRE(store.create_busybox("fixture", busybox).has_value());
        sys::mkdir_p(base + "/stage/a/etc").value();
        sys::write_file_atomic(base + "/stage/a/etc/layer-a", "a2\n").value();
        sys::write_file_atomic(base + "/stage/a/etc/layer-b", "b2\n").value();
        sys::mkdir_p(base + "/stage/b/etc").value();
        sys::write_file_atomic(base + "/stage/b/etc/layer-b", "b3\n").value();
        REQUIRE(store.add_layer("fixture", "a", base + "/stage/a").has_value());
        REQUIRE(store.add_layer("fixture", "b", base + "/stage/b").has_value());
        layers = store.layers("fixture").value();
        sys::write_file_atomic(base + "/host-marker", "host\n").value();
    }
    ~Fixture() { (void)sys::remove_tree(base); }

    DomainSpec spec(std::string const& name, std::string const& script, Storage storage) const {
        DomainSpec s;
        s.name = name;
        s.layers = layers;
        s.volatile_dir = base + "/volatile/" + name;
        if (storage == Storage::Private)
            s.private_dir = base + "/private/" + name;
        s.memory_mib = 128;
        s.maxmem_mib = 128;
        s.vcpus = 1;
        s.init_argv = {"/bin/sh", "-c", script};
        s.init_env = {"PATH=/usr/bin:/bin:/usr/sbin:/sbin"};
        return s;
    }
};

} // namespace

TEST_CASE("xen backend passes the Hypervisor contract", "[xen][contract]") {
    REQUIRE(xen::running_on_xen()); // run by make e2e inside dom0
    Fixture fx;
    xen::XenOptions opts;
    opts.kernels_dir = sys::getenv_or("BULKHEAD_XEN_KERNELS_DIR", opts.kernels_dir);
    opts.private_size_mib = 64;
    auto hv = xen::XenHypervisor::open(opts);
    INFO((hv ? "" : hv.error().message()));
    REQUIRE(hv.has_value());
    contract::ContractEnv env;
    env.spec = [&](auto const& n, auto const& s, Storage st) { return fx.spec(n, s, st); };
    env.read_private = [&](auto const& n, auto const& p) -> std::optional<std::string> {
        auto r = xen::read_private_file(fx.base + "/private/" + n, p);
        if (!r) { // (the contract's check then fails; this says why, and what the volume holds)
            auto image = fx.base + "/private/" + n + ".img"; // xen_plan: private_image_path
            auto ls = sys::run({"debugfs", "-R", "ls -l /", image});
            auto state = sys::run({"dumpe2fs", "-h", image});
            UNSCOPED_INFO("read_private " << n << "/" << p << ": " << r.error().message() << "\n"
                                          << (ls ? ls->out + ls->err : "")
                                          << (state ? state->out.substr(0, 1500) : ""));
            return std::nullopt;
        }
        return *r;
    };
    env.memory_limit_mib = [&](DomId id) { return (*hv)->memory_target_mib(id); };
    env.host_marker = fx.base + "/host-marker";
    env.kernel = contract::ContractEnv::Kernel::OwnKernel;
    env.backend_init = "bulkhead-xen-in"; // bulkhead-xen-init, as comm shows it
    env.event_timeout = std::chrono::seconds(180);
    contract::run_hypervisor_contract(**hv, env);
}

TEST_CASE("xen backend refuses what it cannot run, before touching Xen", "[xen]") {
    REQUIRE(xen::running_on_xen());
    Fixture fx;
    auto hv = xen::XenHypervisor::open({});
    REQUIRE(hv.has_value());
    auto spec = fx.spec("x-missing", "true", Storage::Disposable);
    spec.kernel = "no-such-kernel";
    auto r = (*hv)->create(spec);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == Errc::NotFound);
    CHECK((*hv)->info(31000).error().code() == Errc::NotFound);
}
