// QrexecValidator: the one place where qrexec bytes from a peer become typed messages.
// Called by FrameReader (and the fuzz target); checks the header against what this channel
// may carry and the negotiated version, then every payload field. Trusts nothing it reads.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/untrusted.h>
#include <bulkhead/rpc/qrexec/messages.h>

#include <cstddef>
#include <span>

namespace bulkhead::rpc::qrexec {

// Who sends on the channel being read, i.e. which messages are legal on it.
enum class Expect {
    FromDaemon, // control vchan read by an agent: EXEC_CMDLINE, JUST_EXEC, SERVICE_CONNECT/REFUSED
    FromAgent,  // control vchan read by dom0: TRIGGER_SERVICE{,3,4}, CONNECTION_TERMINATED
    Data,       // data vchan: MSG_DATA_*
};

struct FrameHeader {
    MsgType type;
    uint32_t len;
};

using UntrustedBytes = Untrusted<std::span<std::byte const>>;

class QrexecValidator : public Validator {
public:
    // Decodes and checks an 8-byte header. version = negotiated version, 0 before HELLO
    // (then only HELLO is legal; HELLO is legal only then). len is checked against the
    // message's own limit and max_frame before anyone allocates for it.
    static Result<FrameHeader> header(UntrustedBytes bytes, Expect expect, uint32_t version,
                                      size_t max_frame_len = max_frame);
    // Decodes a payload whose header passed header().
    static Result<ValidatedMessage> payload(FrameHeader const& header, UntrustedBytes bytes,
                                            uint32_t version);
    // The largest payload a message of this type may have at this version.
    static size_t max_payload_len(MsgType type, uint32_t version);
};

} // namespace bulkhead::rpc::qrexec
