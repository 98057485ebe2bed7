#include <bulkhead/rpc/gui/sanitize.h>
#include <bulkhead/rpc/gui/validator.h>

#include "le.h"

#include <algorithm>
#include <string>
#include <string_view>

namespace bulkhead::rpc::gui {

namespace {

Unexpected bad(std::string what) {
    return unexpected(Errc::Protocol, "gui: " + what);
}

bool legal_from(MsgType type, Direction direction) {
    auto t = uint32_t(type);
    if (type == MsgType::Hello || t >= 0x300)
        return true;
    return direction == Direction::FromGuest ? (t >= 0x100 && t < 0x200)
                                             : (t >= 0x200 && t < 0x300);
}

// The X modifier and button state bits (Shift .. Button5).
constexpr uint32_t x_state_mask = 0x1fff;

int32_t clamp_coord(uint32_t untrusted, Limits const& limits) {
    return std::clamp(int32_t(untrusted), -limits.max_coord, limits.max_coord);
}

uint32_t cap(uint32_t untrusted, uint32_t max) {
    return std::min(untrusted, max);
}

// A window's geometry: position clamped, size capped, an empty size refused.
Result<Rect> window_rect(std::byte const* p, Limits const& limits) {
    uint32_t untrusted_w = le::load32(p + 8);
    uint32_t untrusted_h = le::load32(p + 12);
    if (untrusted_w == 0 || untrusted_h == 0)
        return bad("window of zero width or height");
    return Rect{clamp_coord(le::load32(p), limits), clamp_coord(le::load32(p + 4), limits),
                cap(untrusted_w, limits.max_width), cap(untrusted_h, limits.max_height)};
}

Result<OverrideRedirect> window_flags(uint32_t untrusted_flags) {
    if (untrusted_flags & ~flag_override_redirect)
        return bad("unknown window flag bits " + std::to_string(untrusted_flags));
    return untrusted_flags ? OverrideRedirect::Yes : OverrideRedirect::No;
}

Result<WindowId> other_window(uint32_t untrusted_id, Limits const& limits, std::string_view what) {
    if (untrusted_id > limits.max_window_id)
        return bad(std::string(what) + " window id out of range");
    return untrusted_id;
}

// A string field: up to its first NUL (or the whole field), sanitized.
std::string text_field(std::byte const* p, size_t field_size, size_t max_bytes) {
    auto const* chars = reinterpret_cast<char const*>(p);
    std::string_view s(chars, size_t(std::find(chars, chars + field_size, '\0') - chars));
    return sanitize_text(s, max_bytes);
}

Size hint_size(std::byte const* p, bool set, Limits const& limits) {
    if (!set)
        return {};
    return {cap(le::load32(p), limits.max_width), cap(le::load32(p + 4), limits.max_height)};
}

Result<SetHints> decode_hints(std::byte const* p, Limits const& limits) {
    uint32_t untrusted_flags = le::load32(p);
    if (untrusted_flags & ~hint_all)
        return bad("unknown size hint bits " + std::to_string(untrusted_flags));
    SetHints h;
    h.flags = untrusted_flags;
    h.min = hint_size(p + 4, h.flags & hint_min_size, limits);
    h.max = hint_size(p + 12, h.flags & hint_max_size, limits);
    h.inc = hint_size(p + 20, h.flags & hint_resize_inc, limits);
    h.base = hint_size(p + 28, h.flags & hint_base_size, limits);
    if ((h.flags & hint_min_size) && (h.flags & hint_max_size)) {
        h.min.width = std::min(h.min.width, h.max.width);
        h.min.height = std::min(h.min.height, h.max.height);
    }
    return h;
}

// Damage in window coordinates, clipped to [0, max_width] x [0, max_height].
Damage decode_damage(std::byte const* p, Limits const& limits) {
    auto x = std::clamp<int64_t>(int32_t(le::load32(p)), 0, limits.max_width);
    auto y = std::clamp<int64_t>(int32_t(le::load32(p + 4)), 0, limits.max_height);
    auto w = std::min<int64_t>(le::load32(p + 8), limits.max_width - x);
    auto h = std::min<int64_t>(le::load32(p + 12), limits.max_height - y);
    return Damage{Rect{int32_t(x), int32_t(y), uint32_t(w), uint32_t(h)}};
}

Result<ShmRegion> decode_shm(std::byte const* p, Limits const& limits) {
    ShmRegion r;
    uint32_t untrusted_kind = le::load32(p);
    if (untrusted_kind != uint32_t(ShmKind::Memfd) && untrusted_kind != uint32_t(ShmKind::Grant))
        return bad("unknown shared memory kind " + std::to_string(untrusted_kind));
    r.kind = ShmKind(untrusted_kind);
    r.handle = le::load32(p + 4);
    if (r.kind == ShmKind::Memfd && r.handle != 0)
        return bad("memfd region handle must be 0 (the fd passed with the message)");
    if (r.kind == ShmKind::Grant && r.handle == 0)
        return bad("grant region without grant references");
    r.width = le::load32(p + 8);
    r.height = le::load32(p + 12);
    r.stride = le::load32(p + 16);
    r.format = le::load32(p + 20);
    r.size = le::load64(p + 24);
    if (r.format != format_xrgb8888)
        return bad("unknown pixel format " + std::to_string(r.format));
    if (r.width == 0 || r.height == 0 || r.width > limits.max_width || r.height > limits.max_height)
        return bad("shared memory buffer size out of range");
    if (r.stride % 4 != 0 || r.stride < uint64_t(r.width) * 4 ||
        r.stride > uint64_t(limits.max_width) * 4)
        return bad("bad stride " + std::to_string(r.stride));
    uint64_t need = uint64_t(r.stride) * r.height;
    uint64_t rounded = (need + page_size - 1) / page_size * page_size;
    if (r.size < need || r.size > rounded)
        return bad("region size does not match stride x height");
    if (r.kind == ShmKind::Grant && (r.size != rounded || r.handle != rounded / page_size))
        return bad("grant region: size is not whole pages, or not one reference a page");
    return r;
}

Result<uint32_t> x_state(uint32_t untrusted_state) {
    if (untrusted_state & ~x_state_mask)
        return bad("unknown modifier state bits");
    return untrusted_state;
}

template <typename E>
Result<E> two_valued(uint32_t untrusted, std::string_view what) {
    if (untrusted != 1 && untrusted != 2)
        return bad("bad " + std::string(what) + " " + std::to_string(untrusted));
    return E(untrusted);
}

} // namespace

size_t GuiValidator::max_payload_len(MsgType type, Limits const& limits) {
    switch (type) {
    case MsgType::Hello:
        return hello_size;
    case MsgType::Create:
        return create_size;
    case MsgType::Map:
        return map_size;
    case MsgType::Configure:
        return configure_size;
    case MsgType::SetTitle:
        return title_size;
    case MsgType::SetClass:
        return class_size;
    case MsgType::SetHints:
        return hints_size;
    case MsgType::Damage:
        return damage_size;
    case MsgType::SetCursor:
        return cursor_size;
    case MsgType::ShmRegion:
        return shm_region_size;
    case MsgType::Key:
        return key_size;
    case MsgType::Button:
        return button_size;
    case MsgType::Motion:
        return motion_size;
    case MsgType::Crossing:
        return crossing_size;
    case MsgType::Focus:
        return focus_size;
    case MsgType::Destroy:
    case MsgType::Unmap:
    case MsgType::CloseRequest:
    case MsgType::ClipboardRequest:
        return 0;
    case MsgType::ClipboardData:
        return limits.max_clipboard;
    case MsgType::GrantRefs:
        return max_grant_refs_per_message * 4;
    }
    return 0;
}

Result<FrameHeader> GuiValidator::header(UntrustedBytes bytes, Direction direction, Session session,
                                         Limits const& limits) {
    auto const& b = bytes.open(key());
    if (b.size() != header_size)
        return bad("header is not 12 bytes");
    uint32_t untrusted_type = le::load32(b.data());
    uint32_t untrusted_window = le::load32(b.data() + 4);
    uint32_t untrusted_len = le::load32(b.data() + 8);
    auto type = known_type(untrusted_type);
    if (!type)
        return bad("unknown message type " + std::to_string(untrusted_type));
    auto name = std::string(msg_type_name(*type));
    if (!legal_from(*type, direction))
        return bad(name + " is not legal in this direction");
    if ((*type == MsgType::Hello) != (session == Session::BeforeHello))
        return bad(name + (session == Session::BeforeHello ? " before HELLO" : " after HELLO"));
    if (is_window_message(*type)) {
        if (untrusted_window == 0 || untrusted_window > limits.max_window_id)
            return bad(name + " window id out of range");
    } else if (untrusted_window != 0) {
        return bad(name + " names a window");
    }
    if (*type == MsgType::ClipboardData) {
        if (untrusted_len > limits.max_clipboard)
            return unexpected(Errc::Limit, "gui: clipboard data over the cap: " +
                                               std::to_string(untrusted_len) + " bytes");
    } else if (*type == MsgType::GrantRefs) {
        if (untrusted_len == 0 || untrusted_len % 4 != 0 ||
            untrusted_len > max_payload_len(*type, limits))
            return bad(name + " length " + std::to_string(untrusted_len) + " is not 1.." +
                       std::to_string(max_grant_refs_per_message) + " references");
    } else if (untrusted_len != max_payload_len(*type, limits)) {
        return bad(name + " length " + std::to_string(untrusted_len) + " is not " +
                   std::to_string(max_payload_len(*type, limits)));
    }
    return FrameHeader{*type, untrusted_window, untrusted_len};
}

Result<ValidatedMessage> GuiValidator::payload(FrameHeader const& h, UntrustedBytes bytes,
                                               Limits const& limits) {
    auto const& span = bytes.open(key());
    if (span.size() != h.len || h.len > max_payload_len(h.type, limits))
        return bad("payload length does not match its header");
    std::byte const* p = span.data();
    auto done = [&](Message m) { return ValidatedMessage{h.window, std::move(m)}; };
    switch (h.type) {
    case MsgType::Hello: {
        if (le::load32(p + 4) != 0)
            return bad("HELLO reserved field is not 0");
        return done(Hello{le::load16(p), le::load16(p + 2)});
    }
    case MsgType::Create: {
        Create c;
        c.rect = TRY(window_rect(p, limits));
        c.parent = TRY(other_window(le::load32(p + 16), limits, "parent"));
        c.override_redirect = TRY(window_flags(le::load32(p + 20)));
        return done(c);
    }
    case MsgType::Destroy:
        return done(Destroy{});
    case MsgType::Map: {
        Map m;
        m.transient_for = TRY(other_window(le::load32(p), limits, "transient_for"));
        m.override_redirect = TRY(window_flags(le::load32(p + 4)));
        return done(m);
    }
    case MsgType::Unmap:
        return done(Unmap{});
    case MsgType::Configure: {
        Configure c;
        c.rect = TRY(window_rect(p, limits));
        c.override_redirect = TRY(window_flags(le::load32(p + 16)));
        return done(c);
    }
    case MsgType::SetTitle:
        return done(SetTitle{text_field(p, title_field_size, limits.max_title_bytes)});
    case MsgType::SetClass:
        return done(
            SetClass{text_field(p, class_field_size, limits.max_class_bytes),
                     text_field(p + class_field_size, class_field_size, limits.max_class_bytes)});
    case MsgType::SetHints:
        return done(TRY(decode_hints(p, limits)));
    case MsgType::Damage:
        return done(decode_damage(p, limits));
    case MsgType::SetCursor: {
        uint32_t shape = le::load32(p);
        if (shape != 0 && (shape >= cursor_font_glyphs || shape % 2 != 0))
            return bad("cursor shape " + std::to_string(shape) + " is not a cursor-font glyph");
        return done(SetCursor{shape});
    }
    case MsgType::ShmRegion:
        return done(TRY(decode_shm(p, limits)));
    case MsgType::Key: {
        Key k;
        k.action = TRY(two_valued<KeyAction>(le::load32(p), "key action"));
        k.keycode = le::load32(p + 4);
        if (k.keycode < 8 || k.keycode > 255)
            return bad("keycode out of range");
        k.state = TRY(x_state(le::load32(p + 8)));
        return done(k);
    }
    case MsgType::Button: {
        Button b;
        b.action = TRY(two_valued<ButtonAction>(le::load32(p), "button action"));
        b.button = le::load32(p + 4);
        if (b.button == 0 || b.button > limits.max_button)
            return bad("button number out of range");
        b.x = clamp_coord(le::load32(p + 8), limits);
        b.y = clamp_coord(le::load32(p + 12), limits);
        b.state = TRY(x_state(le::load32(p + 16)));
        return done(b);
    }
    case MsgType::Motion:
        return done(Motion{clamp_coord(le::load32(p), limits),
                           clamp_coord(le::load32(p + 4), limits),
                           TRY(x_state(le::load32(p + 8)))});
    case MsgType::Crossing: {
        Crossing c;
        c.kind = TRY(two_valued<CrossingKind>(le::load32(p), "crossing kind"));
        c.x = clamp_coord(le::load32(p + 4), limits);
        c.y = clamp_coord(le::load32(p + 8), limits);
        c.state = TRY(x_state(le::load32(p + 12)));
        return done(c);
    }
    case MsgType::Focus:
        return done(Focus{TRY(two_valued<FocusKind>(le::load32(p), "focus kind"))});
    case MsgType::CloseRequest:
        return done(CloseRequest{});
    case MsgType::ClipboardRequest:
        return done(ClipboardRequest{});
    case MsgType::ClipboardData:
        return done(ClipboardData{std::vector<std::byte>(span.begin(), span.end())});
    case MsgType::GrantRefs: {
        if (h.len == 0 || h.len % 4 != 0)
            return bad("GRANT_REFS length is not a whole number of references");
        GrantRefs g;
        for (size_t i = 0; i < h.len; i += 4)
            g.refs.push_back(le::load32(p + i));
        return done(std::move(g));
    }
    }
    return bad("unhandled message type");
}

Result<ValidatedMessage> GuiValidator::frame(UntrustedBytes bytes, Direction direction,
                                             Session session, Limits const& limits) {
    auto const& b = bytes.open(key());
    if (b.size() < header_size)
        return bad("frame shorter than its header");
    auto h = TRY(header(UntrustedBytes(b.first(header_size)), direction, session, limits));
    if (b.size() - header_size != h.len)
        return bad("frame length does not match its header");
    return payload(h, UntrustedBytes(b.subspan(header_size)), limits);
}

Result<uint16_t> negotiate(Hello const& peer) {
    if (peer.major != protocol_major)
        return unexpected(Errc::Unsupported, "gui: peer speaks protocol " +
                                                 std::to_string(peer.major) + ".x, we speak " +
                                                 std::to_string(protocol_major) + ".x");
    return std::min(peer.minor, protocol_minor);
}

} // namespace bulkhead::rpc::gui
