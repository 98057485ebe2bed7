// Desktop: domains, the window messages a guest sends, and damage. Input and the window
// manager's decisions are in desktop_input.cpp.
#include <bulkhead/base/text.h>
#include <bulkhead/gui/model/desktop.h>
#include <bulkhead/gui/model/title.h>

#include <algorithm>

namespace bulkhead::gui::model {

namespace rg = rpc::gui;

namespace {

constexpr size_t max_pending_rects = 16; // more are merged into their bounding box

Rect bounding(Rect a, Rect b) {
    int64_t x0 = std::min(a.x, b.x), y0 = std::min(a.y, b.y);
    int64_t x1 = std::max(int64_t(a.x) + a.width, int64_t(b.x) + b.width);
    int64_t y1 = std::max(int64_t(a.y) + a.height, int64_t(b.y) + b.height);
    return Rect{int32_t(x0), int32_t(y0), uint32_t(x1 - x0), uint32_t(y1 - y0)};
}

// The part of r inside [0,w) x [0,h); empty when it misses.
Rect clip(Rect r, uint32_t w, uint32_t h) {
    int64_t x0 = std::max<int64_t>(r.x, 0), y0 = std::max<int64_t>(r.y, 0);
    int64_t x1 = std::min<int64_t>(int64_t(r.x) + r.width, w);
    int64_t y1 = std::min<int64_t>(int64_t(r.y) + r.height, h);
    if (x1 <= x0 || y1 <= y0)
        return {};
    return Rect{int32_t(x0), int32_t(y0), uint32_t(x1 - x0), uint32_t(y1 - y0)};
}

} // namespace

Desktop::Desktop(Config config, PolicyCheck clipboard_policy, Clock::time_point now)
    : m_config(config)
    , m_clipboard(std::move(clipboard_policy), config.clipboard_max_bytes)
    , m_created(now) {}

Result<void> Desktop::add_domain(std::string const& name, Label label) {
    if (!text::is_domain_name(name))
        return unexpected(Errc::Invalid, "gui: not a domain name: " + text::escape(name));
    if (m_domains.contains(name))
        return unexpected(Errc::Exists, "gui: domain " + name + " already has a session");
    m_domains.emplace(
        name, Domain{std::move(label),
                     DamageLimiter(m_config.damage_per_second, m_config.damage_burst, m_created),
                     {},
                     false,
                     0});
    return {};
}

void Desktop::remove_domain(std::string const& name) {
    auto it = m_domains.find(name);
    if (it == m_domains.end())
        return;
    for (auto& [id, h] : it->second.windows)
        destroy(m_windows.at(h));
    m_clipboard.forget_pending(name);
    m_domains.erase(it);
}

bool Desktop::has_domain(std::string const& name) const {
    return m_domains.contains(name);
}

bool Desktop::is_cut_off(std::string const& name) const {
    auto it = m_domains.find(name);
    return it != m_domains.end() && it->second.cut_off;
}

Label const* Desktop::label(std::string const& name) const {
    auto it = m_domains.find(name);
    return it == m_domains.end() ? nullptr : &it->second.label;
}

size_t Desktop::window_count(std::string const& name) const {
    auto it = m_domains.find(name);
    return it == m_domains.end() ? 0 : it->second.windows.size();
}

uint64_t Desktop::deferred_damage(std::string const& name) const {
    auto it = m_domains.find(name);
    return it == m_domains.end() ? 0 : it->second.deferred;
}

Window const* Desktop::window(WindowHandle h) const {
    auto it = m_windows.find(h);
    return it == m_windows.end() ? nullptr : &it->second;
}

Window* Desktop::window_mut(WindowHandle h) {
    auto it = m_windows.find(h);
    return it == m_windows.end() ? nullptr : &it->second;
}

Window const* Desktop::find(std::string const& domain, rg::WindowId id) const {
    auto d = m_domains.find(domain);
    if (d == m_domains.end())
        return nullptr;
    auto w = d->second.windows.find(id);
    return w == d->second.windows.end() ? nullptr : window(w->second);
}

std::optional<std::string> Desktop::focused_domain() const {
    if (!m_focus)
        return std::nullopt;
    return m_windows.at(*m_focus).domain;
}

void Desktop::unstack(WindowHandle h) {
    std::erase(m_stack, h);
    if (m_focus == h)
        m_focus.reset();
    if (m_pointer_window == h)
        m_pointer_window.reset();
    if (m_grab == h) {
        m_grab.reset();
        m_grab_buttons = 0;
    }
}

void Desktop::destroy(Window const& w) {
    WindowHandle h = w.handle;
    unstack(h);
    m_damage.erase(h);
    m_windows.erase(h);
}

void Desktop::cut_off(Domain& d) {
    for (auto& [id, h] : d.windows)
        destroy(m_windows.at(h));
    d.windows.clear();
    d.cut_off = true;
}

void Desktop::set_override_redirect(Window& w, bool requested) {
    w.requested_override_redirect = requested;
    // Screen area covered by the window; more than the configured share: no override-redirect.
    Rect on_screen = clip(w.rect, m_config.screen_width, m_config.screen_height);
    uint64_t covered = uint64_t(on_screen.width) * on_screen.height;
    uint64_t screen = uint64_t(m_config.screen_width) * m_config.screen_height;
    w.override_redirect =
        requested && covered * 100 <= screen * m_config.max_override_redirect_percent;
}

Result<rg::WindowId> Desktop::same_domain(Domain const& d, rg::WindowId id) const {
    if (id != 0 && !d.windows.contains(id))
        return unexpected(Errc::Protocol, "gui: window " + std::to_string(id) + " is unknown");
    return id;
}

Result<void> Desktop::create(Domain& d, std::string const& domain, rg::WindowId id,
                             rg::Create const& c) {
    if (d.windows.contains(id))
        return unexpected(Errc::Protocol, "gui: window " + std::to_string(id) + " exists");
    if (d.windows.size() >= m_config.max_windows_per_domain) {
        cut_off(d);
        return unexpected(Errc::Limit, "gui: " + domain + " created more than " +
                                           std::to_string(m_config.max_windows_per_domain) +
                                           " windows; its GUI session is cut off");
    }
    Window w;
    w.handle = m_next_handle++;
    w.domain = domain;
    w.guest_id = id;
    w.parent = TRY(same_domain(d, c.parent));
    w.rect = c.rect;
    w.title = dom0_title(domain, "");
    set_override_redirect(w, c.override_redirect == rg::OverrideRedirect::Yes);
    d.windows.emplace(id, w.handle);
    m_windows.emplace(w.handle, std::move(w));
    return {};
}

void Desktop::damage(Domain& d, Window const& w, Rect r, Clock::time_point now) {
    r = clip(r, w.rect.width, w.rect.height);
    if (r.width == 0)
        return;
    auto& pending = m_damage[w.handle];
    if (d.damage.take(now)) {
        if (pending.now.size() < max_pending_rects)
            pending.now.push_back(r);
        else
            pending.now.back() = bounding(pending.now.back(), r);
        return;
    }
    ++d.deferred;
    pending.deferred = pending.deferred ? bounding(*pending.deferred, r) : r;
}

Result<Desktop::Actions> Desktop::apply(std::string const& domain, rg::ValidatedMessage const& m,
                                        Clock::time_point now) {
    auto it = m_domains.find(domain);
    if (it == m_domains.end())
        return unexpected(Errc::NotFound, "gui: no session for " + domain);
    Domain& d = it->second;
    if (d.cut_off)
        return unexpected(Errc::Denied, "gui: " + domain + " is cut off");
    if (std::holds_alternative<rg::Hello>(m.message))
        return Actions{}; // the session layer negotiated the version
    if (auto* data = std::get_if<rg::ClipboardData>(&m.message)) {
        auto n = m_clipboard.receive(domain, data->bytes);
        if (n)
            return Actions{*n};
        if (n.error().code() == Errc::Limit)
            return Actions{Notify{NotifyKind::ClipboardTooLarge, domain, {}, data->bytes.size()}};
        return std::move(n).error();
    }
    return apply_window(d, domain, m, now);
}

Result<Desktop::Actions> Desktop::apply_window(Domain& d, std::string const& domain,
                                               rg::ValidatedMessage const& m,
                                               Clock::time_point now) {
    if (auto* c = std::get_if<rg::Create>(&m.message)) {
        TRY(create(d, domain, m.window, *c));
        return Actions{};
    }
    auto wit = d.windows.find(m.window);
    if (wit == d.windows.end())
        return unexpected(Errc::Protocol,
                          "gui: window " + std::to_string(m.window) + " is unknown");
    Window& w = m_windows.at(wit->second);
    Actions none;
    std::visit(
        [&](auto const& msg) {
            using T = std::decay_t<decltype(msg)>;
            if constexpr (std::is_same_v<T, rg::Destroy>) {
                d.windows.erase(wit);
                destroy(w);
            } else if constexpr (std::is_same_v<T, rg::Map>) {
                set_override_redirect(w, msg.override_redirect == rg::OverrideRedirect::Yes);
                w.transient_for = d.windows.contains(msg.transient_for) ? msg.transient_for : 0;
                w.mapped = true;
                std::erase(m_stack, w.handle);
                m_stack.push_back(w.handle);
            } else if constexpr (std::is_same_v<T, rg::Unmap>) {
                w.mapped = false;
                unstack(w.handle);
            } else if constexpr (std::is_same_v<T, rg::Configure>) {
                w.rect = msg.rect;
                set_override_redirect(w, msg.override_redirect == rg::OverrideRedirect::Yes);
            } else if constexpr (std::is_same_v<T, rg::SetTitle>) {
                w.guest_title = msg.title;
                w.title = dom0_title(domain, msg.title);
            } else if constexpr (std::is_same_v<T, rg::SetClass>) {
                w.res_class = msg.res_class;
                w.res_name = msg.res_name;
            } else if constexpr (std::is_same_v<T, rg::SetHints>) {
                w.hints = msg;
            } else if constexpr (std::is_same_v<T, rg::SetCursor>) {
                w.cursor = msg.shape;
            } else if constexpr (std::is_same_v<T, rg::ShmRegion>) {
                w.buffer = msg;
            } else if constexpr (std::is_same_v<T, rg::Damage>) {
                damage(d, w, msg.rect, now);
            }
        },
        m.message);
    switch (rg::message_type(m.message)) {
    case rg::MsgType::Destroy:
    case rg::MsgType::Map:
    case rg::MsgType::Unmap:
    case rg::MsgType::Configure:
    case rg::MsgType::SetTitle:
    case rg::MsgType::SetClass:
    case rg::MsgType::SetHints:
    case rg::MsgType::SetCursor:
    case rg::MsgType::ShmRegion:
    case rg::MsgType::GrantRefs: // the session collects them for the next Grant region
    case rg::MsgType::Damage:
        return none;
    default:
        return unexpected(Errc::Protocol,
                          "gui: " + std::string(rg::msg_type_name(rg::message_type(m.message))) +
                              " is not a guest message");
    }
}

std::vector<Repaint> Desktop::take_repaints(Clock::time_point now) {
    std::vector<Repaint> out;
    for (auto it = m_damage.begin(); it != m_damage.end();) {
        Window const& w = m_windows.at(it->first);
        auto& p = it->second;
        if (w.mapped) {
            // Clipped again: the window may have shrunk since the damage arrived.
            for (auto const& r : p.now)
                if (auto c = clip(r, w.rect.width, w.rect.height); c.width)
                    out.push_back({w.handle, c});
            if (p.deferred && m_domains.at(w.domain).damage.take(now)) {
                if (auto c = clip(*p.deferred, w.rect.width, w.rect.height); c.width)
                    out.push_back({w.handle, c});
                p.deferred.reset();
            }
        } else {
            p.deferred.reset(); // a map repaints the whole window anyway
        }
        p.now.clear();
        it = p.deferred ? std::next(it) : m_damage.erase(it);
    }
    return out;
}

} // namespace bulkhead::gui::model
