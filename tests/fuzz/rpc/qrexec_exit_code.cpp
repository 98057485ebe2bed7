// Fuzz target qrexec_exit_code: MSG_DATA_EXIT_CODE: u32, exactly 4 bytes.
// Input: one frame (header + payload); the header's type is forced (see qrexec_fuzz.h).
#include "qrexec_fuzz.h"

using namespace bulkhead::rpc::qrexec;
using namespace bulkhead::rpc::qrexec::fuzz;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    one_frame(MsgType::DataExitCode, protocol_version, data, size);
    return 0;
}
