// The sandbox backend: the generic contract suite plus sandbox-only checks (pids limit,
// crash reporting, refusal without root). Needs root, like the backend.
#include "hypervisor_contract.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/hypervisor/sandbox/sandbox_hypervisor.h>
#include <bulkhead/templates/template_store.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace bulkhead;
using namespace bulkhead::dom0;
using contract::Storage;

namespace {

// A temp dir with the 3-layer fixture template, private/ and volatile/ areas.
struct Fixture {
    std::string base;
    std::vector<std::string> layers;
    std::string probe_dir;

    Fixture() {
        base = sys::make_temp_dir("/tmp/bulkhead-sandbox-test-").value();
        templates::TemplateStore store(base + "/store");
        REQUIRE(store.create_busybox("fixture").has_value());
        sys::mkdir_p(base + "/stage/a/etc").value();
        sys::write_file_atomic(base + "/stage/a/etc/layer-a", "a2\n").value();
        sys::write_file_atomic(base + "/stage/a/etc/layer-b", "b2\n").value();
        sys::mkdir_p(base + "/stage/b/etc").value();
        sys::write_file_atomic(base + "/stage/b/etc/layer-b", "b3\n").value();
        REQUIRE(store.add_layer("fixture", "a", base + "/stage/a").has_value());
        REQUIRE(store.add_layer("fixture", "b", base + "/stage/b").has_value());
        layers = store.layers("fixture").value();
        sys::write_file_atomic(base + "/host-marker", "host\n").value();
        auto build = sys::getenv("BULKHEAD_BUILD_DIR");
        REQUIRE(build.has_value()); // set by CTest
        probe_dir = *build + "/bin/tests/probe";
        REQUIRE(sys::exists(probe_dir + "/syscall_probe"));
    }
    ~Fixture() { (void)sys::remove_tree(base); }

    DomainSpec spec(std::string const& name, std::string const& script, Storage storage) const {
        DomainSpec s;
        s.name = name;
        s.layers = layers;
        s.volatile_dir = base + "/volatile/" + name;
        if (storage == Storage::Private)
            s.private_dir = base + "/private/" + name;
        s.memory_mib = 256;
        s.init_argv = {"/bin/sh", "-c", script};
        s.binds.push_back({probe_dir, "/probe", false});
        return s;
    }
    std::optional<std::string> read_private(std::string const& name,
                                            std::string const& path) const {
        auto r = sys::read_file(base + "/private/" + name + "/" + path);
        if (!r)
            return std::nullopt;
        return *r;
    }
};

std::vector<HypervisorEvent> wait_event(Hypervisor& hv, DomId id) {
    for (int i = 0; i < 100; ++i) {
        pollfd p{hv.event_fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
        auto events = hv.take_events().value();
        std::vector<HypervisorEvent> mine;
        for (auto const& e : events)
            if (e.id == id)
                mine.push_back(e);
        if (!mine.empty())
            return mine;
    }
    return {};
}

} // namespace

TEST_CASE("sandbox backend passes the Hypervisor contract", "[sandbox][contract]") {
    Fixture fx;
    SandboxHypervisor hv;
    contract::ContractEnv env;
    env.spec = [&](auto const& n, auto const& s, Storage st) { return fx.spec(n, s, st); };
    env.read_private = [&](auto const& n, auto const& p) { return fx.read_private(n, p); };
    env.memory_limit_mib = [&](DomId id) -> Result<uint64_t> {
        auto l = TRY(hv.limits(id));
        return l.memory_max_bytes >> 20;
    };
    env.host_marker = fx.base + "/host-marker";
    env.syscall_probe = "/probe/syscall_probe";
    contract::run_hypervisor_contract(hv, env);
}

TEST_CASE("the probe is allowed keyctl outside the sandbox", "[sandbox]") {
    Fixture fx; // so a seccomp EPERM inside really comes from the filter
    auto out = sys::run({fx.probe_dir + "/syscall_probe"}).value();
    CHECK(out.out.find("keyctl 0\n") != std::string::npos);
}

TEST_CASE("sandbox pids limit holds inside the guest", "[sandbox]") {
    Fixture fx;
    SandboxOptions opts;
    opts.pids_max = 32;
    SandboxHypervisor hv(opts);
    auto id = hv.create(fx.spec("pids",
                                "(for i in $(seq 60); do sleep 30 & done) 2>/dev/null;"
                                "set -- /proc/[0-9]*; echo $# > /rw/n; exit 0",
                                Storage::Private));
    REQUIRE(id.has_value());
    CHECK(hv.limits(*id)->pids_max == 32);
    auto events = wait_event(hv, *id);
    REQUIRE(events.size() == 1);
    auto n = fx.read_private("pids", "n");
    REQUIRE(n.has_value());
    auto count = std::stoul(*n);
    CHECK(count <= 32);
    CHECK(count >= 10);
}

TEST_CASE("init killed from outside is reported as Crashed once", "[sandbox]") {
    Fixture fx;
    SandboxHypervisor hv;
    auto id = hv.create(fx.spec("crash", "sleep 1000", Storage::Disposable));
    REQUIRE(id.has_value());
    REQUIRE(sys::kill(hv.init_pid(*id).value(), SIGKILL).has_value());
    auto events = wait_event(hv, *id);
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == HypervisorEvent::Kind::Crashed);
    CHECK(events[0].exit_code == 128 + SIGKILL);
    CHECK(!sys::exists(fx.base + "/volatile/crash/upper")); // wiped
}

