// Fuzz target gui_stream: a GUI channel's byte stream through GuiValidator, as dom0 reads a
// guest (or a guest reads dom0). Byte 0 picks the direction (bit 0), whether HELLO was already
// seen (bit 1) and tight limits (bit 2); the rest is frames back to back until the first
// refusal. Every accepted message must stay within the limits, re-encode, and the re-encoding
// must decode to the same message (decode and encode agree; sanitizing is idempotent).
#include <bulkhead/rpc/gui/encode.h>
#include <bulkhead/rpc/gui/sanitize.h>
#include <bulkhead/rpc/gui/validator.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

using namespace bulkhead;
using namespace bulkhead::rpc::gui;

namespace {

void check(bool ok, char const* what) {
    if (!ok) {
        std::fprintf(stderr, "gui fuzz invariant failed: %s\n", what);
        std::abort();
    }
}

void check_rect(Rect const& r, Limits const& l) {
    check(r.width <= l.max_width && r.height <= l.max_height, "size over the cap");
    check(r.x >= -l.max_coord && r.x <= l.max_coord && r.y >= -l.max_coord && r.y <= l.max_coord,
          "coordinate not clamped");
}

void check_text(std::string const& s, size_t max) {
    check(s.size() <= max, "text over its cap");
    check(sanitize_text(s, max) == s, "text not sanitized");
}

void check_limits(Message const& m, Limits const& l) {
    if (auto* c = std::get_if<Create>(&m))
        check_rect(c->rect, l), check(c->rect.width > 0 && c->rect.height > 0, "empty window");
    if (auto* c = std::get_if<Configure>(&m))
        check_rect(c->rect, l), check(c->rect.width > 0 && c->rect.height > 0, "empty window");
    if (auto* t = std::get_if<SetTitle>(&m))
        check_text(t->title, l.max_title_bytes);
    if (auto* c = std::get_if<SetClass>(&m))
        check_text(c->res_class, l.max_class_bytes), check_text(c->res_name, l.max_class_bytes);
    if (auto* d = std::get_if<Damage>(&m))
        check(d->rect.x >= 0 && d->rect.y >= 0 &&
                  uint64_t(d->rect.x) + d->rect.width <= l.max_width &&
                  uint64_t(d->rect.y) + d->rect.height <= l.max_height,
              "damage outside the caps");
    if (auto* s = std::get_if<ShmRegion>(&m))
        check(s->width <= l.max_width && s->height <= l.max_height &&
                  s->size >= uint64_t(s->stride) * s->height && s->stride >= uint64_t(s->width) * 4,
              "shm region inconsistent");
    if (auto* c = std::get_if<ClipboardData>(&m))
        check(c->bytes.size() <= l.max_clipboard, "clipboard over the cap");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    if (size < 1)
        return 0;
    auto direction = (data[0] & 1) ? Direction::FromDaemon : Direction::FromGuest;
    auto session = (data[0] & 2) ? Session::Established : Session::BeforeHello;
    Limits limits;
    if (data[0] & 4) {
        limits.max_width = 64;
        limits.max_height = 48;
        limits.max_coord = 100;
        limits.max_window_id = 1000;
        limits.max_title_bytes = 7;
        limits.max_class_bytes = 3;
        limits.max_clipboard = 16;
    }
    std::span<std::byte const> in(reinterpret_cast<std::byte const*>(data + 1), size - 1);
    while (in.size() >= header_size) {
        auto h =
            GuiValidator::header(UntrustedBytes(in.first(header_size)), direction, session, limits);
        if (!h)
            return 0;
        check(h->len <= GuiValidator::max_payload_len(h->type, limits), "len over its limit");
        in = in.subspan(header_size);
        if (in.size() < h->len)
            return 0;
        auto m = GuiValidator::payload(*h, UntrustedBytes(in.first(h->len)), limits);
        in = in.subspan(h->len);
        if (!m)
            return 0;
        check(message_type(m->message) == h->type, "decoded type differs from the header's");
        check(m->window == h->window, "window differs from the header's");
        check_limits(m->message, limits);
        auto enc = encode(m->window, m->message);
        auto again = GuiValidator::frame(UntrustedBytes(std::span<std::byte const>(enc)), direction,
                                         session, limits);
        check(again.has_value(), "re-encoding of a validated message refused");
        check(again->window == m->window && again->message == m->message, "decode(encode(m)) != m");
        session = Session::Established;
    }
    return 0;
}
