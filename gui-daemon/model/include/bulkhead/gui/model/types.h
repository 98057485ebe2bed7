// Common types of the desktop model: dom0's window handles, labels, the model's configuration
// and what the model asks the daemon to do (Action). Used by gui-daemon's xcb/ and qt/ layers.
// Everything here is dom0 data; guest values reach the model only as validated messages.
#pragma once

#include <bulkhead/rpc/gui/messages.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

namespace bulkhead::gui::model {

using rpc::gui::Rect;

// dom0's own id for a guest window: unique on this desktop, never reused, never guest-chosen.
using WindowHandle = uint64_t;

struct Point {
    int32_t x = 0;
    int32_t y = 0;
    bool operator==(Point const&) const = default;
};

// A domain's trust label, as dom0's store has it (Qubes' names and colours).
struct Label {
    std::string name; // red, orange, yellow, green, gray, blue, purple, black
    uint32_t rgb = 0; // 0xRRGGBB
};

struct Config {
    uint32_t screen_width = 1920;
    uint32_t screen_height = 1080;
    size_t max_windows_per_domain = 1000;        // one more Create cuts the domain off
    uint32_t max_override_redirect_percent = 90; // of the screen; larger ones get a WM frame
    uint32_t damage_per_second = 2000;           // damage messages per domain, sustained
    uint32_t damage_burst = 4000;
    size_t clipboard_max_bytes = 64000;
    uint32_t frame_border = 2; // daemon-drawn border of override-redirect windows, pixels
};

// Who draws a window's label-coloured frame: the dom0 window manager (managed windows, which
// carry the domain's name and label as properties) or the daemon itself (override-redirect
// windows, which the window manager does not decorate). There is no "no frame".
enum class FrameKind { WindowManager, DaemonBorder };

// Actions for the daemon: send a message to a domain's gui-agent, or tell the user.
struct SendToGuest {
    std::string domain;
    rpc::gui::WindowId window = 0;
    rpc::gui::Message message;
};

enum class NotifyKind {
    ClipboardCopied,   // source, bytes
    ClipboardPasted,   // source, target, bytes
    ClipboardDenied,   // source, target: policy said no
    ClipboardTooLarge, // source, bytes
    DomainCutOff,      // source: the domain broke a rule and its GUI session was ended
};
struct Notify {
    NotifyKind kind;
    std::string source;
    std::string target;
    size_t bytes = 0;
};

using Action = std::variant<SendToGuest, Notify>;

} // namespace bulkhead::gui::model
