// XenHypervisor: every libxl and xenstore call of dom0 is made here, each turned into an
// Error naming the call (see xen_call). One poller thread drives libxl's event machinery
// (beforepoll / poll / afterpoll); libxl hands shutdown and death events to on_event, which
// queues them for that thread, which destroys shut-down domains and reports deaths.
#include "host_storage.h"
#include "libxl_config.h"
#include "xen_network.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/dom0/hypervisor/xen/xen_hypervisor.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

extern "C" {
#include <libxl.h>
#include <libxl_utils.h>
#include <xenstore.h>
#include <xentoollog.h>
}

namespace bulkhead::dom0::xen {
namespace {

Logger const log{"xen"};

// A failed libxl call as our Error: the call's name, the domain, libxl's error name.
Error xen_error(char const* call, int rc, std::optional<DomId> id = std::nullopt) {
    std::string what = call;
    if (id)
        what += " (domain " + std::to_string(*id) + ")";
    auto name = libxl_error_to_string(libxl_error(rc));
    what += ": libxl " + std::string(name ? name : "error") + " (" + std::to_string(rc) + ")";
    Errc code = Errc::System;
    if (rc == ERROR_DOMAIN_NOTFOUND)
        code = Errc::NotFound;
    else if (rc == ERROR_INVAL)
        code = Errc::Invalid;
    return Error(code, what);
}

Result<void> xen_call(int rc, char const* call, std::optional<DomId> id = std::nullopt) {
    if (rc != 0)
        return xen_error(call, rc, id);
    return {};
}

void signal_fd(int fd) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
}

void drain_fd(int fd) {
    uint64_t v;
    [[maybe_unused]] auto n = ::read(fd, &v, sizeof v);
}

HypervisorEvent::Kind kind_for(std::optional<int> reason, bool destroy_requested) {
    if (!reason)
        return HypervisorEvent::Kind::Destroyed; // died without shutting down: destroyed
    if (*reason == LIBXL_SHUTDOWN_REASON_CRASH || *reason == LIBXL_SHUTDOWN_REASON_WATCHDOG)
        return HypervisorEvent::Kind::Crashed;
    (void)destroy_requested;
    return HypervisorEvent::Kind::Exited;
}

} // namespace

bool running_on_xen() {
    return ::access("/dev/xen/privcmd", F_OK) == 0 || ::access("/proc/xen/privcmd", F_OK) == 0;
}

Result<std::string> read_private_file(std::string const& private_dir, std::string const& path) {
    auto image = private_image_path(private_dir);
    if (!sys::exists(image))
        return unexpected(Errc::NotFound, "no private volume " + image);
    return read_from_ext4_image(image, path);
}

struct XenHypervisor::Impl {
    XenOptions opts;
    xentoollog_logger_stdiostream* logger = nullptr;
    libxl_ctx* ctx = nullptr;
    xs_handle* xs = nullptr;
    libxl_childproc_hooks child_hooks{};
    libxl_event_hooks event_hooks{};
    UniqueFd events; // readable while `pending` is not empty
    UniqueFd wake;   // wakes the poller: new libxl events, or stop
    std::thread poller;
    std::atomic<bool> stopping{false};

    struct Dom {
        std::string name;
        libxl_evgen_domain_death* evgen = nullptr;
        std::vector<UniqueFd> loops; // held until the domain is gone
        bool destroy_requested = false;
        std::optional<int> shutdown_reason;
        std::optional<int> exit_status; // reported by the guest for a poweroff
    };
    // Never held across a libxl call: libxl may call on_event from inside any of its calls,
    // on the calling thread.
    std::mutex mutex; // doms, pending, xs
    std::map<DomId, Dom> doms;
    std::vector<HypervisorEvent> pending;
    std::mutex incoming_mutex; // only on_event and the poller
    std::vector<libxl_event*> incoming;
    std::mutex images; // one image build at a time
    std::unique_ptr<XenNetwork> net;

    ~Impl() {
        stopping = true;
        if (wake)
            signal_fd(wake.get());
        if (poller.joinable())
            poller.join();
        net.reset(); // (the poller uses it; it uses ctx, freed below)
        for (auto& [id, d] : doms)
            if (d.evgen)
                libxl_evdisable_domain_death(ctx, d.evgen);
        for (auto* ev : incoming)
            libxl_event_free(ctx, ev);
        if (xs)
            xs_close(xs);
        if (ctx)
            libxl_ctx_free(ctx);
        if (logger)
            xtl_logger_destroy(reinterpret_cast<xentoollog_logger*>(logger));
    }

