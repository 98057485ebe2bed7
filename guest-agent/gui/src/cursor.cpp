// WindowTracker: the cursor. The domain's X server reports each change of the displayed cursor
// (XFixes CursorNotify) with the cursor's name, which Xlib/Xcursor set from the cursor font
// name for XCreateFontCursor and themed cursors ("xterm", "hand2", "left_ptr", ...). dom0 gets
// SetCursor with that name's cursor-font glyph (0 for the default: unnamed or unknown
// cursors), for the window under the pointer, once per change. As in Qubes, no image crosses:
// dom0 draws its own glyph, so a guest cannot paint an arbitrary cursor on dom0's screen.
#include "xcb_reply.h"

#include <bulkhead/gui_agent/window_tracker.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace bulkhead::gui_agent {

namespace {

// X11/cursorfont.h in order: glyph = 2 * index (XC_num_glyphs = 154).
constexpr std::array<std::string_view, 77> font_cursor_names = {"X_cursor",
                                                                "arrow",
                                                                "based_arrow_down",
                                                                "based_arrow_up",
                                                                "boat",
                                                                "bogosity",
                                                                "bottom_left_corner",
                                                                "bottom_right_corner",
                                                                "bottom_side",
                                                                "bottom_tee",
                                                                "box_spiral",
                                                                "center_ptr",
                                                                "circle",
                                                                "clock",
                                                                "coffee_mug",
                                                                "cross",
                                                                "cross_reverse",
                                                                "crosshair",
                                                                "diamond_cross",
                                                                "dot",
                                                                "dotbox",
                                                                "double_arrow",
                                                                "draft_large",
                                                                "draft_small",
                                                                "draped_box",
                                                                "exchange",
                                                                "fleur",
                                                                "gobbler",
                                                                "gumby",
                                                                "hand1",
                                                                "hand2",
                                                                "heart",
                                                                "icon",
                                                                "iron_cross",
                                                                "left_ptr",
                                                                "left_side",
                                                                "left_tee",
                                                                "leftbutton",
                                                                "ll_angle",
                                                                "lr_angle",
                                                                "man",
                                                                "middlebutton",
                                                                "mouse",
                                                                "pencil",
                                                                "pirate",
                                                                "plus",
                                                                "question_arrow",
                                                                "right_ptr",
                                                                "right_side",
                                                                "right_tee",
                                                                "rightbutton",
                                                                "rtl_logo",
                                                                "sailboat",
                                                                "sb_down_arrow",
                                                                "sb_h_double_arrow",
                                                                "sb_left_arrow",
                                                                "sb_right_arrow",
                                                                "sb_up_arrow",
                                                                "sb_v_double_arrow",
                                                                "shuttle",
                                                                "sizing",
                                                                "spider",
                                                                "spraycan",
                                                                "star",
                                                                "target",
                                                                "tcross",
                                                                "top_left_arrow",
                                                                "top_left_corner",
                                                                "top_right_corner",
                                                                "top_side",
                                                                "top_tee",
                                                                "trek",
                                                                "ul_angle",
                                                                "umbrella",
                                                                "ur_angle",
                                                                "watch",
                                                                "xterm"};

// The glyph for a cursor name; 0 (dom0's default) for X_cursor, unnamed and unknown ones.
uint32_t glyph_for(std::string_view name) {
    for (size_t i = 1; i < font_cursor_names.size(); ++i)
        if (font_cursor_names[i] == name)
            return uint32_t(2 * i);
    return 0;
}

} // namespace

Result<void> WindowTracker::cursor_changed(Outbox& out, xcb_atom_t name) {
    std::string text;
    if (name != XCB_ATOM_NONE) {
        auto r = reply(xcb_get_atom_name_reply(m_conn, xcb_get_atom_name(m_conn, name), nullptr));
        if (r)
            text.assign(xcb_get_atom_name_name(r.get()),
                        size_t(xcb_get_atom_name_name_length(r.get())));
    }
    auto pointer =
        reply(xcb_query_pointer_reply(m_conn, xcb_query_pointer(m_conn, m_screen->root), nullptr));
    if (!pointer)
        return {};
    auto* w = find(pointer->child);
    if (!w || !w->mapped)
        return {};
    uint32_t shape = glyph_for(text);
    if (shape == w->cursor)
        return {};
    w->cursor = shape;
    return out.push(w->id, rpc::gui::SetCursor{shape});
}

} // namespace bulkhead::gui_agent
