// GUI wire constants: message types, the 12-byte header and each payload's fixed size.
// Used by the validator, the encoder, dom0's gui-daemon and the guest's gui-agent.
// Every integer is little-endian; every message is {u32 type; u32 window; u32 len} + payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace bulkhead::rpc::gui {

// Versions are major.minor. Peers must share the major; the session uses the lower minor.
inline constexpr uint16_t protocol_major = 1;
inline constexpr uint16_t protocol_minor = 0;

enum class MsgType : uint32_t {
    // both directions, first message on the channel
    Hello = 0x001, // u16 major, u16 minor, u32 reserved (0)
    // guest → dom0
    Create = 0x101,    // i32 x, i32 y, u32 w, u32 h, u32 parent, u32 flags
    Destroy = 0x102,   // empty
    Map = 0x103,       // u32 transient_for, u32 flags
    Unmap = 0x104,     // empty
    SetTitle = 0x105,  // char title[256], UTF-8, NUL-padded
    SetClass = 0x106,  // char res_class[64], char res_name[64]
    SetHints = 0x107,  // u32 flags, u32 min_w, min_h, max_w, max_h, inc_w, inc_h, base_w, base_h
    Damage = 0x108,    // i32 x, i32 y, u32 w, u32 h (window coordinates)
    SetCursor = 0x109, // u32 shape (0 = default, else an X cursor-font glyph)
    ShmRegion = 0x10a, // u32 kind, u32 handle, u32 w, u32 h, u32 stride, u32 format, u64 size
    GrantRefs = 0x10b, // u32 ref[1..max_grant_refs_per_message]: the next Grant region's pages
    // dom0 → guest
    Key = 0x201,              // u32 action, u32 keycode, u32 state
    Button = 0x202,           // u32 action, u32 button, i32 x, i32 y, u32 state
    Motion = 0x203,           // i32 x, i32 y, u32 state
    Crossing = 0x204,         // u32 kind, i32 x, i32 y, u32 state
    Focus = 0x205,            // u32 kind
    CloseRequest = 0x206,     // empty
    ClipboardRequest = 0x207, // empty: "send me your clipboard"
    // both directions
    Configure = 0x301,     // i32 x, i32 y, u32 w, u32 h, u32 flags
    ClipboardData = 0x302, // the bytes, len 0..clipboard cap
};

std::string_view msg_type_name(MsgType type);
std::optional<MsgType> known_type(uint32_t untrusted_type);

inline constexpr size_t header_size = 12;

inline constexpr size_t title_field_size = 256;
inline constexpr size_t class_field_size = 64;

// Payload size of each fixed-size message; ClipboardData and GrantRefs are variable-length.
inline constexpr size_t hello_size = 8;
inline constexpr size_t create_size = 24;
inline constexpr size_t map_size = 8;
inline constexpr size_t configure_size = 20;
inline constexpr size_t title_size = title_field_size;
inline constexpr size_t class_size = 2 * class_field_size;
inline constexpr size_t hints_size = 36;
inline constexpr size_t damage_size = 16;
inline constexpr size_t cursor_size = 4;
inline constexpr size_t shm_region_size = 32;
inline constexpr size_t key_size = 12;
inline constexpr size_t button_size = 20;
inline constexpr size_t motion_size = 12;
inline constexpr size_t crossing_size = 16;
inline constexpr size_t focus_size = 4;

// Flags words: bits not listed here are refused.
inline constexpr uint32_t flag_override_redirect = 1u << 0; // Create, Map, Configure

inline constexpr uint32_t hint_min_size = 1u << 0;
inline constexpr uint32_t hint_max_size = 1u << 1;
inline constexpr uint32_t hint_resize_inc = 1u << 2;
inline constexpr uint32_t hint_base_size = 1u << 3;
inline constexpr uint32_t hint_all =
    hint_min_size | hint_max_size | hint_resize_inc | hint_base_size;

// X cursor font glyphs are even numbers below XC_num_glyphs (154).
inline constexpr uint32_t cursor_font_glyphs = 154;

// The one pixel format: 32-bit XRGB, little-endian (B, G, R, X in memory), X's ZPixmap depth 24.
inline constexpr uint32_t format_xrgb8888 = 1;
inline constexpr size_t page_size = 4096;

// Xen: a window's buffer is shared in grant references, one per page, sent in GrantRefs
// messages (in page order, at most this many a message) right before the window's ShmRegion
// of kind Grant, whose handle is their count.
inline constexpr size_t max_grant_refs_per_message = 1024;

} // namespace bulkhead::rpc::gui
