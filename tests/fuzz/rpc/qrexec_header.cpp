// Fuzz target qrexec_header: QrexecValidator::header on any 8 bytes, for any channel kind,
// negotiated version and reader cap. Input: [expect][version][cap] + the 8 header bytes.
#include "qrexec_fuzz.h"

using namespace bulkhead::rpc::qrexec;
using namespace bulkhead::rpc::qrexec::fuzz;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    if (size < 3)
        return 0;
    auto expect = Expect(data[0] % 3);
    uint32_t version = data[1] % 6; // 0 = before HELLO; 5 = newer than anything we know
    size_t cap = data[2] & 1 ? max_frame : header_size + data[2];
    auto bytes = std::span(reinterpret_cast<std::byte const*>(data) + 3, size - 3);
    auto h = QrexecValidator::header(UntrustedBytes(bytes), expect, version, cap);
    if (!h)
        return 0;
    check(bytes.size() == header_size, "a header that is not 8 bytes was accepted");
    check((version == 0) == (h->type == MsgType::Hello), "HELLO accepted after HELLO or not first");
    check(expect_for(h->type) == expect || h->type == MsgType::Hello,
          "message accepted on the wrong channel kind");
    check(h->len <= QrexecValidator::max_payload_len(h->type, version), "len over its limit");
    check(h->len + header_size <= cap, "frame over the reader's cap");
    return 0;
}
