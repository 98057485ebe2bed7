// Fuzz target gui_desktop: two guests' byte streams through GuiValidator into one Desktop,
// interleaved with dom0's input (focus, keys including the clipboard combinations, pointer)
// and repaints. After every step the model's rules must hold: each shown window is mapped,
// titled "[domain]…" without a second bracket prefix, override-redirect only when it covers at
// most 90% of the screen, per-domain window counts under the cap, focus on a shown window,
// keys only to the focused domain, clipboard within its cap.
#include <bulkhead/gui/model/desktop.h>
#include <bulkhead/gui/model/title.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <span>

using namespace bulkhead;
using namespace bulkhead::gui::model;
namespace rg = bulkhead::rpc::gui;

namespace {

void check(bool ok, char const* what) {
    if (!ok) {
        std::fprintf(stderr, "gui desktop fuzz invariant failed: %s\n", what);
        std::abort();
    }
}

char const* const domains[] = {"work", "untrusted"};

Config config() {
    Config c;
    c.screen_width = 800;
    c.screen_height = 600;
    c.max_windows_per_domain = 8;
    c.damage_per_second = 50;
    c.damage_burst = 20;
    c.clipboard_max_bytes = 32;
    return c;
}

void check_model(Desktop const& d) {
    auto const& c = d.config();
    for (auto h : d.stack()) {
        auto const* w = d.window(h);
        check(w && w->mapped, "stacked window missing or unmapped");
        std::string prefix = "[" + w->domain + "]";
        check(w->title.starts_with(prefix), "title without its domain prefix");
        auto rest = std::string_view(w->title).substr(prefix.size());
        check(rest.empty() || (rest[0] == ' ' && strip_title_spoofing(rest) == rest.substr(1)),
              "guest part of the title can fake a prefix");
        if (w->override_redirect) {
            int64_t x0 = std::max<int64_t>(w->rect.x, 0), y0 = std::max<int64_t>(w->rect.y, 0);
            int64_t x1 = std::min<int64_t>(int64_t(w->rect.x) + w->rect.width, c.screen_width);
            int64_t y1 = std::min<int64_t>(int64_t(w->rect.y) + w->rect.height, c.screen_height);
            int64_t covered = (x1 > x0 && y1 > y0) ? (x1 - x0) * (y1 - y0) : 0;
            check(covered * 100 <=
                      int64_t(c.screen_width) * c.screen_height * c.max_override_redirect_percent,
                  "override-redirect window covers too much");
        }
    }
    for (auto const* name : domains)
        check(d.window_count(name) <= c.max_windows_per_domain, "window cap exceeded");
    if (auto f = d.focused()) {
        auto const* w = d.window(*f);
        check(w && w->mapped, "focus on a window that is not shown");
    }
    check(d.clipboard().size() <= c.clipboard_max_bytes, "clipboard over its cap");
}

void check_actions(Desktop const& d, Desktop::Actions const& actions, bool keys) {
    for (auto const& a : actions) {
        auto const* s = std::get_if<SendToGuest>(&a);
        if (!s)
            continue;
        check(s->domain == domains[0] || s->domain == domains[1], "message to an unknown domain");
        if (keys && std::holds_alternative<rg::Key>(s->message))
            check(d.focused_domain() == s->domain, "key sent to a domain without focus");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    auto t = Clock::time_point{};
    Desktop desk(
        config(),
        [](policy::Request const& r) -> policy::Decision {
            if (r.target == "work")
                return policy::Deny{};
            return policy::Ask{};
        },
        t);
    for (auto const* name : domains)
        check(desk.add_domain(name, {"red", 0xcc0000}).has_value(), "add_domain");
    std::span<std::byte const> in(reinterpret_cast<std::byte const*>(data), size);
    auto take = [&](size_t n) {
        auto s = in.first(std::min(n, in.size()));
        in = in.subspan(s.size());
        return s;
    };
    auto byte = [&](size_t i, std::span<std::byte const> s) {
        return i < s.size() ? uint8_t(s[i]) : uint8_t(0);
    };
    while (!in.empty()) {
        uint8_t op = uint8_t(take(1)[0]);
        switch (op % 8) {
        case 0:
        case 1:
        case 2:
        case 3: { // a frame from a guest
            std::string domain = domains[op % 2];
            auto hdr = take(rg::header_size);
            if (hdr.size() < rg::header_size)
                return 0;
            auto h = rg::GuiValidator::header(rg::UntrustedBytes(hdr), rg::Direction::FromGuest,
                                              rg::Session::Established);
            if (!h)
                break;
            auto payload = take(h->len);
            if (payload.size() < h->len)
                return 0;
            auto m = rg::GuiValidator::payload(*h, rg::UntrustedBytes(payload));
            if (!m)
                break;
            auto r = desk.apply(domain, *m, t);
            if (r)
                check_actions(desk, *r, false);
            break;
        }
        case 4: { // dom0 focuses the window under a point (or nothing)
            auto p = take(2);
            auto at = desk.window_at({int32_t(byte(0, p)) * 4, int32_t(byte(1, p)) * 3});
            check_actions(desk, desk.focus(at), false);
            break;
        }
        case 5: { // a key: the clipboard combinations are likely
            auto k = take(3);
            uint32_t syms[] = {keysym_c, keysym_V, keysym_v, 'a'};
            KeyInput key{byte(0, k) & 1 ? rg::KeyAction::Release : rg::KeyAction::Press,
                         uint32_t(8 + byte(1, k) % 8), syms[byte(2, k) % 4],
                         uint32_t(byte(0, k) >> 1) & 0x7f};
            check_actions(desk, desk.key(key), true);
            break;
        }
        case 6: { // pointer
            auto p = take(3);
            Point at{int32_t(byte(0, p)) * 4 - 100, int32_t(byte(1, p)) * 3 - 100};
            uint8_t b = byte(2, p);
            auto acts = b < 64
                            ? desk.pointer_motion(at, 0)
                            : desk.pointer_button(
                                  at, b & 1 ? rg::ButtonAction::Release : rg::ButtonAction::Press,
                                  1 + (b >> 1) % 5, 0);
            check_actions(desk, acts, false);
            break;
        }
        case 7: { // time passes, the compositor repaints
            t += std::chrono::milliseconds(op);
            for (auto const& r : desk.take_repaints(t)) {
                auto const* w = desk.window(r.window);
                check(w && w->mapped, "repaint of a window not shown");
                check(r.rect.x >= 0 && r.rect.y >= 0 &&
                          uint64_t(r.rect.x) + r.rect.width <= w->rect.width &&
                          uint64_t(r.rect.y) + r.rect.height <= w->rect.height,
                      "repaint outside its window");
            }
            break;
        }
        }
        check_model(desk);
    }
    return 0;
}
