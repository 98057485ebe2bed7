// Fuzz target qrexec_hello: MSG_HELLO (peer_info): the version every vchan starts with.
// Input: one frame (header + payload); the header's type is forced (see qrexec_fuzz.h).
#include "qrexec_fuzz.h"

using namespace bulkhead::rpc::qrexec;
using namespace bulkhead::rpc::qrexec::fuzz;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    one_frame(MsgType::Hello, protocol_version, data, size);
    return 0;
}
