#include <bulkhead/dom0/hypervisor/sandbox/sandbox_hypervisor.h>

#include "cgroup.h"
#include "domain_launch.h"
#include "id_shift.h"
#include "net_link.h"
#include "seccomp_filter.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <csignal>
#include <map>
#include <optional>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace bulkhead::dom0 {

using namespace sandbox;

namespace {
Logger log("hypervisor.sandbox");

struct Domain {
    DomId id = 0;
    std::string name;
    PowerState state = PowerState::Running;
    pid_t pid = -1;
    UniqueFd pidfd;
    DomainCgroup cgroup;
    std::string volatile_dir;
    uint64_t memory_mib = 0;
    uint32_t id_base = 0;                // host id of guest id 0
    std::vector<std::string> persistent; // shifted to id_base while running (userns)
};

Result<void> wipe_dir(std::string const& dir) {
    TRY(sys::remove_tree(dir));
    return sys::mkdir_p(dir, 0700);
}

// The first missing prerequisite, as a clear Unsupported error.
Result<void> check_host() {
    if (::geteuid() != 0)
        return unexpected(Errc::Unsupported,
                          "sandbox backend needs root (euid " + std::to_string(::geteuid()) + ")");
    for (char const* ns : {"mnt", "pid", "net", "uts", "ipc"})
        if (!sys::exists(std::string("/proc/self/ns/") + ns))
            return unexpected(Errc::Unsupported,
                              std::string("kernel lacks the ") + ns + " namespace");
    auto fs = sys::read_file("/proc/filesystems");
    if (!fs || fs->find("\toverlay\n") == std::string::npos)
        return unexpected(Errc::Unsupported, "kernel lacks overlayfs");
    TRY(DomainCgroup::detect());
    return ok();
}

std::string overlay_escape(std::string const& path) {
    std::string out; // ',' and ':' separate options and layers; '\\' escapes them
    for (char c : path) {
        if (c == ',' || c == ':' || c == '\\')
            out += '\\';
        out += c;
    }
    return out;
}
} // namespace

struct SandboxHypervisor::Impl {
    SandboxOptions options;
    Result<std::vector<sock_filter>> seccomp = unexpected(Errc::Internal, "not built");
    UniqueFd epoll;
    UniqueFd wake; // eventfd: queued events
    std::map<DomId, Domain> domains;
    std::vector<HypervisorEvent> queue;
    DomId next_id = 1;
    net::Uplink uplink; // dom0's side of sys-net's link, put back when we close

    Result<Domain*> find(DomId id) {
        auto it = domains.find(id);
        if (it == domains.end())
            return unexpected(Errc::NotFound, "no sandbox domain " + std::to_string(id));
        return &it->second;
    }

    void signal_queue() {
        uint64_t one = 1;
        (void)!::write(wake.get(), &one, sizeof one);
    }

    // Back to canonical ids (host id == guest id) once the domain is gone.
    void unshift(std::vector<std::string> const& dirs, std::string const& name) {
        for (auto const& dir : dirs)
            if (auto r = shift_ids(dir, {options.uid_base, 0}); !r)
                LOG_WARN(log, "id unshift failed", {"domain", name}, {"dir", dir},
                         {"error", r.error().message()});
    }

    // After init is gone: nothing of the domain may remain.
    void release(Domain& d) {
        unshift(d.persistent, d.name);
        ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, d.pidfd.get(), nullptr);
        if (auto r = d.cgroup.remove(); !r)
            LOG_WARN(log, "cgroup remove failed", {"domain", d.name},
                     {"error", r.error().message()});
        if (auto r = wipe_dir(d.volatile_dir); !r)
            LOG_WARN(log, "volatile wipe failed", {"domain", d.name},
                     {"error", r.error().message()});
    }

    Result<DomId> create(DomainSpec const& spec);
};

SandboxHypervisor::SandboxHypervisor(SandboxOptions options)
    : m(std::make_unique<Impl>()) {
    m->options = std::move(options);
    m->seccomp = build_seccomp_filter();
    m->epoll = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    m->wake = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;
    ::epoll_ctl(m->epoll.get(), EPOLL_CTL_ADD, m->wake.get(), &ev);
}

