// Fuzz target qrexec_trigger_service4: MSG_TRIGGER_SERVICE4 (v4): source[64] target[64] ident[32] +
// service name. Input: one frame (header + payload); the header's type is forced (see
// qrexec_fuzz.h).
#include "qrexec_fuzz.h"

using namespace bulkhead::rpc::qrexec;
using namespace bulkhead::rpc::qrexec::fuzz;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    one_frame(MsgType::TriggerService4, protocol_v4, data, size);
    return 0;
}
