// Fuzz target qrexec_trigger_service3: MSG_TRIGGER_SERVICE3: target[64] ident[32] + service name.
// Input: one frame (header + payload); the header's type is forced (see qrexec_fuzz.h).
#include "qrexec_fuzz.h"

using namespace bulkhead::rpc::qrexec;
using namespace bulkhead::rpc::qrexec::fuzz;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    one_frame(MsgType::TriggerService3, protocol_v3, data, size);
    return 0;
}
