// GuiFrameReader: accumulates GUI protocol bytes from a Channel and yields validated messages,
// keeping the session state (HELLO first; version negotiated from the peer's HELLO). Used by
// dom0's gui-daemon per domain (Direction::FromGuest) and by the guest agent. The buffer is
// allocated once: header + the largest payload the limits allow (the clipboard cap); a header
// announcing more is refused before anything is read for it. After an error the reader stays
// failed: the caller ends the session.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/rpc/channel.h>
#include <bulkhead/rpc/gui/validator.h>

#include <optional>
#include <span>
#include <vector>

namespace bulkhead::rpc::gui {

class GuiFrameReader {
public:
    explicit GuiFrameReader(Direction direction, Limits limits = {});

    // The next complete message, or nullopt when the channel has nothing more right now.
    // Errc::Closed = clean EOF between frames; Errc::Protocol = EOF mid-frame or a refused
    // message; Errc::Limit = clipboard over the cap; Errc::Unsupported = another major version.
    Result<std::optional<ValidatedMessage>> next(Channel& ch);
    // The same from bytes in memory (tests, fuzzing); consumes from input what it buffers.
    Result<std::optional<ValidatedMessage>> next(std::span<std::byte const>& input);

    Session session() const { return m_session; }
    // The negotiated minor version (valid once session() == Established).
    uint16_t minor() const { return m_minor; }
    size_t buffered() const { return m_end - m_begin; }
    size_t capacity() const { return m_buf.size(); }

private:
    Result<std::optional<ValidatedMessage>> parse_one();
    size_t make_room();
    Result<std::optional<ValidatedMessage>> fail(Error e);

    Direction m_direction;
    Limits m_limits;
    Session m_session = Session::BeforeHello;
    uint16_t m_minor = 0;
    std::vector<std::byte> m_buf;
    size_t m_begin = 0;
    size_t m_end = 0;
    std::optional<FrameHeader> m_header;
    std::optional<Error> m_failed;
};

} // namespace bulkhead::rpc::gui
