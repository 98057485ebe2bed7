// Window: dom0's record of one guest window (geometry, mapping, titles, hints, pixel buffer).
// Owned by Desktop, read by the compositor (gui-daemon/xcb). Every field set from the guest
// came through GuiValidator and the Desktop's rules; the handle and frame are dom0's.
#pragma once

#include <bulkhead/gui/model/types.h>
#include <bulkhead/rpc/gui/messages.h>

#include <optional>
#include <string>

namespace bulkhead::gui::model {

struct Window {
    WindowHandle handle = 0;
    std::string domain;
    rpc::gui::WindowId guest_id = 0;
    rpc::gui::WindowId parent = 0;        // 0 or a window of the same domain
    rpc::gui::WindowId transient_for = 0; // 0 or a window of the same domain
    Rect rect;                            // screen position of the contents, as the guest sees it
    bool mapped = false;
    bool requested_override_redirect = false;
    bool override_redirect = false; // in effect: false when it would cover too much of the screen
    std::string guest_title;        // sanitized by the validator
    std::string title;              // dom0's: "[domain] guest_title"
    std::string res_class;
    std::string res_name;
    rpc::gui::SetHints hints;
    uint32_t cursor = 0;
    std::optional<rpc::gui::ShmRegion> buffer;

    FrameKind frame() const {
        return override_redirect ? FrameKind::DaemonBorder : FrameKind::WindowManager;
    }
    bool contains(Point p) const {
        return int64_t(p.x) >= rect.x && int64_t(p.x) < int64_t(rect.x) + rect.width &&
               int64_t(p.y) >= rect.y && int64_t(p.y) < int64_t(rect.y) + rect.height;
    }
};

// A region of a window to copy from its buffer to the screen (window coordinates).
struct Repaint {
    WindowHandle window = 0;
    Rect rect;
    bool operator==(Repaint const&) const = default;
};

} // namespace bulkhead::gui::model
