// Fuzz target gui_frame_reader: GuiFrameReader fed a byte stream in chunks. Input: [flags]
// [chunk] then the stream; flags bit 0 = direction (1: dom0 to guest), bit 2 = tight limits;
// chunk = bytes per piece (0: all at once). Checks: the buffer never exceeds its capacity, no
// message before HELLO, a message is returned only with its whole frame consumed, every message
// re-encodes to a frame the validator accepts, and a failed reader stays failed.
#include <bulkhead/rpc/gui/encode.h>
#include <bulkhead/rpc/gui/frame_reader.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace bulkhead;
using namespace bulkhead::rpc::gui;

namespace {

void check(bool ok, char const* what) {
    if (!ok) {
        std::fprintf(stderr, "gui frame reader fuzz invariant failed: %s\n", what);
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    if (size < 2)
        return 0;
    auto direction = (data[0] & 1) ? Direction::FromDaemon : Direction::FromGuest;
    Limits limits;
    if (data[0] & 4) {
        limits.max_width = 64;
        limits.max_height = 48;
        limits.max_title_bytes = 7;
        limits.max_clipboard = 16;
    }
    size_t chunk = data[1] ? data[1] : size;
    std::span<std::byte const> stream(reinterpret_cast<std::byte const*>(data + 2), size - 2);
    GuiFrameReader reader(direction, limits);
    while (!stream.empty()) {
        auto piece = stream.first(std::min(chunk, stream.size()));
        stream = stream.subspan(piece.size());
        for (;;) {
            auto before = reader.session();
            auto r = reader.next(piece);
            if (!r) {
                auto code = r.error().code();
                check(code == Errc::Protocol || code == Errc::Limit || code == Errc::Unsupported,
                      "unexpected error kind");
                auto again = reader.next(stream);
                check(!again && again.error().code() == code, "a failed reader recovered");
                return 0;
            }
            check(reader.buffered() <= reader.capacity(), "buffer past its capacity");
            if (!*r) {
                check(piece.empty(), "no message yet, but input left unconsumed");
                break;
            }
            auto const& m = **r;
            check(std::holds_alternative<Hello>(m.message) == (before == Session::BeforeHello),
                  "HELLO out of place");
            auto enc = encode(m.window, m.message);
            auto back = GuiValidator::frame(UntrustedBytes(std::span<std::byte const>(enc)),
                                            direction, before, limits);
            check(back && back->message == m.message, "returned message does not round-trip");
        }
    }
    return 0;
}