TEST_CASE("without root create() is Unsupported, naming what is missing", "[sandbox]") {
    Fixture fx;
    auto spec = fx.spec("noroot", "true", Storage::Disposable);
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::setresuid(65534, 65534, 65534) != 0)
            ::_exit(2);
        SandboxHypervisor hv;
        auto r = hv.create(spec);
        bool ok = !r && r.error().code() == Errc::Unsupported &&
                  r.error().message().find("root") != std::string::npos;
        ::_exit(ok ? 0 : 1);
    }
    REQUIRE(pid > 0);
    auto status = sys::waitpid(pid).value();
    CHECK(status.code == 0);
}

TEST_CASE("sandbox backend with a user namespace passes the Hypervisor contract",
          "[sandbox][contract][userns]") {
    Fixture fx;
    SandboxOptions opts;
    opts.user_namespace = UserNamespace::Mapped;
    SandboxHypervisor hv(opts);
    contract::ContractEnv env;
    env.spec = [&](auto const& n, auto const& s, Storage st) { return fx.spec(n, s, st); };
    env.read_private = [&](auto const& n, auto const& p) { return fx.read_private(n, p); };
    env.memory_limit_mib = [&](DomId id) -> Result<uint64_t> {
        auto l = TRY(hv.limits(id));
        return l.memory_max_bytes >> 20;
    };
    env.host_marker = fx.base + "/host-marker";
    env.syscall_probe = "/probe/syscall_probe";
    contract::run_hypervisor_contract(hv, env);
}

namespace {
// "Uid:\treal\teffective\tsaved\tfs" of a host pid.
std::optional<uint32_t> host_uid(int pid) {
    auto status = sys::read_file("/proc/" + std::to_string(pid) + "/status");
    if (!status)
        return std::nullopt;
    auto at = status->find("\nUid:\t");
    if (at == std::string::npos)
        return std::nullopt;
    return static_cast<uint32_t>(std::stoul(status->substr(at + 6)));
}
} // namespace

TEST_CASE("a mapped guest's root is an unprivileged host uid; ranges are disjoint",
          "[sandbox][userns]") {
    Fixture fx;
    SandboxOptions opts;
    opts.user_namespace = UserNamespace::Mapped;
    opts.pids_max = 48;
    SandboxHypervisor hv(opts);
    auto script =
        "id -u > /rw/uid; cat /etc/layer-a /etc/layer-b > /rw/layers;"
        "echo x > /new-file && echo ok > /rw/root-dir;"
        "(echo x > /etc/written) 2>/dev/null && echo ok > /rw/etc || echo denied > /rw/etc;"
        "touch /rw/ready; exec sleep 1000";
    auto a = hv.create(fx.spec("ns-a", script, Storage::Private));
    INFO((a ? "" : a.error().message()));
    REQUIRE(a.has_value());
    auto b = hv.create(fx.spec("ns-b", "touch /rw/ready; exec sleep 1000", Storage::Private));
    REQUIRE(b.has_value());
    for (int i = 0;
         i < 100 && !(fx.read_private("ns-a", "ready") && fx.read_private("ns-b", "ready")); ++i)
        ::poll(nullptr, 0, 50);
    CHECK(fx.read_private("ns-a", "uid").value_or("<missing>") == "0\n");
    CHECK(fx.read_private("ns-a", "layers").value_or("<missing>") == "a2\nb3\n");
    CHECK(fx.read_private("ns-a", "root-dir").value_or("<missing>") == "ok\n");
    // Template layers are mounted idmapped: their host-root files are guest root's.
    CHECK(fx.read_private("ns-a", "etc").value_or("<missing>") == "ok\n");

    auto base_a = hv.guest_id_base(*a);
    auto base_b = hv.guest_id_base(*b);
    REQUIRE(base_a.has_value());
    REQUIRE(base_b.has_value());
    CHECK(*base_a >= opts.uid_base);
    CHECK((*base_a + 65536 <= *base_b || *base_b + 65536 <= *base_a));
    CHECK(host_uid(hv.init_pid(*a).value()) == *base_a);
    CHECK(host_uid(hv.init_pid(*b).value()) == *base_b);
    // dom0 sees what the guest wrote as owned by the mapped ids.
    struct stat st {};
    REQUIRE(::stat((fx.base + "/private/ns-a/uid").c_str(), &st) == 0);
    CHECK(st.st_uid == *base_a);
    CHECK(hv.limits(*a)->pids_max == 48);
    CHECK(hv.limits(*a)->memory_max_bytes == 256u << 20);
    REQUIRE(hv.destroy(*a).has_value());
    REQUIRE(hv.destroy(*b).has_value());
}

