#include "hypervisor_contract.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <poll.h>
#include <thread>

namespace bulkhead::dom0::contract {

namespace {
using namespace std::chrono_literals;

std::chrono::milliseconds g_timeout = 10s; // the env's event_timeout

// Collects events until one for id arrives (or the timeout); returns all for id.
std::vector<HypervisorEvent> wait_for(Hypervisor& hv, DomId id) {
    auto const timeout = g_timeout;
    std::vector<HypervisorEvent> mine;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (mine.empty() && std::chrono::steady_clock::now() < deadline) {
        pollfd p{hv.event_fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
        auto events = hv.take_events();
        REQUIRE(events.has_value());
        for (auto const& e : *events)
            if (e.id == id)
                mine.push_back(e);
    }
    return mine;
}

// After the one event: nothing more for id shows up.
void expect_no_more(Hypervisor& hv, DomId id) {
    std::this_thread::sleep_for(200ms);
    auto events = hv.take_events();
    REQUIRE(events.has_value());
    for (auto const& e : *events)
        CHECK(e.id != id);
}

// Runs a guest to completion; returns its exit event.
HypervisorEvent run(Hypervisor& hv, DomainSpec const& spec) {
    auto id = hv.create(spec);
    INFO((id ? "" : id.error().message()));
    REQUIRE(id.has_value());
    auto events = wait_for(hv, *id);
    REQUIRE(events.size() == 1);
    return events[0];
}

// Runs a guest script that must succeed (its files are read back after it): exit status 0.
void run_ok(Hypervisor& hv, DomainSpec const& spec) {
    auto ev = run(hv, spec);
    INFO("domain " << spec.name);
    CHECK(ev.kind == HypervisorEvent::Kind::Exited);
    CHECK(ev.exit_code == 0);
}

constexpr char const* kWaitForTerm = "trap 'exit 0' TERM; sleep 1000 & wait";
} // namespace

void run_hypervisor_contract(Hypervisor& hv, ContractEnv const& env) {
    g_timeout = env.event_timeout;
    SECTION("lifecycle: running, paused, running, shutdown gives one Exited event") {
        auto id = hv.create(env.spec("c-life", kWaitForTerm, Storage::Private));
        INFO((id ? "" : id.error().message()));
        REQUIRE(id.has_value());
        CHECK(*id > 0);
        auto info = hv.info(*id);
        REQUIRE(info.has_value());
        CHECK(info->state == PowerState::Running);
        CHECK(info->name == "c-life");
        REQUIRE(hv.pause(*id).has_value());
        CHECK(hv.info(*id)->state == PowerState::Paused);
        REQUIRE(hv.unpause(*id).has_value());
        CHECK(hv.info(*id)->state == PowerState::Running);
        auto listed = hv.list();
        REQUIRE(listed.has_value());
        CHECK(std::any_of(listed->begin(), listed->end(),
                          [&](DomainInfo const& i) { return i.id == *id; }));
        std::this_thread::sleep_for(100ms); // let init install its TERM trap
        REQUIRE(hv.shutdown(*id).has_value());
        auto events = wait_for(hv, *id);
        REQUIRE(events.size() == 1);
        CHECK(events[0].kind == HypervisorEvent::Kind::Exited);
        CHECK(events[0].exit_code == 0);
        expect_no_more(hv, *id);
        CHECK(hv.info(*id).error().code() == Errc::NotFound);
    }
    SECTION("destroy gives one Destroyed event; ids are not reused") {
        auto a = hv.create(env.spec("c-destroy", "sleep 1000", Storage::Private));
        REQUIRE(a.has_value());
        REQUIRE(hv.destroy(*a).has_value());
        auto events = wait_for(hv, *a);
        REQUIRE(events.size() == 1);
        CHECK(events[0].kind == HypervisorEvent::Kind::Destroyed);
        expect_no_more(hv, *a);
        CHECK(hv.destroy(*a).error().code() == Errc::NotFound);
        auto b = hv.create(env.spec("c-destroy", "sleep 1000", Storage::Private));
        REQUIRE(b.has_value());
        CHECK(*b != *a);
        REQUIRE(hv.destroy(*b).has_value());
        CHECK(wait_for(hv, *b).size() == 1);
    }
    SECTION("the root resets at every start; /home survives") {
        run_ok(hv, env.spec("c-reset", "echo r > /root-marker; echo h > /home/marker",
                            Storage::Private));
        run_ok(hv, env.spec("c-reset",
                            "if [ -e /root-marker ]; then echo kept; else echo gone; fi > /rw/root;"
                            "cat /home/marker > /rw/home-seen",
                            Storage::Private));
        CHECK(env.read_private("c-reset", "root") == "gone\n");
        CHECK(env.read_private("c-reset", "home-seen") == "h\n");
    }
    SECTION("template layers stack, upper over lower") {
        run_ok(hv, env.spec("c-layers", "cat /etc/layer-a /etc/layer-b > /rw/layers",
                            Storage::Private));
        CHECK(env.read_private("c-layers", "layers") == "a2\nb3\n");
    }
    SECTION("a disposable keeps nothing") {
        auto one = run(hv, env.spec("c-disp", "echo x > /rw/f; echo x > /home/f; echo x > /f",
                                    Storage::Disposable));
        CHECK(one.exit_code == 0);
        auto two =
            run(hv, env.spec("c-disp",
                             "for f in /rw/f /home/f /f; do [ -e $f ] && exit 3; done; exit 0",
                             Storage::Disposable));
        CHECK(two.kind == HypervisorEvent::Kind::Exited);
        CHECK(two.exit_code == 0);
    }
    SECTION("hostname is the domain name; init sees its id") {
        run_ok(hv, env.spec("c-host", "hostname > /rw/h; echo $VCHAN_DOMAIN > /rw/id",
                            Storage::Private));
        CHECK(env.read_private("c-host", "h") == "c-host\n");
        auto id = env.read_private("c-host", "id");
        REQUIRE(id.has_value());
        CHECK(std::stoul(*id) > 0);
    }
    SECTION("no host file system inside") {
        std::string script =
            "if [ -e '" + env.host_marker + "' ]; then echo visible; else echo hidden; fi > /rw/m";
        run_ok(hv, env.spec("c-hostfs", script, Storage::Private));
        CHECK(env.read_private("c-hostfs", "m") == "hidden\n");
    }
    SECTION("memory limit applied and adjustable") {
        auto spec = env.spec("c-mem", "sleep 1000", Storage::Private);
        spec.memory_mib = 128;
        auto id = hv.create(spec);
        REQUIRE(id.has_value());
        CHECK(env.memory_limit_mib(*id).value_or(0) == 128);
        REQUIRE(hv.set_memory_target(*id, 96).has_value());
        CHECK(env.memory_limit_mib(*id).value_or(0) == 96);
        REQUIRE(hv.destroy(*id).has_value());
        CHECK(wait_for(hv, *id).size() == 1);
    }
    SECTION("a guest cannot reach dom0's kernel") {
        if (env.kernel == ContractEnv::Kernel::OwnKernel) {
            // Its own kernel, in an unprivileged domain: no control rights over Xen.
            run_ok(hv, env.spec("c-kernel",
                                "cat /sys/hypervisor/type > /rw/hv; cat /proc/xen/capabilities"
                                " > /rw/caps 2>&1; echo $? >> /rw/caps",
                                Storage::Private));
            CHECK(env.read_private("c-kernel", "hv") == "xen\n");
            CHECK(env.read_private("c-kernel", "caps") == "0\n"); // dom0 would say control_d
            return;
        }
        run_ok(hv, env.spec("c-seccomp", env.syscall_probe + " > /rw/probe", Storage::Private));
        auto out = env.read_private("c-seccomp", "probe");
        REQUIRE(out.has_value());
        CHECK(out->find("keyctl 1\n") != std::string::npos); // EPERM
        CHECK(out->find("kexec_load 1\n") != std::string::npos);
        CHECK(out->find("bpf 1\n") != std::string::npos);
        CHECK(out->find("perf_event_open 1\n") != std::string::npos);
    }
    SECTION("two domains are isolated: own pid and net namespaces") {
        auto other = hv.create(env.spec("c-iso-b", "exec sleep 777", Storage::Private));
        REQUIRE(other.has_value());
        run_ok(hv, env.spec("c-iso-a",
                            "echo $$ > /rw/pid; cat /proc/1/comm > /rw/init; grep -l '77[7]' "
                            "/proc/[0-9]*/cmdline > /rw/seen;"
                            "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /rw/ifs",
                            Storage::Private));
        auto pid = env.read_private("c-iso-a", "pid");
        REQUIRE(pid.has_value());
        if (env.backend_init.empty()) {
            CHECK(*pid == "1\n");
        } else { // PID 1 is the backend's own init; spec.init_argv is its child
            CHECK(*pid != "1\n");
            CHECK(env.read_private("c-iso-a", "init") == env.backend_init + "\n");
        }
        CHECK(env.read_private("c-iso-a", "seen") == "");
        CHECK(env.read_private("c-iso-a", "ifs") == "lo\n");
        REQUIRE(hv.destroy(*other).has_value());
        CHECK(wait_for(hv, *other).size() == 1);
    }
}

} // namespace bulkhead::dom0::contract
