// Fuzz target qrexec_trigger_service: MSG_TRIGGER_SERVICE (v2): service_name[64] target[32]
// ident[32]. Input: one frame (header + payload); the header's type is forced (see qrexec_fuzz.h).
#include "qrexec_fuzz.h"

using namespace bulkhead::rpc::qrexec;
using namespace bulkhead::rpc::qrexec::fuzz;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    one_frame(MsgType::TriggerService, protocol_v2, data, size);
    one_frame(MsgType::TriggerService, protocol_v3, data, size);
    return 0;
}
