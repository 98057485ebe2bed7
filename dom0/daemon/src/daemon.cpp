#include "daemon.h"
#include "crash_recovery.h"
#include "gui_bridge.h"
#include "serialized_hypervisor.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/hypervisor/sandbox/sandbox_hypervisor.h>
#include <bulkhead/dom0/hypervisor/xen/xen_hypervisor.h>

#include <csignal>
#include <thread>

namespace bulkhead::dom0 {
namespace {

Logger const log{"daemon"};

Result<std::unique_ptr<Hypervisor>> make_backend(DaemonOptions const& o, Layout const& layout) {
    std::string backend = o.backend;
    std::string const& userns = o.userns;
    if (backend == "auto")
        backend = xen::running_on_xen() ? "xen" : "sandbox";
    if (backend == "sandbox") {
        SandboxOptions opts;
        opts.cgroup_name = "bulkhead-" + std::to_string(::getpid());
        opts.pids_max = 16384; // memory is the real limit; a call costs two processes
        opts.uplink_netns = o.uplink_netns;
        opts.uplink_dns = o.uplink_dns;
        (void)layout;
        if (userns != "auto" && userns != "on" && userns != "off")
            return unexpected(Errc::Invalid, "unknown --userns '" + userns + "' (auto, on, off)");
        if (userns != "off") { // probed once: a child enters a mapped user namespace
            auto probe = SandboxHypervisor::probe_user_namespace(opts);
            if (probe)
                opts.user_namespace = UserNamespace::Mapped;
            else if (userns == "on")
                return std::move(probe).error().prefix("--userns on");
            else
                LOG_INFO(log, "user namespaces unavailable: guest root is host root",
                         {"reason", probe.error().message()});
        }
        return std::unique_ptr<Hypervisor>(std::make_unique<SandboxHypervisor>(opts));
    }
    if (backend == "xen") {
        xen::XenOptions opts;
        opts.kernels_dir = o.xen_kernels_dir;
        opts.uplink_netns = o.uplink_netns;
        opts.uplink_dns = o.uplink_dns;
        auto hv = TRY(xen::XenHypervisor::open(opts));
        // Xen domains outlive a daemon that died: a new one starts from a clean slate, as
        // the sandbox's crash recovery does (the store keeps them Halted).
        for (auto const& name : TRY(hv->destroy_leftovers()))
            LOG_WARN(log, "destroyed a domain a previous bulkheadd left running", {"domain", name});
        return std::unique_ptr<Hypervisor>(std::move(hv));
    }
    return unexpected(Errc::Invalid, "unknown backend '" + backend + "' (auto, sandbox, xen)");
}

// The guest tools a domain sees at /usr/lib/bulkhead: only these, copied from the build
// (or install) directory, so no dom0 program is ever visible inside a domain.
Result<std::string> stage_guest_tools(std::string const& from, Layout const& layout) {
    auto dir = layout.root() + "/guest-tools";
    TRY(sys::mkdir_p(dir, 0755));
    TRY(sys::chmod(dir, 0755));
    for (auto const* tool :
         {"bulkhead-agent", "qrexec-client-vm", "qfile-agent", "qfile-unpacker", "qvm-copy",
          "qvm-open-in-vm", "qvm-open-in-dvm", "vm-file-editor", "bulkhead-open-url"}) {
        // Streamed: loading the binaries whole left ~12 MiB of freed heap in the daemon's RSS.
        TRY_CTX(sys::install_file(from + "/" + tool, dir + "/" + tool, 0755), "guest tools");
    }
    return dir;
}

} // namespace

Daemon::Daemon(DaemonOptions opts)
    : m_opts(std::move(opts))
    , m_layout(m_opts.root)
    , m_policy(m_opts.policy_dirs) {}

Daemon::~Daemon() {
    stop();
    m_api.reset();
    m_pool.reset();
    m_broker.reset();
    m_manager.reset();
    m_gui.reset();
}

Result<std::unique_ptr<Daemon>> Daemon::create(DaemonOptions opts) {
    std::unique_ptr<Daemon> d(new Daemon(std::move(opts)));
    d->m_ask = TRY(make_ask_agent(d->m_opts.ask_agent, d->m_opts.ask_timeout));
    TRY_CTX(d->m_layout.prepare(), "preparing " + d->m_layout.root());
    TRY(recover_previous_daemon(d->m_layout)); // after a crash: its domains, its pid file
    d->m_store = TRY_CTX(Store::open(d->m_layout.root()), "opening the store");
    d->m_loop = TRY(EventLoop::create());
    d->m_hv = TRY(make_backend(d->m_opts, d->m_layout));
    if (d->m_hv->backend_name() == "xen") {
        // libxl is thread-safe, and a Xen create takes seconds: calls run concurrently.
        d->m_plumbing = std::make_unique<XenPlumbing>(d->m_layout);
    } else {
        d->m_plumbing = std::make_unique<SocketPlumbing>(d->m_layout);
        d->m_hv = std::make_unique<SerializedHypervisor>(std::move(d->m_hv));
    }
    d->m_broker = std::make_unique<Broker>(*d->m_loop, *d->m_plumbing, *d);
    auto tools = TRY(stage_guest_tools(d->m_opts.agent_dir, d->m_layout));
    AgentHub* hub = d->m_broker.get();
    if (!d->m_opts.gui_display.empty()) {
        // The domain's half, for templates with an X server (dynamically linked: such a
        // template has the X libraries).
        TRY_CTX(sys::install_file(d->m_opts.agent_dir + "/bulkhead-gui-agent",
                                  tools + "/bulkhead-gui-agent", 0755),
                "guest tools");
        auto guid = TRY(sys::self_exe_dir()) + "/bulkhead-guid";
        auto describe = [dp = d.get()](std::string const& name) {
            GuiBridge::Facts f;
            if (auto l = dp->m_store->get_property(name, "label"))
                f.label = l->value;
            if (auto rec = dp->m_store->get(name)) {
                f.klass = std::string(klass_name(rec->klass));
                f.tags.assign(rec->tags.begin(), rec->tags.end());
            }
            return f;
        };
        auto backend = d->m_hv->backend_name() == "xen" ? GuiBridge::Backend::Xen
                                                        : GuiBridge::Backend::Sandbox;
        d->m_gui = TRY(GuiBridge::start(*d->m_broker, d->m_layout, guid, d->m_opts.gui_display,
                                        d->m_opts.policy_dirs, describe, backend));
        hub = d->m_gui.get();
    }
    d->m_manager = std::make_unique<DomainManager>(*d->m_hv, *d, *hub, d->m_layout, tools);
    TRY(d->m_loop->watch(d->m_hv->event_fd(), EventLoop::Readable,
                         [dp = d.get()](uint32_t) { dp->m_manager->on_hypervisor_events(); }));
    // Disposables left by a previous run (crash) keep nothing: remove them.
    for (auto const& rec : TRY(d->m_store->list()))
        if (rec.klass == Klass::DispVM)
            (void)d->forget_disposable(rec.name);
    d->m_api = std::make_unique<ApiServer>(*d->m_store, *d, d->m_opts.max_api_clients);
    d->m_api->set_extension([dp = d.get()](admin::Request const& req, PeerCred peer) {
        return dp->extension(req, peer);
    });
    TRY_CTX(d->m_api->start(d->m_layout.admin_socket()), "admin socket");
    DispvmPool::Hooks hooks;
    hooks.create_record = [dp = d.get()](std::string const& dvm) {
        return dp->create_dispvm_record(dvm);
    };
    hooks.destroy = [dp = d.get()](std::string const& name) { dp->destroy_dispvm(name); };
    d->m_pool = std::make_unique<DispvmPool>(*d->m_store, *d->m_manager, std::move(hooks));
    d->m_pool->start();
    TRY(sys::write_file_atomic(d->m_layout.pid_file(), std::to_string(::getpid()) + "\n", 0644));
    LOG_INFO(log, "bulkheadd ready", {"backend", std::string(d->m_hv->backend_name())},
             {"root", d->m_layout.root()}, {"socket", d->m_layout.admin_socket()});
    return d;
}

Result<void> Daemon::run() {
    return m_loop->run();
}

void Daemon::stop() {
    {
        std::lock_guard lock(m_stop_mutex);
        if (m_stopped)
            return;
        m_stopped = true;
    }
    if (m_api)
        m_api->stop();
    if (m_ask) // a pending question would hold its call's worker until the ask timeout
        m_ask->cancel_all();
    if (m_pool) // before shutdown_all: preloaded disposables are paused
        m_pool->stop();
    if (m_manager)
        m_manager->shutdown_all(std::chrono::seconds(20));
    (void)sys::unlink(m_layout.pid_file());
    if (m_loop)
        m_loop->post([this] { m_loop->stop(); });
    LOG_INFO(log, "bulkheadd stopped");
}

// --- Lifecycle ---------------------------------------------------------------------------

Result<void> Daemon::start(std::string const& name) {
    TRY(m_manager->start(name));
    return {};
}
Result<void> Daemon::shutdown(std::string const& name, bool wait, std::chrono::seconds timeout) {
    return m_manager->shutdown(name, wait, timeout);
}
Result<void> Daemon::kill(std::string const& name) {
    return m_manager->kill(name);
}
Result<void> Daemon::pause(std::string const& name) {
    return m_manager->pause(name);
}
Result<void> Daemon::unpause(std::string const& name) {
    return m_manager->unpause(name);
}
std::string Daemon::power_state(std::string const& name) {
    return m_manager->power_state(name);
}
Result<void> Daemon::before_remove(std::string const& name) {
    return m_manager->wipe(name);
}
Result<void> Daemon::network_changed(std::string const& name) {
    return m_manager->network_changed(name);
}
Result<void> Daemon::firewall_changed(std::string const& name) {
    return m_manager->firewall_changed(name);
}
Result<void> Daemon::check_shutdown(std::string const& name) {
    auto clients = m_manager->connected_clients(name);
    if (clients.empty())
        return {};
    std::string list;
    for (auto const& c : clients)
        list += (list.empty() ? "" : ", ") + c;
    return unexpected(Errc::Busy, "There are other VMs connected to this VM: " + list +
                                      " (--force shuts it down anyway)");
}

// --- BrokerHost --------------------------------------------------------------------------

Result<DomId> Daemon::start_domain(std::string const& name) {
    return m_manager->start(name);
}
std::optional<DomId> Daemon::running_id(std::string const& name) {
    if (m_manager->power_state(name) != "Running")
        return std::nullopt;
    return m_manager->running_id(name);
}
void Daemon::agent_lost(std::string const& name) {
    m_manager->on_agent_lost(name);
}

// --- Admin API extension -----------------------------------------------------------------

Result<ExtensionReply> Daemon::extension(admin::Request const& req, PeerCred) {
    switch (req.kind_case()) {
    case admin::Request::kRun:
        return handle_run(req.run());
    case admin::Request::kImportLayer:
        return handle_import_layer(req.import_layer());
    default:
        return unexpected(Errc::Unsupported, "unknown request");
    }
}

Result<ExtensionReply> Daemon::handle_run(admin::Run const& run) {
    std::string name;
    bool dispvm = run.dispvm();
    if (dispvm) {
        name = TRY(create_dispvm(run.dispvm_template()));
    } else {
        name = run.domain();
        auto rec = TRY(m_store->get(name));
        if (rec.klass == Klass::AdminVM)
            return unexpected(Errc::Invalid, "qvm-run cannot run commands in dom0");
    }
    if (!running_id(name)) {
        if (!dispvm && !run.autostart())
            return unexpected(Errc::Invalid, "domain " + name + " is not running");
        if (auto r = m_manager->start(name); !r) {
            if (dispvm)
                destroy_dispvm(name);
            return unexpected(r.error());
        }
    }
    auto id = running_id(name);
    if (!id)
        return unexpected(Errc::Closed, "domain " + name + " stopped");
    std::string user = run.user().empty() ? default_user(name) : run.user();
    std::string command = run.command();
    if (run.is_service())
        command = "QUBESRPC " + command + " dom0";
    std::function<void()> on_end;
    if (dispvm)
        on_end = [this, name] { destroy_dispvm(name); };
    auto call = m_broker->exec_from_dom0(name, user, command, on_end);
    if (!call) {
        if (dispvm)
            destroy_dispvm(name);
        return unexpected(call.error());
    }
    ExtensionReply reply;
    reply.response.mutable_ok();
    auto* r = reply.response.mutable_run();
    r->set_domain(name);
    r->set_domid(*id);
    r->set_port(call->port);
    reply.fd = std::move(call->listener);
    if (dispvm) // qvm-run went away before the call even connected: nothing stays
        reply.after_close = [this, name] {
            if (m_manager->power_state(name) != "Halted" || m_store->get(name))
                destroy_dispvm(name);
        };
    return reply;
}

Result<ExtensionReply> Daemon::handle_import_layer(admin::ImportLayer const& req) {
    auto rec = TRY(m_store->get(req.template_()));
    if (rec.klass != Klass::TemplateVM)
        return unexpected(Errc::Invalid, req.template_() + " is not a TemplateVM");
    if (m_manager->power_state(rec.name) != "Halted")
        return unexpected(Errc::Busy, rec.name + " is running; shut it down first");
    auto const& src = req.source_dir();
    if (src.empty() || src[0] != '/' || !sys::exists(src))
        return unexpected(Errc::Invalid, "source must be an existing absolute directory");
    std::string id = rec.name + "." + std::to_string(m_store->generation()) + "." +
                     std::to_string(::time(nullptr));
    auto dst = m_layout.layer_dir(id);
    // cp -a keeps owners, modes, links and special files exactly; a layer is never edited
    // in place afterwards.
    auto cp = TRY(sys::run({"cp", "-a", "--", src, dst}));
    if (cp.status.code != 0) {
        (void)sys::remove_tree(dst);
        return unexpected(Errc::System, "copying " + src + " failed");
    }
    auto layers = TRY(m_store->layers(rec.name));
    layers.push_back(id);
    if (auto r = m_store->set_layers(rec.name, layers); !r) {
        (void)sys::remove_tree(dst);
        return unexpected(r.error());
    }
    ExtensionReply reply;
    reply.response.mutable_ok()->set_value(id);
    return reply;
}

} // namespace bulkhead::dom0
