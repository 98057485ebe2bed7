// FrameWriter: encodes qrexec messages byte-exact as Qubes lays them out and queues them for
// a non-blocking Channel. Refuses (Errc::Invalid) to encode what a validator would reject,
// so a bug on our side never puts a malformed frame on the wire.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/rpc/channel.h>
#include <bulkhead/rpc/qrexec/messages.h>

#include <span>
#include <vector>

namespace bulkhead::rpc::qrexec {

class FrameWriter {
public:
    // One encoded frame (header + payload). version limits data chunks (v2: 4 KiB).
    static Result<std::vector<std::byte>> encode(Message const& msg,
                                                 uint32_t version = protocol_version);

    // Queues msg. Errc::Invalid if it cannot be encoded.
    Result<void> push(Message const& msg);
    // Queues bytes as MSG_DATA_* frames of at most the version's chunk size; an empty span
    // queues one empty frame (end of that stream).
    void push_data(Stream stream, std::span<std::byte const> bytes);

    // Writes as much of the queue as the channel takes. True when the queue is empty.
    Result<bool> flush(Channel& ch);
    // Blocking flush with a deadline (Errc::Timeout).
    Result<void> flush_all(Channel& ch, std::chrono::milliseconds timeout);

    bool pending() const { return m_sent < m_out.size(); }
    size_t queued() const { return m_out.size() - m_sent; }
    // The negotiated version (after HELLO); caps data chunks.
    void set_version(uint32_t version) { m_version = version; }
    uint32_t version() const { return m_version; }

private:
    std::vector<std::byte> m_out;
    size_t m_sent = 0;
    uint32_t m_version = protocol_version;
};

} // namespace bulkhead::rpc::qrexec
