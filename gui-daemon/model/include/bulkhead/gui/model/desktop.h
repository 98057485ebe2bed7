// Desktop: every guest window on dom0's one screen, as pure logic. The gui-daemon feeds it each
// domain's validated messages (apply), the user's input (key, pointer_*) and window-manager
// decisions (focus, raise, resize, close); it answers with Actions and keeps the state the
// compositor draws. The rules no guest can break live here:
//  - every window has a label-coloured frame (WM-decorated, or daemon-drawn border when
//    override-redirect); an override-redirect window covering more than 90% of the screen
//    loses override-redirect and gets the window manager's frame;
//  - titles are "[domain] …" and the guest's part cannot fake that prefix;
//  - a guest never moves focus or grabs input: keys go only to the focused window (dom0 sets
//    focus), pointer events to the window under the pointer (or the one holding the button);
//  - at most max_windows_per_domain windows, one more cuts the domain off (windows dropped,
//    every later message refused); damage over the per-domain rate is merged and deferred;
//  - the clipboard crosses domains only through Ctrl+Shift+C / Ctrl+Shift+V and policy.
// Domain names come from the channel (dom0), never from a message.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/gui/model/clipboard.h>
#include <bulkhead/gui/model/damage_limiter.h>
#include <bulkhead/gui/model/types.h>
#include <bulkhead/gui/model/window.h>
#include <bulkhead/rpc/gui/validator.h>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bulkhead::gui::model {

// A key event from dom0's keyboard: the keycode the guest gets, and the keysym dom0's layout
// gives it (for the clipboard combinations). state = X modifier mask.
struct KeyInput {
    rpc::gui::KeyAction action = rpc::gui::KeyAction::Press;
    uint32_t keycode = 0;
    uint32_t keysym = 0;
    uint32_t state = 0;
};

// X modifier bits and keysyms the model needs.
inline constexpr uint32_t shift_mask = 1u << 0;
inline constexpr uint32_t control_mask = 1u << 2;
inline constexpr uint32_t mod1_mask = 1u << 3; // Alt
inline constexpr uint32_t mod4_mask = 1u << 6; // Super
inline constexpr uint32_t keysym_c = 0x63, keysym_C = 0x43, keysym_v = 0x76, keysym_V = 0x56;

class Desktop {
public:
    using Actions = std::vector<Action>;

    Desktop(Config config, PolicyCheck clipboard_policy, Clock::time_point now = Clock::now());

    // Domains (dom0 registers each one with a GUI session).
    Result<void> add_domain(std::string const& name, Label label);
    void remove_domain(std::string const& name);
    bool has_domain(std::string const& name) const;
    bool is_cut_off(std::string const& name) const;
    Label const* label(std::string const& name) const;
    size_t window_count(std::string const& name) const;
    uint64_t deferred_damage(std::string const& name) const;

    // One validated message from `domain`'s channel. An error refuses that message (the
    // session goes on), except a Limit error with is_cut_off(domain): the session is over.
    Result<Actions> apply(std::string const& domain, rpc::gui::ValidatedMessage const& m,
                          Clock::time_point now = Clock::now());

    Window const* window(WindowHandle h) const;
    Window const* find(std::string const& domain, rpc::gui::WindowId id) const;
    std::vector<WindowHandle> const& stack() const { return m_stack; } // mapped, bottom to top
    std::optional<WindowHandle> focused() const { return m_focus; }
    std::optional<std::string> focused_domain() const;
    std::optional<WindowHandle> window_at(Point screen) const;
    Config const& config() const { return m_config; }

    // Window manager / user decisions.
    Actions focus(std::optional<WindowHandle> h);
    void raise(WindowHandle h);
    Actions request_close(WindowHandle h);
    Actions resize(WindowHandle h, Rect rect);

    // Input from dom0's devices (screen coordinates for the pointer).
    Actions key(KeyInput const& k);
    Actions pointer_motion(Point screen, uint32_t state);
    Actions pointer_button(Point screen, rpc::gui::ButtonAction action, uint32_t button,
                           uint32_t state);

    // What to repaint now: damage within budget, and deferred damage as tokens come back.
    std::vector<Repaint> take_repaints(Clock::time_point now = Clock::now());

    SecureClipboard& clipboard() { return m_clipboard; }
    SecureClipboard const& clipboard() const { return m_clipboard; }

private:
    struct Domain {
        Label label;
        DamageLimiter damage;
        std::unordered_map<rpc::gui::WindowId, WindowHandle> windows;
        bool cut_off = false;
        uint64_t deferred = 0;
    };
    struct PendingDamage {
        std::vector<Rect> now;
        std::optional<Rect> deferred;
    };

    Result<Actions> apply_window(Domain& d, std::string const& domain,
                                 rpc::gui::ValidatedMessage const& m, Clock::time_point now);
    Result<void> create(Domain& d, std::string const& domain, rpc::gui::WindowId id,
                        rpc::gui::Create const& c);
    Result<rpc::gui::WindowId> same_domain(Domain const& d, rpc::gui::WindowId id) const;
    void set_override_redirect(Window& w, bool requested);
    void damage(Domain& d, Window const& w, Rect r, Clock::time_point now);
    void destroy(Window const& w);
    void unstack(WindowHandle h);
    void cut_off(Domain& d);
    Window* window_mut(WindowHandle h);
    Actions send_pointer_crossing(std::optional<WindowHandle> to, Point screen, uint32_t state);
    Actions clipboard_key(Window const& w, uint32_t keysym);

    Config m_config;
    SecureClipboard m_clipboard;
    std::map<std::string, Domain, std::less<>> m_domains;
    std::unordered_map<WindowHandle, Window> m_windows;
    std::unordered_map<WindowHandle, PendingDamage> m_damage;
    std::vector<WindowHandle> m_stack;
    std::optional<WindowHandle> m_focus;
    std::optional<WindowHandle> m_pointer_window; // the window the pointer is in
    std::optional<WindowHandle> m_grab;           // holds pressed buttons
    uint32_t m_grab_buttons = 0;
    std::vector<uint32_t> m_swallowed_keys; // keycodes of combinations dom0 consumed
    WindowHandle m_next_handle = 1;
    Clock::time_point m_created;
};

} // namespace bulkhead::gui::model
