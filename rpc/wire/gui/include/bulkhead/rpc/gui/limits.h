// Limits the GUI validator enforces on every message a guest sends (and on dom0's messages
// as read by a guest). dom0 may tighten them per domain; the defaults are the protocol's caps.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bulkhead::rpc::gui {

struct Limits {
    uint32_t max_width = 16384; // window and buffer sizes are capped to these
    uint32_t max_height = 6144;
    int32_t max_coord = 32767;           // |x|, |y| of windows and pointer events are clamped to it
    uint32_t max_window_id = 0x1fffffff; // X XIDs are 29 bits; larger ids are refused
    size_t max_title_bytes = 255;        // after sanitizing, cut at a code point boundary
    size_t max_class_bytes = 63;
    // ClipboardData longer than this is refused (the session ends). dom0's own clipboard cap
    // (gui model Config::clipboard_max_bytes, 64,000 by default, as in Qubes) is lower, so a
    // guest clipboard between the two arrives and is refused as too large, with its size.
    size_t max_clipboard = 256000;
    uint32_t max_button = 31;
};

} // namespace bulkhead::rpc::gui
