#include <bulkhead/rpc/gui/frame_reader.h>

#include <algorithm>
#include <cstring>

namespace bulkhead::rpc::gui {

GuiFrameReader::GuiFrameReader(Direction direction, Limits limits)
    : m_direction(direction)
    , m_limits(limits)
    , m_buf(header_size +
            std::max({title_field_size, max_grant_refs_per_message * 4, limits.max_clipboard})) {}

Result<std::optional<ValidatedMessage>> GuiFrameReader::fail(Error e) {
    m_failed = e;
    return e;
}

Result<std::optional<ValidatedMessage>> GuiFrameReader::parse_one() {
    size_t avail = m_end - m_begin;
    if (!m_header) {
        if (avail < header_size)
            return std::optional<ValidatedMessage>();
        auto h = GuiValidator::header(
            UntrustedBytes(std::span<std::byte const>(m_buf.data() + m_begin, header_size)),
            m_direction, m_session, m_limits);
        if (!h)
            return fail(std::move(h).error());
        m_header = *h;
    }
    if (avail < header_size + m_header->len)
        return std::optional<ValidatedMessage>();
    auto msg = GuiValidator::payload(*m_header,
                                     UntrustedBytes(std::span<std::byte const>(
                                         m_buf.data() + m_begin + header_size, m_header->len)),
                                     m_limits);
    if (!msg)
        return fail(std::move(msg).error());
    m_begin += header_size + m_header->len;
    m_header.reset();
    if (m_begin == m_end)
        m_begin = m_end = 0;
    if (auto const* hello = std::get_if<Hello>(&msg->message)) {
        auto minor = negotiate(*hello);
        if (!minor)
            return fail(std::move(minor).error());
        m_minor = *minor;
        m_session = Session::Established;
    }
    return std::optional<ValidatedMessage>(std::move(*msg));
}

// Makes sure the current frame fits behind m_begin; returns the free space at the tail.
size_t GuiFrameReader::make_room() {
    size_t need = header_size + (m_header ? m_header->len : 0);
    if (m_begin > 0 && m_begin + need > m_buf.size()) {
        std::memmove(m_buf.data(), m_buf.data() + m_begin, m_end - m_begin);
        m_end -= m_begin;
        m_begin = 0;
    }
    return m_buf.size() - m_end;
}

Result<std::optional<ValidatedMessage>> GuiFrameReader::next(Channel& ch) {
    if (m_failed)
        return *m_failed;
    for (;;) {
        auto msg = TRY(parse_one());
        if (msg)
            return msg;
        size_t room = make_room();
        auto n = ch.read(std::span(m_buf.data() + m_end, room));
        if (!n) {
            if (n.error().code() == Errc::Closed && m_end > m_begin)
                return fail(Error(Errc::Protocol, "gui: stream ended mid-frame"));
            return fail(std::move(n).error());
        }
        if (*n == 0)
            return std::optional<ValidatedMessage>();
        m_end += *n;
    }
}

Result<std::optional<ValidatedMessage>> GuiFrameReader::next(std::span<std::byte const>& input) {
    if (m_failed)
        return *m_failed;
    for (;;) {
        auto msg = TRY(parse_one());
        if (msg || input.empty())
            return msg;
        size_t n = std::min(make_room(), input.size());
        std::memcpy(m_buf.data() + m_end, input.data(), n);
        m_end += n;
        input = input.subspan(n);
    }
}

} // namespace bulkhead::rpc::gui