    static void on_event(void* user, libxl_event* ev) {
        auto* self = static_cast<Impl*>(user);
        {
            std::lock_guard lock(self->incoming_mutex);
            self->incoming.push_back(ev);
        }
        signal_fd(self->wake.get());
    }

    static void on_disaster(void*, libxl_event_type type, char const* msg, int errnoval) {
        // libxl may have lost events: nothing dom0 can trust any more about domain deaths.
        LOG_ERROR(log, "libxl event disaster", {"type", std::to_string(int(type))},
                  {"message", msg ? msg : ""}, {"errno", std::to_string(errnoval)});
        std::abort();
    }

    void handle(libxl_event* ev) {
        DomId const id = ev->domid;
        if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) {
            int reason = ev->u.domain_shutdown.shutdown_reason;
            // A poweroff carries the status the guest's init reported (guest-written).
            std::optional<int> status;
            if (reason == LIBXL_SHUTDOWN_REASON_POWEROFF)
                status = read_exit_status(id);
            {
                std::lock_guard lock(mutex);
                if (auto it = doms.find(id); it != doms.end()) {
                    it->second.shutdown_reason = reason;
                    it->second.exit_status = status;
                }
            }
            LOG_INFO(log, "domain shut down", {"id", std::to_string(id)},
                     {"reason", std::to_string(reason)});
            // Every end is final: a shut-down domain is destroyed at once.
            int rc = libxl_domain_destroy(ctx, id, nullptr);
            if (rc != 0 && rc != ERROR_DOMAIN_NOTFOUND)
                LOG_WARN(log, "destroying a shut-down domain failed",
                         {"error", xen_error("libxl_domain_destroy", rc, id).message()});
        } else if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_DEATH) {
            // Its network clients lose their link before anyone hears of the death.
            std::vector<DomId> others;
            {
                std::lock_guard lock(mutex);
                for (auto const& [other, d] : doms)
                    others.push_back(other);
            }
            if (net)
                net->backend_died(id, others);
            libxl_evgen_domain_death* evgen = nullptr;
            std::vector<UniqueFd> loops; // closed once the lock is released
            {
                std::lock_guard lock(mutex);
                auto it = doms.find(id);
                if (it != doms.end()) {
                    auto& d = it->second;
                    HypervisorEvent out;
                    out.id = id;
                    out.kind = kind_for(d.shutdown_reason, d.destroy_requested);
                    out.exit_code = d.exit_status.value_or(d.shutdown_reason.value_or(0));
                    evgen = d.evgen;
                    loops = std::move(d.loops);
                    doms.erase(it);
                    pending.push_back(out);
                    signal_fd(events.get());
                }
            }
            if (evgen)
                libxl_evdisable_domain_death(ctx, evgen);
            LOG_INFO(log, "domain gone", {"id", std::to_string(id)});
        }
        libxl_event_free(ctx, ev);
    }

    void poll_loop() {
        std::vector<pollfd> fds(16);
        while (!stopping) {
            std::vector<libxl_event*> batch;
            {
                std::lock_guard lock(incoming_mutex);
                batch.swap(incoming);
            }
            for (auto* ev : batch)
                handle(ev);
            int nfds = int(fds.size()) - 1;
            int timeout = -1;
            timeval now{};
            ::gettimeofday(&now, nullptr);
            int rc = libxl_osevent_beforepoll(ctx, &nfds, fds.data() + 1, &timeout, now);
            if (rc == ERROR_BUFFERFULL) {
                fds.resize(size_t(nfds) + 1);
                continue;
            }
            if (rc != 0) {
                LOG_ERROR(log, "libxl_osevent_beforepoll failed", {"rc", std::to_string(rc)});
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            fds[0] = pollfd{wake.get(), POLLIN, 0};
            int n = ::poll(fds.data(), nfds_t(nfds) + 1, timeout);
            if (n < 0 && errno != EINTR)
                LOG_ERROR(log, "poll failed", {"errno", std::to_string(errno)});
            if (n > 0 && (fds[0].revents & POLLIN))
                drain_fd(wake.get());
            ::gettimeofday(&now, nullptr);
            libxl_osevent_afterpoll(ctx, nfds, fds.data() + 1, now);
        }
    }

    std::optional<int> read_exit_status(DomId id) {
        auto path = "/local/domain/" + std::to_string(id) + "/" + kExitStatusKey;
        std::lock_guard lock(mutex);
        unsigned len = 0;
        void* v = xs_read(xs, XBT_NULL, path.c_str(), &len);
        if (!v)
            return std::nullopt;
        Untrusted<std::string> value(std::string(static_cast<char*>(v), std::min(len, 16u)));
        std::free(v);
        return GuestExitValidator::parse(value);
    }

    Result<void> write_xenstore(DomId id,
                                std::vector<std::pair<std::string, std::string>> const& kv) {
        std::string const base = "/local/domain/" + std::to_string(id) + "/";
        std::lock_guard lock(mutex);
        for (int attempt = 0; attempt < 8; ++attempt) {
            xs_transaction_t t = xs_transaction_start(xs);
            if (t == XBT_NULL)
                return Error::from_errno("xs_transaction_start", errno);
            for (auto const& [key, value] : kv) {
                auto path = base + key;
                if (!xs_write(xs, t, path.c_str(), value.data(), unsigned(value.size()))) {
                    int err = errno;
                    xs_transaction_end(xs, t, true);
                    return Error::from_errno("xs_write " + path, err);
                }
            }
            if (xs_transaction_end(xs, t, false))
                return {};
            if (errno != EAGAIN)
                return Error::from_errno("xs_transaction_end", errno);
        }
        return unexpected(Errc::Busy, "xenstore transaction kept conflicting");
    }
};