TEST_CASE("a mapped guest's private dir is writable by guest root and guest uid 1000",
          "[sandbox][userns]") {
    Fixture fx;
    SandboxOptions opts;
    opts.user_namespace = UserNamespace::Mapped;
    SandboxHypervisor hv(opts);
    // dom0 prepares /home/user for guest uid 1000 with canonical ids, as the domain
    // manager does; the backend maps them while the domain runs.
    sys::mkdir_p(fx.base + "/private/ns-home/home/user").value();
    sys::chown(fx.base + "/private/ns-home/home/user", 1000, 1000).value();
    auto script = "echo r > /rw/root-file; echo h > /home/root-home;"
                  "su -s /bin/sh user -c 'echo u > /home/user/f; id -u > /home/user/uid'"
                  " 2>/rw/err;"
                  "stat -c %u /home/user > /rw/owner; exit 0";
    auto id = hv.create(fx.spec("ns-home", script, Storage::Private));
    INFO((id ? "" : id.error().message()));
    REQUIRE(id.has_value());
    wait_event(hv, *id);
    CHECK(fx.read_private("ns-home", "owner").value_or("<missing>") == "1000\n");
    CHECK(fx.read_private("ns-home", "root-file").value_or("<missing>") == "r\n");
    CHECK(fx.read_private("ns-home", "home/root-home").value_or("<missing>") == "h\n");
    CHECK(fx.read_private("ns-home", "err").value_or("<missing>") == "");
    CHECK(fx.read_private("ns-home", "home/user/f").value_or("<missing>") == "u\n");
    CHECK(fx.read_private("ns-home", "home/user/uid").value_or("<missing>") == "1000\n");
    // At rest the private dir is back to canonical ids.
    auto user_file = sys::stat(fx.base + "/private/ns-home/home/user/f");
    auto root_file = sys::stat(fx.base + "/private/ns-home/root-file");
    REQUIRE(user_file.has_value());
    REQUIRE(root_file.has_value());
    CHECK(user_file->st_uid == 1000);
    CHECK(root_file->st_uid == 0);
}

TEST_CASE("a mapped disposable's volatile /rw and /home are writable by guest root",
          "[sandbox][userns]") {
    Fixture fx;
    SandboxOptions opts;
    opts.user_namespace = UserNamespace::Mapped;
    SandboxHypervisor hv(opts);
    auto id = hv.create(fx.spec("ns-disp", "echo x > /rw/f && echo y > /home/f && [ $(id -u) = 0 ]",
                                Storage::Disposable));
    INFO((id ? "" : id.error().message()));
    REQUIRE(id.has_value());
    auto events = wait_event(hv, *id);
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == HypervisorEvent::Kind::Exited);
    CHECK(events[0].exit_code == 0);
}

TEST_CASE("this kernel allows mapped user namespaces", "[sandbox][userns]") {
    auto r = SandboxHypervisor::probe_user_namespace();
    INFO((r ? "" : r.error().message()));
    CHECK(r.has_value());
}

// Regression: the launch child must not use glibc's set*id() (they wait for every thread
// of dom0, including ones being created at clone time: the daemon froze under load).
TEST_CASE("mapped launches from a busy multi-threaded dom0 never hang", "[sandbox][userns]") {
    Fixture fx;
    SandboxOptions opts;
    opts.user_namespace = UserNamespace::Mapped;
    SandboxHypervisor hv(opts);
    std::atomic<bool> stop{false};
    std::vector<std::thread> churn; // threads being created and joined all the time
    for (int t = 0; t < 3; ++t)
        churn.emplace_back([&] {
            while (!stop)
                std::thread([] { (void)std::strerror(EINVAL); }).join();
        });
    int started = 0;
    for (int i = 0; i < 25; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        auto id = hv.create(fx.spec("busy-" + std::to_string(i), "exit 0", Storage::Disposable));
        auto took = std::chrono::steady_clock::now() - t0;
        INFO("launch " << i << ": " << (id ? "ok" : id.error().message()));
        CHECK(took < std::chrono::seconds(10));
        if (!id)
            break;
        ++started;
        wait_event(hv, *id);
    }
    stop = true;
    for (auto& t : churn)
        t.join();
    CHECK(started == 25);
}
