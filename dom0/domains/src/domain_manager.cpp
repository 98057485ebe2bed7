#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>

#include <algorithm>
#include <bulkhead/dom0/domains/domain_manager.h>
#include <cctype>

namespace bulkhead::dom0 {
namespace {

Logger const log{"domains"};

// Where dom0's per-domain files are shown inside the domain.
constexpr char const* kGuestVchanDir = "/run/qubes-vchan";
constexpr char const* kGuestToolsDir = "/usr/lib/bulkhead";

} // namespace

DomainManager::DomainManager(Hypervisor& hv, ConfigSource& config, AgentHub& hub, Layout layout,
                             std::string agent_dir)
    : m_hv(hv)
    , m_config(config)
    , m_hub(hub)
    , m_layout(std::move(layout))
    , m_agent_dir(std::move(agent_dir)) {}

DomainManager::~DomainManager() = default;

std::string DomainManager::upper_dir(std::string const& name) const {
    return m_layout.root_upper_dir(name);
}

Result<DomainSpec> DomainManager::make_spec(StartConfig const& cfg) {
    DomainSpec spec;
    spec.name = cfg.name;
    spec.uuid = cfg.uuid;
    spec.layers = cfg.layers;
    if (spec.layers.empty())
        return unexpected(Errc::Invalid, "domain " + cfg.name + " has no template layers");
    spec.volatile_dir = m_layout.volatile_dir(cfg.name);
    if (cfg.root != StartConfig::Root::Volatile)
        spec.root_upper_dir = upper_dir(cfg.name);
    if (!cfg.disposable) {
        spec.private_dir = m_layout.private_dir(cfg.name);
        TRY(sys::mkdir_p(spec.private_dir, 0755));
        // A new private volume gets the default user's home, as Qubes' first boot does
        // (uid/gid 1000, the Qubes user). The domain owns everything below it afterwards.
        auto const& u = cfg.default_user;
        bool valid_user = !u.empty() && u.size() <= 32 && (std::islower(u[0]) || u[0] == '_') &&
                          std::all_of(u.begin(), u.end(), [](char c) {
                              return std::islower(c) || std::isdigit(c) || c == '_' || c == '-';
                          });
        if (!valid_user)
            return unexpected(Errc::Invalid,
                              "default_user '" + text::escape(u) + "' is not a valid user name");
        auto home = spec.private_dir + "/home/" + u;
        if (cfg.default_user != "root" && !sys::exists(home)) {
            TRY(sys::mkdir_p(spec.private_dir + "/home", 0755));
            TRY(sys::mkdir_p(home, 0700));
            TRY(sys::chown(home, 1000, 1000));
        }
    }
    spec.memory_mib = cfg.memory_mib;
    spec.maxmem_mib = cfg.maxmem_mib;
    spec.vcpus = cfg.vcpus;
    spec.kernel = cfg.kernel;
    if (auto net = m_config.net_config(cfg.name))
        spec.network_backend = net->provides_network;
    spec.virt_mode = cfg.virt_mode;
    spec.init_argv = {std::string(kGuestToolsDir) + "/bulkhead-agent"};
    spec.init_env = {std::string("VCHAN_SOCKET_DIR=") + kGuestVchanDir,
                     // The virtual DNS pair its netvm answers (the agent writes resolv.conf).
                     "BULKHEAD_DNS=10.139.1.1 10.139.1.2",
                     "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin:" +
                         std::string(kGuestToolsDir),
                     "BULKHEAD_DOMAIN=" + cfg.name};
    // A fresh socket directory each start: nothing a previous run left can be reused.
    auto vdir = m_layout.vchan_dir(cfg.name);
    TRY(sys::remove_tree(vdir));
    TRY(sys::mkdir_p(vdir, 0700));
    // Any user in the domain may open a data endpoint (qrexec-client-vm runs as the user);
    // sticky, so one cannot remove another's. dom0's own parent directory is 0711.
    TRY(sys::chmod(vdir, 01777));
    spec.binds.push_back({vdir, kGuestVchanDir, true});
    spec.binds.push_back({m_agent_dir, kGuestToolsDir, false});
    return spec;
}

Result<DomId> DomainManager::start(std::string const& name) {
    std::unique_lock lock(m_mutex);
    for (;;) {
        auto it = m_live.find(name);
        if (it == m_live.end())
            break;
        if (it->second.state == State::Running || it->second.state == State::Paused)
            return it->second.id;
        if (it->second.state == State::Halting)
            return unexpected(Errc::Busy, "domain " + name + " is shutting down");
        m_changed.wait(lock); // Transient: someone else is starting it
    }
    // Reserve the name, then build and create without the lock: a slow (or stuck)
    // backend must not stop qvm-ls, other starts or event handling.
    m_live[name] = Live{kNoDomId, State::Transient, {}};
    ++m_starting;
    lock.unlock();
    auto t0 = std::chrono::steady_clock::now();
    auto cfg = m_config.start_config(name);
    auto created = [&]() -> Result<DomId> {
        if (!cfg)
            return std::move(cfg).error();
        // As Qubes: the netvm chain starts first (store validation keeps it loop-free).
        auto net = TRY(m_config.net_config(name));
        if (!net.netvm.empty())
            TRY_CTX(start(net.netvm), "starting netvm " + net.netvm);
        auto spec = TRY(make_spec(*cfg));
        return TRY_CTX(m_hv.create(spec), "starting " + name);
    }();
    lock.lock();
    --m_starting;
    bool died_at_once = created && m_orphan_events.count(*created);
    if (m_starting == 0)
        m_orphan_events.clear();
    if (!created || died_at_once) {
        m_live.erase(name);
        m_changed.notify_all();
        if (!created)
            return std::move(created).error();
        return unexpected(Errc::Closed, "domain " + name + " exited while starting");
    }
    DomId id = *created;
    m_live[name] = Live{id, State::Transient, *cfg};
    m_by_id[id] = name;
    lock.unlock();

    // The network is in place before the domain counts as running (and before its agent
    // answers, so what qvm-run starts finds it).
    auto plugged = plug(name, id);
    auto deadline = std::chrono::steady_clock::now() + cfg->qrexec_timeout;
    auto ready = plugged ? m_hub.attach(name, id, deadline) : Result<void>(plugged.error());

    lock.lock();
    auto it = m_live.find(name);
    if (it == m_live.end() || it->second.id != id)
        return unexpected(Errc::Closed, "domain " + name + " exited while starting");
    if (!ready) {
        LOG_WARN(log, "agent not ready, destroying", {"domain", name},
                 {"error", ready.error().message()});
        lock.unlock();
        (void)m_hv.destroy(id);
        lock.lock();
        // The Destroyed event cleans up; wait for it so the caller sees Halted.
        m_changed.wait_for(lock, std::chrono::seconds(10),
                           [&] { return !m_live.count(name) || m_live.at(name).id != id; });
        auto const& e = ready.error();
        if (!plugged)
            return unexpected(e.code(), "domain " + name + ": network: " + e.message());
        return unexpected(e.code(), "domain " + name + ": qrexec agent did not connect (" +
                                        e.message() + ")");
    }
    it->second.state = State::Running;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    LOG_INFO(log, "domain running", {"domain", name}, {"id", std::to_string(id)},
             {"ms", std::to_string(ms.count())});
    m_changed.notify_all();
    return id;
}

Result<void> DomainManager::shutdown(std::string const& name, bool wait,
                                     std::chrono::seconds timeout) {
    std::unique_lock lock(m_mutex);
    auto it = m_live.find(name);
    if (it == m_live.end())
        return {}; // already halted: Qubes treats this as success
    DomId id = it->second.id;
    if (it->second.state == State::Transient)
        return unexpected(Errc::Busy, "domain " + name + " is starting");
    if (it->second.state == State::Paused)
        return unexpected(Errc::Busy, "domain " + name + " is paused");
    if (it->second.state != State::Halting) {
        it->second.state = State::Halting;
        TRY_CTX(m_hv.shutdown(id), "shutting down " + name);
    }
    if (!wait)
        return {};
    auto gone = [&] {
        auto i = m_live.find(name);
        return i == m_live.end() || i->second.id != id;
    };
    if (m_changed.wait_for(lock, timeout, gone))
        return {};
    LOG_WARN(log, "shutdown timed out, killing", {"domain", name});
    lock.unlock();
    (void)m_hv.destroy(id);
    lock.lock();
    m_changed.wait_for(lock, std::chrono::seconds(10), gone);
    return unexpected(Errc::Timeout, "domain " + name + " did not shut down within " +
                                         std::to_string(timeout.count()) + " s; killed");
}

Result<void> DomainManager::kill(std::string const& name) {
    std::unique_lock lock(m_mutex);
    auto it = m_live.find(name);
    if (it == m_live.end())
        return unexpected(Errc::Invalid, "domain " + name + " is not running");
    if (it->second.id == kNoDomId)
        return unexpected(Errc::Busy, "domain " + name + " is starting");
    DomId id = it->second.id;
    it->second.state = State::Halting; // its agent connection breaking now is expected
    lock.unlock();
    TRY_CTX(m_hv.destroy(id), "killing " + name);
    lock.lock();
    m_changed.wait_for(lock, std::chrono::seconds(10), [&] {
        auto i = m_live.find(name);
        return i == m_live.end() || i->second.id != id;
    });
    return {};
}

Result<void> DomainManager::pause(std::string const& name) {
    std::lock_guard lock(m_mutex);
    auto it = m_live.find(name);
    if (it == m_live.end() || it->second.state != State::Running)
        return unexpected(Errc::Invalid, "domain " + name + " is not running");
    TRY_CTX(m_hv.pause(it->second.id), "pausing " + name);
    it->second.state = State::Paused;
    return {};
}

Result<void> DomainManager::unpause(std::string const& name) {
    std::lock_guard lock(m_mutex);
    auto it = m_live.find(name);
    if (it == m_live.end() || it->second.state != State::Paused)
        return unexpected(Errc::Invalid, "domain " + name + " is not paused");
    TRY_CTX(m_hv.unpause(it->second.id), "unpausing " + name);
    it->second.state = State::Running;
    return {};
}

std::string DomainManager::power_state(std::string const& name) const {
    std::lock_guard lock(m_mutex);
    auto it = m_live.find(name);
    if (it == m_live.end())
        return name == "dom0" ? "Running" : "Halted";
    switch (it->second.state) {
    case State::Transient:
        return "Transient";
    case State::Running:
        return "Running";
    case State::Paused:
        return "Paused";
    case State::Halting:
        return "Halting";
    }
    return "Halted";
}

std::optional<DomId> DomainManager::running_id(std::string const& name) const {
    std::lock_guard lock(m_mutex);
    auto it = m_live.find(name);
    if (it == m_live.end() || it->second.state == State::Transient ||
        it->second.state == State::Halting)
        return std::nullopt;
    return it->second.id;
}

std::optional<std::string> DomainManager::name_of(DomId id) const {
    std::lock_guard lock(m_mutex);
    auto it = m_by_id.find(id);
    if (it == m_by_id.end())
        return std::nullopt;
    return it->second;
}

std::vector<std::string> DomainManager::running_names() const {
    std::lock_guard lock(m_mutex);
    std::vector<std::string> out;
    for (auto const& [name, live] : m_live)
        out.push_back(name);
    return out;
}

Result<void> DomainManager::wipe(std::string const& name) {
    std::lock_guard lock(m_mutex);
    if (m_live.count(name))
        return unexpected(Errc::Busy, "domain " + name + " is running");
    TRY(sys::remove_tree(m_layout.private_dir(name)));
    TRY(sys::remove_tree(m_layout.volatile_dir(name)));
    TRY(sys::remove_tree(m_layout.root_upper_dir(name)));
    TRY(sys::remove_tree(m_layout.vchan_dir(name)));
    return {};
}

void DomainManager::shutdown_all(std::chrono::seconds timeout) {
    auto names = running_names();
    for (auto const& n : names)
        (void)shutdown(n, false, timeout);
    for (auto const& n : names)
        if (auto r = shutdown(n, true, timeout); !r)
            LOG_WARN(log, "shutdown at exit", {"domain", n}, {"error", r.error().message()});
}

Result<void> DomainManager::commit_template(StartConfig const& cfg) {
    // The template's root changes (overlay upper) become its new top layer; an untouched
    // root adds nothing.
    auto base = upper_dir(cfg.name);
    auto upper = base + "/upper";
    if (!sys::exists(upper))
        return {};
    auto entries = TRY(sys::list_dir(upper));
    if (entries.empty())
        return {};
    TRY(m_config.commit_template_layer(cfg.name, upper));
    TRY(sys::remove_tree(base)); // work/ and anything left
    return {};
}

void DomainManager::cleanup_locked(std::string const& name, Live const& live, bool clean_exit,
                                   std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    m_hub.detach(name);
    (void)sys::remove_tree(m_layout.vchan_dir(name));
    if (live.config.root == StartConfig::Root::CommitOnHalt && clean_exit) {
        if (auto r = commit_template(live.config); !r)
            LOG_ERROR(log, "template commit failed", {"domain", name},
                      {"error", r.error().message()});
    }
    if (live.config.disposable) {
        (void)sys::remove_tree(m_layout.volatile_dir(name));
        if (auto r = m_config.forget_disposable(name); !r)
            LOG_ERROR(log, "disposable removal failed", {"domain", name},
                      {"error", r.error().message()});
    }
    lock.lock();
}

void DomainManager::on_hypervisor_events() {
    auto events = m_hv.take_events();
    if (!events) {
        LOG_ERROR(log, "hypervisor events", {"error", events.error().message()});
        return;
    }
    std::unique_lock lock(m_mutex);
    for (auto const& ev : *events) {
        auto by = m_by_id.find(ev.id);
        if (by == m_by_id.end()) {
            if (m_starting > 0) // a create that has not recorded its id yet
                m_orphan_events.insert(ev.id);
            continue;
        }
        std::string name = by->second;
        m_by_id.erase(by);
        auto it = m_live.find(name);
        if (it == m_live.end() || it->second.id != ev.id)
            continue;
        Live live = std::move(it->second);
        m_live.erase(it);
        bool clean = ev.kind == HypervisorEvent::Kind::Exited && live.state == State::Halting;
        LOG_INFO(log, "domain halted", {"domain", name}, {"how", std::string(to_string(ev.kind))},
                 {"code", std::to_string(ev.exit_code)});
        cleanup_locked(name, live, clean, lock);
    }
    m_changed.notify_all();
}

void DomainManager::on_agent_lost(std::string const& name) {
    std::unique_lock lock(m_mutex);
    auto it = m_live.find(name);
    if (it == m_live.end() || it->second.state != State::Running)
        return;
    DomId id = it->second.id;
    lock.unlock();
    LOG_WARN(log, "agent connection lost; killing the domain", {"domain", name});
    (void)m_hv.destroy(id);
}

} // namespace bulkhead::dom0