SandboxHypervisor::~SandboxHypervisor() {
    std::vector<DomId> ids;
    for (auto const& [id, d] : m->domains)
        ids.push_back(id);
    for (auto id : ids)
        (void)destroy(id);
    m->uplink.restore();
    // The group held only our domains' cgroups: do not leave an empty directory per run.
    sandbox::DomainCgroup::remove_group(m->options.cgroup_name);
}

Result<DomId> SandboxHypervisor::create(DomainSpec const& spec) {
    return m->create(spec);
}

Result<DomId> SandboxHypervisor::Impl::create(DomainSpec const& spec) {
    TRY(check_host());
    if (!epoll.valid() || !wake.valid())
        return unexpected(Errc::Internal, "sandbox: epoll/eventfd setup failed");
    if (!seccomp)
        return seccomp.error();
    if (spec.name.empty() || spec.layers.empty() || spec.init_argv.empty() ||
        spec.volatile_dir.empty() || spec.volatile_dir[0] != '/')
        return unexpected(Errc::Invalid, "sandbox: spec needs name, layers, init_argv and an "
                                         "absolute volatile_dir");
    for (auto const& l : spec.layers)
        if (!sys::exists(l))
            return unexpected(Errc::NotFound, "template layer " + l);

    DomId id = next_id++;
    bool userns = options.user_namespace == UserNamespace::Mapped;
    uint32_t host_root = options.uid_base + 65536u * id;

    // Root resets at every start: upper and work start empty (unless root_upper_dir).
    TRY_CTX(wipe_dir(spec.volatile_dir), "wiping volatile dir");
    std::string upper_base = spec.root_upper_dir.empty() ? spec.volatile_dir : spec.root_upper_dir;
    for (auto sub : {"/upper", "/work"}) {
        TRY(sys::mkdir_p(upper_base + sub, 0755));
        if (userns)
            TRY(sys::chown(upper_base + sub, host_root, host_root));
    }
    std::string root = spec.volatile_dir + "/root";
    TRY(sys::mkdir_p(root, 0755));
    if (!spec.private_dir.empty())
        TRY(sys::mkdir_p(spec.private_dir + "/home", 0755));
    // Persistent dirs hold canonical ids at rest; shift them into this slot's range.
    std::vector<std::string> persistent;
    if (userns) {
        for (auto const& dir : {spec.private_dir, spec.root_upper_dir}) {
            if (dir.empty())
                continue;
            persistent.push_back(dir);
            if (auto r = shift_ids(dir, {options.uid_base, host_root}); !r) {
                unshift(persistent, spec.name);
                return std::move(r).error().prefix("mapping ids of " + dir);
            }
        }
    }

    LaunchPlan plan;
    plan.root = root;
    std::string lower;
    UniqueFd idmap;
    if (userns) // layers (host root's) show as guest root's: copy-up works
        idmap = TRY_CTX(make_mapped_userns(host_root), "idmap user namespace");
    plan.idmap_userns_fd = idmap.get();
    for (size_t i = spec.layers.size(); i-- > 0;) { // overlay: top first
        std::string dir = spec.layers[i];
        if (userns) {
            dir = spec.volatile_dir + "/lower/" + std::to_string(i);
            TRY(sys::mkdir_p(dir, 0755));
            plan.idmapped_layers.push_back({spec.layers[i], dir, false});
        }
        lower += (lower.empty() ? "" : ":") + overlay_escape(dir);
    }
    plan.overlay_options = "lowerdir=" + lower + ",upperdir=" + overlay_escape(upper_base) +
                           "/upper,workdir=" + overlay_escape(upper_base) + "/work";
    plan.private_dir = spec.private_dir;
    plan.hostname = spec.name;
    for (auto const& b : spec.binds) {
        if (b.guest_path.empty() || b.guest_path[0] != '/')
            return unexpected(Errc::Invalid, "bind guest path must be absolute: " + b.guest_path);
        plan.binds.push_back({b.host_path, root + b.guest_path, b.writable});
    }
    plan.argv = spec.init_argv;
    plan.env = spec.init_env;
    bool has_path = false;
    for (auto const& e : plan.env)
        has_path |= e.starts_with("PATH=");
    if (!has_path)
        plan.env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    plan.env.push_back("VCHAN_DOMAIN=" + std::to_string(id));
    plan.seccomp = &*seccomp;
    plan.user_namespace = userns;
    plan.guest_root_id = host_root;
    auto console = TRY(sys::open(spec.volatile_dir + "/console.log",
                                 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    plan.console_fd = console.get();

    auto cgroup = TRY_CTX(DomainCgroup::make(options.cgroup_name,
                                             std::to_string(::getpid()) + "-" + std::to_string(id),
                                             spec.memory_mib << 20, options.pids_max),
                          "creating cgroup");
    auto before_start = [&](pid_t pid) { return cgroup.add(pid); };
    auto map_ids = [&](pid_t pid) -> Result<void> {
        auto map = "0 " + std::to_string(host_root) + " 65536\n";
        auto proc = "/proc/" + std::to_string(pid);
        for (auto file : {"/uid_map", "/gid_map"}) {
            auto fd = TRY(sys::open(proc + file, O_WRONLY | O_CLOEXEC));
            TRY_CTX(sys::write_all(fd.get(), map), file);
        }
        return ok();
    };
    auto launched = launch_domain(plan, before_start, map_ids);
    if (!launched) {
        unshift(persistent, spec.name);
        (void)cgroup.remove();
        (void)wipe_dir(spec.volatile_dir);
        return std::move(launched).error().prefix("creating domain " + spec.name);
    }

    Domain d;
    d.id = id;
    d.name = spec.name;
    d.pid = launched->pid;
    d.pidfd = std::move(launched->pidfd);
    d.cgroup = std::move(cgroup);
    d.volatile_dir = spec.volatile_dir;
    d.memory_mib = spec.memory_mib;
    d.id_base = userns ? host_root : 0;
    d.persistent = std::move(persistent);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = id;
    ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, d.pidfd.get(), &ev);
    LOG_INFO(log, "domain started", {"domain", d.name}, {"id", id}, {"pid", d.pid});
    domains.emplace(id, std::move(d));
    return id;
}

Result<void> SandboxHypervisor::shutdown(DomId id) {
    auto d = TRY(m->find(id));
    TRY(sys::pidfd_send_signal(d->pidfd.get(), SIGTERM));
    d->state = PowerState::Stopping;
    return ok();
}

Result<void> SandboxHypervisor::destroy(DomId id) {
    auto d = TRY(m->find(id));
    (void)d->cgroup.kill_all();
    (void)sys::pidfd_send_signal(d->pidfd.get(), SIGKILL);
    (void)d->cgroup.freeze(false);
    auto status = TRY_CTX(wait_init(d->pidfd.get(), true), "reaping domain init");
    m->release(*d);
    m->queue.push_back({id, HypervisorEvent::Kind::Destroyed, status.code});
    m->signal_queue();
    LOG_INFO(log, "domain destroyed", {"domain", d->name}, {"id", id});
    m->domains.erase(id);
    return ok();
}

Result<void> SandboxHypervisor::pause(DomId id) {
    auto d = TRY(m->find(id));
    TRY(d->cgroup.freeze(true));
    d->state = PowerState::Paused;
    return ok();
}

Result<void> SandboxHypervisor::unpause(DomId id) {
    auto d = TRY(m->find(id));
    TRY(d->cgroup.freeze(false));
    d->state = PowerState::Running;
    return ok();
}

Result<DomainInfo> SandboxHypervisor::info(DomId id) {
    auto d = TRY(m->find(id));
    DomainInfo i{d->id, d->name, d->state, d->memory_mib << 10};
    if (auto used = d->cgroup.memory_current())
        i.memory_kib = *used >> 10;
    return i;
}

Result<std::vector<DomainInfo>> SandboxHypervisor::list() {
    std::vector<DomainInfo> out;
    for (auto const& [id, d] : m->domains)
        out.push_back(TRY(info(id)));
    return out;
}

Result<void> SandboxHypervisor::set_memory_target(DomId id, uint64_t mib) {
    auto d = TRY(m->find(id));
    TRY(d->cgroup.set_memory_max(mib << 20));
    d->memory_mib = mib;
    return ok();
}

namespace {
std::string netns_of(pid_t pid) {
    return "/proc/" + std::to_string(pid) + "/ns/net";
}
} // namespace

Result<NetworkLinkInfo> SandboxHypervisor::attach_network(DomId id, NetworkLink const& link) {
    auto d = TRY(m->find(id));
    NetworkLinkInfo info;
    VethPlan plan;
    plan.domain_netns = netns_of(d->pid);
    plan.vif = "vif" + std::to_string(id) + ".0";
    plan.address = link.address;
    if (link.backend == 0) {
        auto const& o = m->options;
        plan.backend_netns = o.uplink_netns.empty() ? netns_of(::getpid()) : o.uplink_netns;
        plan.gateway = o.uplink_gateway;
        info.dns = o.uplink_dns.empty()
                       ? nameservers(sys::read_file("/etc/resolv.conf").value_or(""))
                       : o.uplink_dns;
        TRY(m->uplink.open(plan.backend_netns));
    } else {
        auto b = TRY_CTX(m->find(link.backend), "netvm of " + d->name);
        plan.backend_netns = netns_of(b->pid);
        plan.gateway = link.gateway;
        TRY_CTX(enable_forwarding(plan.backend_netns), "forwarding in " + b->name);
    }
    if (plan.address.empty() || plan.gateway.empty())
        return unexpected(Errc::Invalid, "network link of " + d->name + " needs addresses");
    TRY_CTX(plug_veth(plan), "plugging " + d->name);
    info.gateway = plan.gateway;
    LOG_INFO(log, "network attached", {"domain", d->name}, {"vif", plan.vif},
             {"address", plan.address}, {"gateway", plan.gateway});
    return info;
}

Result<void> SandboxHypervisor::detach_network(DomId id) {
    auto d = TRY(m->find(id));
    TRY_CTX(unplug_veth(netns_of(d->pid)), "unplugging " + d->name);
    LOG_INFO(log, "network detached", {"domain", d->name});
    return ok();
}

Result<void> SandboxHypervisor::apply_network_rules(DomId netvm, std::string const& ruleset) {
    auto d = TRY(m->find(netvm));
    TRY_CTX(load_nft(netns_of(d->pid), ruleset), "firewall of " + d->name);
    return ok();
}

int SandboxHypervisor::event_fd() const {
    return m->epoll.get();
}

Result<std::vector<HypervisorEvent>> SandboxHypervisor::take_events() {
    uint64_t count = 0;
    (void)!::read(m->wake.get(), &count, sizeof count);
    std::vector<DomId> gone;
    for (auto& [id, d] : m->domains) {
        auto status = TRY(wait_init(d.pidfd.get(), false));
        if (!status.exited)
            continue;
        bool crashed = status.signal != 0 && status.signal != SIGTERM;
        m->queue.push_back(
            {id, crashed ? HypervisorEvent::Kind::Crashed : HypervisorEvent::Kind::Exited,
             status.code});
        (void)d.cgroup.kill_all(); // init is gone; the kernel already killed the rest
        m->release(d);
        LOG_INFO(log, "domain ended", {"domain", d.name}, {"id", id}, {"code", status.code});
        gone.push_back(id);
    }
    for (auto id : gone)
        m->domains.erase(id);
    return std::exchange(m->queue, {});
}

Result<SandboxLimits> SandboxHypervisor::limits(DomId id) {
    auto d = TRY(m->find(id));
    return SandboxLimits{TRY(d->cgroup.memory_max()), TRY(d->cgroup.pids_max())};
}

Result<int> SandboxHypervisor::init_pid(DomId id) {
    auto d = TRY(m->find(id));
    return d->pid;
}

Result<void> SandboxHypervisor::probe_user_namespace(SandboxOptions const& options) {
    TRY(check_host());
    return sandbox::probe_user_namespace(options.uid_base);
}

Result<uint32_t> SandboxHypervisor::guest_id_base(DomId id) {
    auto d = TRY(m->find(id));
    return d->id_base;
}

} // namespace bulkhead::dom0
