#include "clipboard_policy.h"
#include "gui_session.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/gui/daemon/gui_daemon.h>
#include <bulkhead/gui/model/notice.h>
#include <bulkhead/rpc/gui/encode.h>

namespace bulkhead::gui::daemon {

namespace rg = rpc::gui;

namespace {

Logger const log{"guid"};

} // namespace

GuiDaemon::GuiDaemon(GuiDaemonOptions options, std::unique_ptr<EventLoop> loop,
                     model::Desktop desktop, xcb::XcbCompositor compositor,
                     std::shared_ptr<ClipboardPolicy> clipboard_policy)
    : m_options(std::move(options))
    , m_loop(std::move(loop))
    , m_desktop(std::move(desktop))
    , m_compositor(std::move(compositor))
    , m_clipboard_policy(std::move(clipboard_policy)) {}

GuiDaemon::~GuiDaemon() = default;

Result<std::unique_ptr<GuiDaemon>> GuiDaemon::create(GuiDaemonOptions options) {
    auto compositor = TRY(xcb::XcbCompositor::connect(options.display));
    auto const& screen = compositor.connection().screen();
    options.config.screen_width = screen.width_in_pixels;
    options.config.screen_height = screen.height_in_pixels;
    // Ctrl+Shift+V asks the qrexec policy (qubes.ClipboardPaste, source -> target).
    auto clipboard_policy = std::make_shared<ClipboardPolicy>(options.policy_dirs);
    model::Desktop desktop(options.config, [clipboard_policy](policy::Request const& r) {
        return clipboard_policy->decide(r);
    });
    auto loop = TRY(EventLoop::create());
    std::unique_ptr<GuiDaemon> d(new GuiDaemon(std::move(options), std::move(loop),
                                               std::move(desktop), std::move(compositor),
                                               std::move(clipboard_policy)));
    for (auto const& dom : d->m_options.domains)
        TRY(d->listen(dom));
    auto* self = d.get();
    TRY(self->m_loop->watch(self->m_compositor.fd(), EventLoop::Readable,
                            [self](uint32_t) { self->on_x_events(); }));
    self->m_loop->add_timer(std::chrono::milliseconds(16), [self] { self->tick(); });
    return d;
}

Result<void> GuiDaemon::listen(GuiDomain const& dom) {
    if (m_listeners.contains(dom.name))
        return unexpected(Errc::Exists, "gui: " + dom.name + " has a GUI socket already");
    if (!m_desktop.has_domain(dom.name))
        TRY(m_desktop.add_domain(dom.name, dom.label));
    policy::DomainInfo info;
    info.name = dom.name;
    info.type = dom.type;
    info.tags = dom.tags;
    m_clipboard_policy->set_domain(std::move(info));
    auto fd = TRY_CTX(sys::unix_listen(dom.socket, 1, SOCK_CLOEXEC | SOCK_NONBLOCK),
                      "gui socket of " + dom.name);
    // The domain's gui-agent may run as an unprivileged (user-namespace) uid. Only this
    // domain sees the directory the socket is in.
    TRY(sys::chmod(dom.socket, 0666));
    int raw = fd.get();
    m_listeners[dom.name] = {std::move(fd), dom.socket};
    GuiDomain copy = dom;
    return m_loop->watch(raw, EventLoop::Readable,
                         [this, copy, raw](uint32_t) { accept(copy, raw); });
}

bool GuiDaemon::connected(std::string const& domain) const {
    return m_sessions.contains(domain);
}

void GuiDaemon::accept(GuiDomain const& dom, int listen_fd) {
    auto fd = sys::accept(listen_fd, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (!fd || !*fd)
        return;
    if (m_sessions.contains(dom.name)) {
        LOG_WARN(log, "second GUI connection refused", {"domain", dom.name});
        return; // one session per domain: the new connection is closed
    }
    if (!m_desktop.has_domain(dom.name))
        if (auto r = m_desktop.add_domain(dom.name, dom.label); !r)
            return;
    auto s = std::make_unique<GuiSession>(dom.name, std::move(*fd));
    s->xen_domid = dom.xen_domid;
    int raw = s->channel->readiness_fd();
    rg::encode_to(s->out, 0, rg::Hello{});
    m_sessions.emplace(dom.name, std::move(s));
    std::string name = dom.name;
    if (auto r = m_loop->watch(raw, EventLoop::Readable | EventLoop::Writable,
                               [this, name](uint32_t ev) {
                                   if (ev & EventLoop::Writable)
                                       flush_output(name);
                                   if (m_sessions.contains(name))
                                       on_readable(name);
                               });
        !r) {
        m_sessions.erase(name);
        return;
    }
    LOG_INFO(log, "GUI session", {"domain", name});
}

void GuiDaemon::notice(model::Notify const& n) {
    LOG_INFO(log, "notice", {"text", model::notice_text(n)});
    if (m_options.notice_file.empty())
        return;
    auto record = model::format_notice_record(n, ++m_notices);
    if (auto r = sys::write_file_atomic(m_options.notice_file, record, 0644); !r)
        LOG_WARN(log, "cannot write the notice file", {"error", r.error().message()});
}

void GuiDaemon::end_session(std::string const& domain, std::string const& why, BrokeRules broke) {
    auto it = m_sessions.find(domain);
    if (it == m_sessions.end())
        return;
    LOG_WARN(log, "GUI session ended", {"domain", domain}, {"reason", why});
    if (broke == BrokeRules::Yes)
        notice({model::NotifyKind::DomainCutOff, domain, {}, 0});
    m_loop->unwatch(it->second->channel->readiness_fd());
    m_sessions.erase(it);
    ++m_sessions_ended;
    // Its windows go with it; a new connection starts from nothing.
    m_desktop.remove_domain(domain);
    m_dirty = true;
    frame();
}

void GuiDaemon::on_readable(std::string const& domain) {
    auto& s = *m_sessions.at(domain);
    for (size_t budget = m_options.messages_per_wakeup;; --budget) {
        if (budget == 0) {
            // Serve the others first; what the reader holds already makes no fd readable,
            // so come back for it from the loop.
            if (!s.resume_pending) {
                s.resume_pending = true;
                m_loop->add_timer(std::chrono::milliseconds(0), [this, domain] {
                    auto it = m_sessions.find(domain);
                    if (it == m_sessions.end())
                        return;
                    it->second->resume_pending = false;
                    on_readable(domain);
                });
            }
            break;
        }
        auto m = s.reader.next(*s.channel);
        if (!m)
            return end_session(domain, m.error().message(),
                               m.error().code() == Errc::Closed ? BrokeRules::No : BrokeRules::Yes);
        if (!*m)
            break;
        auto const& msg = **m;
        // The memfd of a ShmRegion travelled with its first byte: take it in order, always.
        UniqueFd fd;
        auto const* shm = std::get_if<rg::ShmRegion>(&msg.message);
        if (shm && shm->kind == rg::ShmKind::Memfd) {
            fd = s.channel->take_fd();
            if (!fd)
                return end_session(domain, "SHM_REGION without its memfd", BrokeRules::Yes);
        }
        auto const* before = m_desktop.find(domain, msg.window);
        auto handle = before ? before->handle : 0;
        auto actions = m_desktop.apply(domain, msg);
        if (!actions) {
            if (m_desktop.is_cut_off(domain))
                return end_session(domain, actions.error().message(), BrokeRules::Yes);
            LOG_DEBUG(log, "message refused", {"domain", domain},
                      {"error", actions.error().message()});
            if (++s.refused > m_options.max_refused)
                return end_session(domain, "too many refused messages", BrokeRules::Yes);
            continue;
        }
        m_dirty = true;
        if (std::holds_alternative<rg::Destroy>(msg.message))
            s.buffers.erase(handle);
        if (auto const* g = std::get_if<rg::GrantRefs>(&msg.message)) {
            if (auto r = collect_grants(s, msg.window, g->refs); !r)
                return end_session(domain, r.error().message(), BrokeRules::Yes);
            continue;
        }
        if (shm) {
            auto buf = shm->kind == rg::ShmKind::Memfd ? xcb::PixelBuffer::map(std::move(fd), *shm)
                                                       : map_grants(s, msg.window, *shm);
            if (!buf)
                return end_session(domain, buf.error().message(), BrokeRules::Yes);
            auto h = m_desktop.find(domain, msg.window)->handle;
            s.buffers.erase(h);
            s.buffers.emplace(h, std::move(*buf));
        }
        perform(std::move(*actions));
        if (!m_sessions.contains(domain))
            return;
    }
    frame();
}

Result<void> GuiDaemon::collect_grants(GuiSession& s, rg::WindowId window,
                                       std::vector<uint32_t> const& refs) {
    if (!s.xen_domid)
        return unexpected(Errc::Protocol, "gui: GRANT_REFS from a domain that is not on Xen");
    if (!s.grant_refs.empty() && s.grant_window != window)
        return unexpected(Errc::Protocol, "gui: GRANT_REFS for two windows at once");
    // The largest buffer the limits allow, in pages.
    rg::Limits limits;
    uint64_t max_pages =
        (uint64_t(limits.max_width) * 4 * limits.max_height + rg::page_size - 1) / rg::page_size;
    if (s.grant_refs.size() + refs.size() > max_pages)
        return unexpected(Errc::Limit, "gui: more grant references than the largest buffer");
    s.grant_window = window;
    s.grant_refs.insert(s.grant_refs.end(), refs.begin(), refs.end());
    return {};
}

Result<xcb::PixelBuffer> GuiDaemon::map_grants(GuiSession& s, rg::WindowId window,
                                               rg::ShmRegion const& region) {
    if (!s.xen_domid)
        return unexpected(Errc::Protocol, "gui: a grant region from a domain that is not on Xen");
    auto refs = std::exchange(s.grant_refs, {});
    if (s.grant_window != window || refs.size() != region.handle)
        return unexpected(Errc::Protocol, "gui: grant region of " + std::to_string(region.handle) +
                                              " pages, but " + std::to_string(refs.size()) +
                                              " references came for it");
    auto buf = TRY(xcb::PixelBuffer::map_grants(*s.xen_domid, refs, region));
    LOG_INFO(log, "window buffer mapped from grant references", {"domain", s.domain},
             {"domid", *s.xen_domid}, {"pages", refs.size()},
             {"size", std::to_string(region.width) + "x" + std::to_string(region.height)});
    return buf;
}

void GuiDaemon::perform(model::Desktop::Actions actions) {
    for (auto& a : actions) {
        if (auto* n = std::get_if<model::Notify>(&a)) {
            if (n->kind == model::NotifyKind::DomainCutOff)
                end_session(n->source, "cut off by the desktop's rules", BrokeRules::Yes);
            else
                notice(*n);
            continue;
        }
        auto& send = std::get<model::SendToGuest>(a);
        auto it = m_sessions.find(send.domain);
        if (it == m_sessions.end())
            continue;
        auto& s = *it->second;
        rg::encode_to(s.out, send.window, send.message);
        if (s.out.size() - s.out_sent > m_options.max_output_bytes) {
            end_session(send.domain, "not reading dom0's messages", BrokeRules::Yes);
            continue;
        }
        flush_output(send.domain);
    }
}

void GuiDaemon::flush_output(std::string const& domain) {
    auto it = m_sessions.find(domain);
    if (it == m_sessions.end())
        return;
    auto& s = *it->second;
    while (s.out_sent < s.out.size()) {
        auto n = s.channel->write(std::span(s.out).subspan(s.out_sent));
        if (!n)
            return end_session(domain, n.error().message(),
                               n.error().code() == Errc::Closed ? BrokeRules::No : BrokeRules::Yes);
        if (*n == 0)
            break;
        s.out_sent += *n;
    }
    if (s.out_sent == s.out.size()) {
        s.out.clear();
        s.out_sent = 0;
    }
    auto want = s.out.empty() ? rpc::WantWrite::No : rpc::WantWrite::Yes;
    (void)m_loop->modify(s.channel->readiness_fd(), s.channel->watch_events(want));
}

void GuiDaemon::on_x_events() {
    auto d = m_compositor.dispatch_events(m_desktop);
    if (!d) {
        LOG_ERROR(log, "dom0's X server connection failed", {"error", d.error().message()});
        return stop();
    }
    perform(std::move(d->actions));
    std::vector<model::Repaint> whole;
    for (auto h : d->exposed)
        if (auto const* w = m_desktop.window(h))
            whole.push_back({h, {0, 0, w->rect.width, w->rect.height}});
    if (!d->actions.empty() || !d->exposed.empty())
        m_dirty = true;
    frame();
    paint(whole);
}

void GuiDaemon::frame() {
    if (m_dirty) {
        if (auto r = m_compositor.sync(m_desktop); !r)
            LOG_WARN(log, "compositor sync failed", {"error", r.error().message()});
        m_dirty = false;
    }
    paint(m_desktop.take_repaints());
}

void GuiDaemon::paint(std::vector<model::Repaint> const& repaints) {
    for (auto const& r : repaints) {
        auto const* w = m_desktop.window(r.window);
        if (!w)
            continue;
        auto s = m_sessions.find(w->domain);
        if (s == m_sessions.end())
            continue;
        auto b = s->second->buffers.find(r.window);
        if (b == s->second->buffers.end())
            continue;
        if (auto p = m_compositor.paint(m_desktop, r.window, b->second, r.rect); !p)
            LOG_DEBUG(log, "paint failed", {"domain", w->domain}, {"error", p.error().message()});
    }
}

void GuiDaemon::tick() {
    // Deferred damage comes back as the rate limiter refills; X events xcb queued while
    // waiting for a reply do not make its fd readable.
    on_x_events();
    m_loop->add_timer(std::chrono::milliseconds(16), [this] { tick(); });
}

} // namespace bulkhead::gui::daemon
