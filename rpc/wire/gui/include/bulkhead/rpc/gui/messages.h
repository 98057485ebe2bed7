// Typed GUI messages: what GuiValidator produces from peer bytes and what encode() writes.
// A value that came out of the validator is within Limits: sizes capped, coordinates clamped,
// strings valid UTF-8 without control characters. The sending domain is the channel's, not here.
#pragma once

#include <bulkhead/rpc/gui/protocol.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace bulkhead::rpc::gui {

// The guest's own window id (an X XID in an X guest), 0 = none; bounded by Limits.
using WindowId = uint32_t;

struct Rect {
    int32_t x = 0;
    int32_t y = 0;
    uint32_t width = 0;
    uint32_t height = 0;
    bool operator==(Rect const&) const = default;
};

enum class OverrideRedirect : uint8_t { No, Yes };

struct Hello {
    uint16_t major = protocol_major;
    uint16_t minor = protocol_minor;
    bool operator==(Hello const&) const = default;
};
struct Create {
    Rect rect;
    WindowId parent = 0;
    OverrideRedirect override_redirect = OverrideRedirect::No;
    bool operator==(Create const&) const = default;
};
struct Destroy {
    bool operator==(Destroy const&) const = default;
};
struct Map {
    WindowId transient_for = 0;
    OverrideRedirect override_redirect = OverrideRedirect::No;
    bool operator==(Map const&) const = default;
};
struct Unmap {
    bool operator==(Unmap const&) const = default;
};
struct Configure {
    Rect rect;
    OverrideRedirect override_redirect = OverrideRedirect::No;
    bool operator==(Configure const&) const = default;
};
struct SetTitle {
    std::string title; // sanitized UTF-8, at most Limits::max_title_bytes
    bool operator==(SetTitle const&) const = default;
};
struct SetClass {
    std::string res_class;
    std::string res_name;
    bool operator==(SetClass const&) const = default;
};
struct Size {
    uint32_t width = 0;
    uint32_t height = 0;
    bool operator==(Size const&) const = default;
};
struct SetHints {
    uint32_t flags = 0; // hint_* bits saying which sizes are set
    Size min, max, inc, base;
    bool operator==(SetHints const&) const = default;
};
struct Damage {
    Rect rect; // window coordinates
    bool operator==(Damage const&) const = default;
};
struct SetCursor {
    uint32_t shape = 0;
    bool operator==(SetCursor const&) const = default;
};
enum class ShmKind : uint32_t { Memfd = 1, Grant = 2 };
// A window's pixel buffer: in the sandbox a memfd passed beside the message (handle 0); on Xen
// grant references to dom0, one per page, sent just before in GrantRefs (handle = their
// count, size / page_size). Never a pointer.
struct ShmRegion {
    ShmKind kind = ShmKind::Memfd;
    uint32_t handle = 0;
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t stride = 0;
    uint32_t format = format_xrgb8888;
    uint64_t size = 0;
    bool operator==(ShmRegion const&) const = default;
};

// Grant references of the window's next Grant region, in page order (Xen).
struct GrantRefs {
    std::vector<uint32_t> refs; // 1..max_grant_refs_per_message
    bool operator==(GrantRefs const&) const = default;
};

enum class KeyAction : uint32_t { Press = 1, Release = 2 };
struct Key {
    KeyAction action = KeyAction::Press;
    uint32_t keycode = 0; // X keycode, 8..255
    uint32_t state = 0;   // X modifier mask
    bool operator==(Key const&) const = default;
};
enum class ButtonAction : uint32_t { Press = 1, Release = 2 };
struct Button {
    ButtonAction action = ButtonAction::Press;
    uint32_t button = 1; // 1..max_button
    int32_t x = 0;       // window coordinates
    int32_t y = 0;
    uint32_t state = 0;
    bool operator==(Button const&) const = default;
};
struct Motion {
    int32_t x = 0; // window coordinates
    int32_t y = 0;
    uint32_t state = 0;
    bool operator==(Motion const&) const = default;
};
enum class CrossingKind : uint32_t { Enter = 1, Leave = 2 };
struct Crossing {
    CrossingKind kind = CrossingKind::Enter;
    int32_t x = 0;
    int32_t y = 0;
    uint32_t state = 0;
    bool operator==(Crossing const&) const = default;
};
enum class FocusKind : uint32_t { In = 1, Out = 2 };
struct Focus {
    FocusKind kind = FocusKind::In;
    bool operator==(Focus const&) const = default;
};
struct CloseRequest {
    bool operator==(CloseRequest const&) const = default;
};
struct ClipboardRequest {
    bool operator==(ClipboardRequest const&) const = default;
};
struct ClipboardData {
    std::vector<std::byte> bytes;
    bool operator==(ClipboardData const&) const = default;
};

using Message = std::variant<Hello, Create, Destroy, Map, Unmap, SetTitle, SetClass, SetHints,
                             Damage, SetCursor, ShmRegion, Key, Button, Motion, Crossing, Focus,
                             CloseRequest, ClipboardRequest, Configure, ClipboardData, GrantRefs>;

MsgType message_type(Message const& m);
// Hello and the clipboard messages concern the whole domain (window 0); the rest one window.
bool is_window_message(MsgType type);

// A message that came through GuiValidator, with the window it names (0 for domain messages).
struct ValidatedMessage {
    WindowId window = 0;
    Message message;
};

} // namespace bulkhead::rpc::gui