XenHypervisor::XenHypervisor(std::unique_ptr<Impl> impl)
    : m(std::move(impl)) {}

XenHypervisor::~XenHypervisor() = default;

Result<std::unique_ptr<XenHypervisor>> XenHypervisor::open(XenOptions options) {
    if (!running_on_xen())
        return unexpected(Errc::Unsupported, "xen backend: not dom0 on Xen (no /dev/xen/privcmd)");
    // Xen's hotplug scripts (run by libxl for every disk) lock with `stat -L /dev/stdin`;
    // without it they spin until libxl gives up on the disk, 40 s later.
    for (auto const* dev : {"/dev/stdin", "/dev/fd"})
        if (!sys::exists(dev))
            return unexpected(Errc::Unsupported,
                              std::string("xen backend: dom0 has no ") + dev +
                                  " (Xen's hotplug scripts need /dev/fd and /dev/std* links)");
    auto impl = std::make_unique<Impl>();
    impl->opts = std::move(options);
    impl->logger = xtl_createlogger_stdiostream(stderr, XTL_ERROR, XTL_STDIOSTREAM_HIDE_PROGRESS);
    if (!impl->logger)
        return unexpected(Errc::System, "xtl_createlogger_stdiostream failed");
    TRY(xen_call(libxl_ctx_alloc(&impl->ctx, LIBXL_VERSION, 0,
                                 reinterpret_cast<xentoollog_logger*>(impl->logger)),
                 "libxl_ctx_alloc"));
    // bulkheadd reaps its own children with waitpid(pid); libxl reaps only its own
    // (hotplug scripts) from its SIGCHLD handler.
    impl->child_hooks.chldowner = libxl_sigchld_owner_libxl_always_selective_reap;
    libxl_childproc_setmode(impl->ctx, &impl->child_hooks, nullptr);
    impl->xs = xs_open(0);
    if (!impl->xs)
        return Error::from_errno("xs_open", errno);
    int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int wfd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0 || wfd < 0)
        return Error::from_errno("eventfd", errno);
    impl->events = UniqueFd(efd);
    impl->wake = UniqueFd(wfd);
    impl->event_hooks.event_occurs_mask =
        (1ull << LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) | (1ull << LIBXL_EVENT_TYPE_DOMAIN_DEATH);
    impl->event_hooks.event_occurs = &Impl::on_event;
    impl->event_hooks.disaster = &Impl::on_disaster;
    libxl_event_register_callbacks(impl->ctx, &impl->event_hooks, impl.get());
    libxl_physinfo phys;
    libxl_physinfo_init(&phys);
    if (libxl_get_physinfo(impl->ctx, &phys) == 0)
        impl->opts.pvh_available = phys.cap_hvm && phys.cap_hap;
    libxl_physinfo_dispose(&phys);
    impl->net = TRY(XenNetwork::open(impl->ctx, impl->opts));
    impl->poller = std::thread([p = impl.get()] { p->poll_loop(); });
    return std::unique_ptr<XenHypervisor>(new XenHypervisor(std::move(impl)));
}

