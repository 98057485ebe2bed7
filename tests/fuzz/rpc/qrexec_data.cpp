// Fuzz target qrexec_data: MSG_DATA_STDIN/STDOUT/STDERR: raw chunks, 64 KiB at v3 and 4 KiB at v2.
// Input: one frame (header + payload); the header's type is forced (see qrexec_fuzz.h).
#include "qrexec_fuzz.h"

using namespace bulkhead::rpc::qrexec;
using namespace bulkhead::rpc::qrexec::fuzz;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    one_frame(MsgType::DataStdin, protocol_v3, data, size);
    one_frame(MsgType::DataStdout, protocol_v2, data, size);
    one_frame(MsgType::DataStderr, protocol_v3, data, size);
    return 0;
}
