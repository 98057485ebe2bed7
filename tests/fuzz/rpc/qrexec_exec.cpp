// Fuzz target qrexec_exec: MSG_EXEC_CMDLINE and MSG_JUST_EXEC: exec_params + "user:command".
// Input: one frame (header + payload); the header's type is forced (see qrexec_fuzz.h).
#include "qrexec_fuzz.h"

using namespace bulkhead::rpc::qrexec;
using namespace bulkhead::rpc::qrexec::fuzz;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    one_frame(MsgType::ExecCmdline, protocol_version, data, size);
    one_frame(MsgType::JustExec, protocol_version, data, size);
    return 0;
}