XenOptions const& XenHypervisor::options() const {
    return m->opts;
}

Result<DomId> XenHypervisor::create(DomainSpec const& spec) {
    auto plan = TRY(plan_domain(spec, m->opts));
    auto const t0 = std::chrono::steady_clock::now();
    auto ms = [&t0] {
        return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - t0)
                                  .count());
    };
    for (auto const* f : {&plan.kernel, &plan.ramdisk})
        if (!sys::exists(*f))
            return unexpected(Errc::NotFound, "guest kernel file " + *f + " is missing");
    {
        std::lock_guard lock(m->images);
        for (auto const& d : plan.disks) {
            if (d.kind == XenDisk::Kind::Layer)
                TRY(ensure_layer_image(d.source, d.image));
            else
                TRY(ensure_private_image(d.source, d.image, m->opts.private_size_mib));
        }
    }
    std::vector<UniqueFd> loops;
    std::vector<std::string> targets;
    for (auto const& d : plan.disks) {
        auto loop = TRY_CTX(attach_loop(d.image, d.writable), "disk " + d.vdev);
        targets.push_back(loop.path);
        loops.push_back(std::move(loop.fd));
    }
    auto config = TRY(make_libxl_config(plan, targets));
    LOG_INFO(log, "creating domain", {"name", spec.name}, {"disks", std::to_string(targets.size())},
             {"prepared_ms", ms()});

    uint32_t domid = INVALID_DOMID;
    int rc = libxl_domain_create_new(m->ctx, &config->cfg, &domid, nullptr, nullptr);
    if (rc != 0) {
        if (domid != uint32_t(INVALID_DOMID))
            (void)libxl_domain_destroy(m->ctx, domid, nullptr);
        return xen_error("libxl_domain_create_new", rc).prefix("creating " + spec.name);
    }
    DomId const id = domid;
    auto fail = [&](Error e) -> Result<DomId> {
        {
            std::lock_guard lock(m->mutex);
            if (auto it = m->doms.find(id); it != m->doms.end())
                it->second.destroy_requested = true;
        }
        (void)libxl_domain_destroy(m->ctx, id, nullptr);
        return std::move(e.prefix("creating " + spec.name));
    };

    // The guest's PID 1 reads these; the domain is still paused.
    auto kv = plan.xenstore;
    size_t env_count = 0;
    for (auto const& [k, v] : kv)
        if (k.starts_with("bulkhead/env/"))
            ++env_count;
    kv.emplace_back("bulkhead/env/" + std::to_string(env_count),
                    "VCHAN_DOMAIN=" + std::to_string(id));
    if (auto w = m->write_xenstore(id, kv); !w)
        return fail(std::move(w).error());

    {
        std::lock_guard lock(m->mutex);
        auto& d = m->doms[id];
        d.name = spec.name;
        d.loops = std::move(loops);
    }
    libxl_evgen_domain_death* evgen = nullptr;
    rc = libxl_evenable_domain_death(m->ctx, id, 0, &evgen);
    if (rc != 0) {
        { // no death event will come for it: forget it here
            std::lock_guard lock(m->mutex);
            m->doms.erase(id);
        }
        return fail(xen_error("libxl_evenable_domain_death", rc, id));
    }
    bool already_gone = false;
    {
        std::lock_guard lock(m->mutex);
        if (auto it = m->doms.find(id); it != m->doms.end())
            it->second.evgen = evgen;
        else
            already_gone = true; // the poller saw its death first
    }
    if (already_gone) {
        libxl_evdisable_domain_death(m->ctx, evgen);
        return unexpected(Errc::Closed, "domain " + spec.name + " died while starting");
    }
    if (auto u = xen_call(libxl_domain_unpause(m->ctx, id, nullptr), "libxl_domain_unpause", id);
        !u)
        return fail(std::move(u).error());
    LOG_INFO(log, "domain created", {"name", spec.name}, {"id", std::to_string(id)},
             {"type", plan.type == VirtMode::Pvh ? "pvh" : "pv"}, {"ms", ms()});
    return id;
}

Result<void> XenHypervisor::shutdown(DomId id) {
    return xen_call(libxl_domain_shutdown(m->ctx, id, nullptr), "libxl_domain_shutdown", id);
}

