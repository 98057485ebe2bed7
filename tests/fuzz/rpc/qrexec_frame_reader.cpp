// Fuzz target qrexec_frame_reader: FrameReader fed an arbitrary byte stream in chunks whose
// sizes come from the input. Input: [mode][n] [n chunk sizes] then the stream;
// mode % 3 = channel kind, (mode / 3) & 1 = a small (256-byte) frame cap.
// Checks: nothing returned without a full input consumed, the buffer stays under the cap,
// every message re-encodes, and a failed reader stays failed.
#include "qrexec_fuzz.h"

#include <bulkhead/rpc/qrexec/frame_reader.h>

using namespace bulkhead;
using namespace bulkhead::rpc::qrexec;
using namespace bulkhead::rpc::qrexec::fuzz;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    if (size < 2)
        return 0;
    auto expect = Expect(data[0] % 3);
    size_t cap = (data[0] / 3) & 1 ? 256 : max_frame;
    size_t nsizes = std::min<size_t>(data[1] % 16, size - 2);
    std::vector<size_t> sizes(data + 2, data + 2 + nsizes);
    auto stream =
        std::span(reinterpret_cast<std::byte const*>(data) + 2 + nsizes, size - 2 - nsizes);

    FrameReader reader(expect, cap);
    size_t chunk_no = 0;
    while (!stream.empty()) {
        size_t n = sizes.empty() ? stream.size() : sizes[chunk_no++ % sizes.size()];
        n = std::clamp<size_t>(n, 1, stream.size());
        auto in = stream.first(n);
        stream = stream.subspan(n);
        for (;;) {
            auto r = reader.next(in);
            if (!r) {
                auto code = r.error().code();
                check(code == Errc::Protocol || code == Errc::Limit, "unexpected error kind");
                auto more = stream;
                auto again = reader.next(more);
                check(!again && again.error().code() == code, "a failed reader recovered");
                return 0;
            }
            check(reader.buffered() <= std::max(cap, header_size), "buffer grew past the cap");
            if (!*r) {
                check(in.empty(), "no message yet, but input left unconsumed");
                break;
            }
            auto const& msg = (*r)->message;
            check(std::holds_alternative<Hello>(msg) || reader.version() != 0,
                  "a message before HELLO");
            check(FrameWriter::encode(msg, std::max(reader.version(), protocol_v2)).has_value(),
                  "a message the reader returned does not re-encode");
        }
    }
    return 0;
}
