// FrameReader: accumulates qrexec bytes from a Channel and yields validated messages.
// Used by dom0's broker and the guest agent for every vchan. Buffers at most max_frame bytes
// (allocated once); a header announcing more is refused before anything is read for it.
// After an error the reader stays failed: the caller closes the channel.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/rpc/channel.h>
#include <bulkhead/rpc/qrexec/validator.h>

#include <optional>
#include <span>
#include <vector>

namespace bulkhead::rpc::qrexec {

class FrameReader {
public:
    explicit FrameReader(Expect expect, size_t max_frame_len = max_frame);

    // The next complete frame, or nullopt when the channel has nothing more right now (watch
    // its readiness fd, then call again). Errc::Closed = clean EOF between frames;
    // Errc::Protocol = EOF mid-frame or a message the validator refused; Errc::Limit = too big.
    Result<std::optional<ValidatedMessage>> next(Channel& ch);
    // The same from bytes in memory (tests, fuzzing); consumes from input what it buffers.
    Result<std::optional<ValidatedMessage>> next(std::span<std::byte const>& input);

    // Negotiated protocol version: 0 until the peer's HELLO was read, then negotiate(peer).
    uint32_t version() const { return m_version; }
    Expect expect() const { return m_expect; }
    // Bytes buffered but not yet returned as a message.
    size_t buffered() const { return m_end - m_begin; }

private:
    Result<std::optional<ValidatedMessage>> parse_one();
    size_t make_room();
    Result<std::optional<ValidatedMessage>> fail(Error e);

    Expect m_expect;
    uint32_t m_version = 0;
    std::vector<std::byte> m_buf;
    size_t m_begin = 0;
    size_t m_end = 0;
    std::optional<FrameHeader> m_header;
    std::optional<Error> m_failed;
};

} // namespace bulkhead::rpc::qrexec