Result<void> XenHypervisor::destroy(DomId id) {
    {
        std::lock_guard lock(m->mutex);
        if (auto it = m->doms.find(id); it != m->doms.end())
            it->second.destroy_requested = true;
    }
    return xen_call(libxl_domain_destroy(m->ctx, id, nullptr), "libxl_domain_destroy", id);
}

Result<void> XenHypervisor::pause(DomId id) {
    return xen_call(libxl_domain_pause(m->ctx, id, nullptr), "libxl_domain_pause", id);
}

Result<void> XenHypervisor::unpause(DomId id) {
    return xen_call(libxl_domain_unpause(m->ctx, id, nullptr), "libxl_domain_unpause", id);
}

namespace {

DomainInfo to_info(libxl_ctx* ctx, libxl_dominfo const& d) {
    DomainInfo out;
    out.id = d.domid;
    if (char* name = libxl_domid_to_name(ctx, d.domid)) {
        out.name = name;
        std::free(name);
    }
    out.state = (d.shutdown || d.dying) ? PowerState::Stopping
                : d.paused              ? PowerState::Paused
                                        : PowerState::Running;
    out.memory_kib = d.current_memkb;
    return out;
}

} // namespace

Result<DomainInfo> XenHypervisor::info(DomId id) {
    if (id == 0)
        return unexpected(Errc::Invalid, "domain 0 is dom0");
    libxl_dominfo d;
    libxl_dominfo_init(&d);
    int rc = libxl_domain_info(m->ctx, &d, id);
    if (rc != 0) {
        libxl_dominfo_dispose(&d);
        return xen_error("libxl_domain_info", rc, id);
    }
    auto out = to_info(m->ctx, d);
    libxl_dominfo_dispose(&d);
    return out;
}

Result<std::vector<DomainInfo>> XenHypervisor::list() {
    int n = 0;
    libxl_dominfo* all = libxl_list_domain(m->ctx, &n);
    if (!all)
        return unexpected(Errc::System, "libxl_list_domain failed");
    std::vector<DomainInfo> out;
    for (int i = 0; i < n; ++i)
        if (all[i].domid != 0)
            out.push_back(to_info(m->ctx, all[i]));
    libxl_dominfo_list_free(all, n);
    return out;
}

Result<std::vector<std::string>> XenHypervisor::destroy_leftovers() {
    std::vector<std::string> gone;
    for (auto const& d : TRY(list())) {
        {
            std::lock_guard lock(m->mutex);
            if (m->doms.count(d.id))
                continue;
            auto path = "/local/domain/" + std::to_string(d.id) + "/bulkhead/hostname";
            unsigned len = 0;
            void* v = xs_read(m->xs, XBT_NULL, path.c_str(), &len);
            if (!v)
                continue; // not ours (another toolstack's domain)
            std::free(v);
        }
        int rc = libxl_domain_destroy(m->ctx, d.id, nullptr);
        if (rc != 0 && rc != ERROR_DOMAIN_NOTFOUND)
            return xen_error("libxl_domain_destroy", rc, d.id).prefix("leftover " + d.name);
        gone.push_back(d.name);
    }
    return gone;
}

Result<void> XenHypervisor::set_memory_target(DomId id, uint64_t mib) {
    return xen_call(libxl_set_memory_target(m->ctx, id, int64_t(mib * 1024), 0, 1),
                    "libxl_set_memory_target", id);
}

Result<uint64_t> XenHypervisor::memory_target_mib(DomId id) {
    uint64_t kib = 0;
    TRY(xen_call(libxl_get_memory_target(m->ctx, id, &kib), "libxl_get_memory_target", id));
    return kib / 1024;
}

Result<NetworkLinkInfo> XenHypervisor::attach_network(DomId id, NetworkLink const& link) {
    return m->net->attach(id, link);
}

Result<void> XenHypervisor::detach_network(DomId id) {
    return m->net->detach(id);
}

Result<void> XenHypervisor::apply_network_rules(DomId netvm, std::string const& ruleset) {
    return m->net->apply_rules(netvm, ruleset);
}

int XenHypervisor::event_fd() const {
    return m->events.get();
}

Result<std::vector<HypervisorEvent>> XenHypervisor::take_events() {
    std::lock_guard lock(m->mutex);
    drain_fd(m->events.get());
    std::vector<HypervisorEvent> out;
    out.swap(m->pending);
    return out;
}

} // namespace bulkhead::dom0::xen
