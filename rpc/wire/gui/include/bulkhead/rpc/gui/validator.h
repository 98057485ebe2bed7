// GuiValidator: the one place where GUI protocol bytes from a peer become typed messages.
// dom0's gui-daemon runs every byte a guest sends through it (Direction::FromGuest); the guest
// agent reads dom0's messages through it too (Direction::FromDaemon). Trusts nothing it reads:
// unknown types, wrong lengths, unknown flag bits, bad enums and out-of-range ids are refused;
// sizes are capped, coordinates clamped and strings sanitized to Limits.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/untrusted.h>
#include <bulkhead/rpc/gui/limits.h>
#include <bulkhead/rpc/gui/messages.h>

#include <cstddef>
#include <span>

namespace bulkhead::rpc::gui {

enum class Direction {
    FromGuest,  // read by dom0
    FromDaemon, // read by the guest agent
};

// The channel's state: false until the peer's Hello was accepted (then only Hello is legal;
// after it, Hello is not).
enum class Session { BeforeHello, Established };

struct FrameHeader {
    MsgType type;
    WindowId window;
    uint32_t len;
};

using UntrustedBytes = Untrusted<std::span<std::byte const>>;

class GuiValidator : public Validator {
public:
    // Checks a 12-byte header: known type, legal in this direction and session state, window
    // id present exactly for window messages and within limits, len equal to the type's
    // fixed size (ClipboardData: at most limits.max_clipboard; GrantRefs: 1..1024 whole
    // references). Nothing is allocated before.
    static Result<FrameHeader> header(UntrustedBytes bytes, Direction direction, Session session,
                                      Limits const& limits = {});
    // Decodes the payload of a header that passed header().
    static Result<ValidatedMessage> payload(FrameHeader const& header, UntrustedBytes bytes,
                                            Limits const& limits = {});
    // Header and payload of one whole frame (exactly header + len bytes).
    static Result<ValidatedMessage> frame(UntrustedBytes bytes, Direction direction,
                                          Session session, Limits const& limits = {});
    // The exact payload size of a fixed-size type; ClipboardData: limits.max_clipboard.
    static size_t max_payload_len(MsgType type, Limits const& limits = {});
};

// Version negotiation: the minor both speak, or an error when the majors differ.
Result<uint16_t> negotiate(Hello const& peer);

} // namespace bulkhead::rpc::gui
