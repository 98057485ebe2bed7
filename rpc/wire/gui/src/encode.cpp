#include <bulkhead/rpc/gui/encode.h>
#include <bulkhead/rpc/gui/sanitize.h>

#include "le.h"

#include <string_view>

namespace bulkhead::rpc::gui {

namespace {

using Out = std::vector<std::byte>;

void put_rect(Out& out, Rect const& r) {
    le::put32(out, uint32_t(r.x));
    le::put32(out, uint32_t(r.y));
    le::put32(out, r.width);
    le::put32(out, r.height);
}

uint32_t flags(OverrideRedirect o) {
    return o == OverrideRedirect::Yes ? flag_override_redirect : 0;
}

// A NUL-padded field; the text is cut at a code point boundary to leave room for one NUL.
void put_field(Out& out, std::string_view text, size_t field_size) {
    std::string cut = sanitize_text(text, field_size - 1);
    for (char c : cut)
        out.push_back(std::byte(c));
    out.insert(out.end(), field_size - cut.size(), std::byte{0});
}

void put_size(Out& out, Size s) {
    le::put32(out, s.width);
    le::put32(out, s.height);
}

struct Payload {
    Out& out;
    void operator()(Hello const& m) {
        le::put16(out, m.major);
        le::put16(out, m.minor);
        le::put32(out, 0);
    }
    void operator()(Create const& m) {
        put_rect(out, m.rect);
        le::put32(out, m.parent);
        le::put32(out, flags(m.override_redirect));
    }
    void operator()(Destroy const&) {}
    void operator()(Map const& m) {
        le::put32(out, m.transient_for);
        le::put32(out, flags(m.override_redirect));
    }
    void operator()(Unmap const&) {}
    void operator()(Configure const& m) {
        put_rect(out, m.rect);
        le::put32(out, flags(m.override_redirect));
    }
    void operator()(SetTitle const& m) { put_field(out, m.title, title_field_size); }
    void operator()(SetClass const& m) {
        put_field(out, m.res_class, class_field_size);
        put_field(out, m.res_name, class_field_size);
    }
    void operator()(SetHints const& m) {
        le::put32(out, m.flags);
        put_size(out, m.min);
        put_size(out, m.max);
        put_size(out, m.inc);
        put_size(out, m.base);
    }
    void operator()(Damage const& m) { put_rect(out, m.rect); }
    void operator()(SetCursor const& m) { le::put32(out, m.shape); }
    void operator()(ShmRegion const& m) {
        le::put32(out, uint32_t(m.kind));
        le::put32(out, m.handle);
        le::put32(out, m.width);
        le::put32(out, m.height);
        le::put32(out, m.stride);
        le::put32(out, m.format);
        le::put64(out, m.size);
    }
    void operator()(Key const& m) {
        le::put32(out, uint32_t(m.action));
        le::put32(out, m.keycode);
        le::put32(out, m.state);
    }
    void operator()(Button const& m) {
        le::put32(out, uint32_t(m.action));
        le::put32(out, m.button);
        le::put32(out, uint32_t(m.x));
        le::put32(out, uint32_t(m.y));
        le::put32(out, m.state);
    }
    void operator()(Motion const& m) {
        le::put32(out, uint32_t(m.x));
        le::put32(out, uint32_t(m.y));
        le::put32(out, m.state);
    }
    void operator()(Crossing const& m) {
        le::put32(out, uint32_t(m.kind));
        le::put32(out, uint32_t(m.x));
        le::put32(out, uint32_t(m.y));
        le::put32(out, m.state);
    }
    void operator()(Focus const& m) { le::put32(out, uint32_t(m.kind)); }
    void operator()(CloseRequest const&) {}
    void operator()(ClipboardRequest const&) {}
    void operator()(ClipboardData const& m) {
        out.insert(out.end(), m.bytes.begin(), m.bytes.end());
    }
    void operator()(GrantRefs const& m) {
        for (auto ref : m.refs)
            le::put32(out, ref);
    }
};

} // namespace

void encode_to(std::vector<std::byte>& out, WindowId window, Message const& message) {
    size_t start = out.size();
    le::put32(out, uint32_t(message_type(message)));
    le::put32(out, window);
    le::put32(out, 0); // len, patched below
    std::visit(Payload{out}, message);
    auto len = uint32_t(out.size() - start - header_size);
    for (int i = 0; i < 4; ++i)
        out[start + 8 + size_t(i)] = std::byte(len >> (8 * i));
}

std::vector<std::byte> encode(WindowId window, Message const& message) {
    std::vector<std::byte> out;
    encode_to(out, window, message);
    return out;
}

} // namespace bulkhead::rpc::gui
