#include <bulkhead/gui_agent/outbox.h>
#include <bulkhead/rpc/gui/encode.h>

namespace bulkhead::gui_agent {

Result<void> Outbox::room() {
    if (m_bytes > m_max)
        return unexpected(Errc::Limit, "gui-agent: dom0 is not reading (outbox full)");
    return {};
}

Result<void> Outbox::push(rpc::gui::WindowId window, rpc::gui::Message const& message) {
    TRY(room());
    if (m_segments.empty())
        m_segments.emplace_back();
    auto& seg = m_segments.back();
    size_t before = seg.bytes.size();
    rpc::gui::encode_to(seg.bytes, window, message);
    m_bytes += seg.bytes.size() - before;
    return {};
}

Result<void> Outbox::push_with_fd(rpc::gui::WindowId window, rpc::gui::Message const& message,
                                  UniqueFd fd) {
    TRY(room());
    Segment seg;
    rpc::gui::encode_to(seg.bytes, window, message);
    seg.fd = std::move(fd);
    m_bytes += seg.bytes.size();
    m_segments.push_back(std::move(seg));
    m_segments.emplace_back(); // later frames must not join the fd's segment after a short write
    return {};
}

Result<void> Outbox::flush(rpc::Channel& ch) {
    while (!m_segments.empty()) {
        auto& seg = m_segments.front();
        if (seg.sent == seg.bytes.size()) {
            m_segments.pop_front();
            continue;
        }
        std::span<std::byte const> rest(seg.bytes.data() + seg.sent, seg.bytes.size() - seg.sent);
        auto* socket = dynamic_cast<rpc::gui::GuiSocketChannel*>(&ch);
        if (seg.fd && !socket)
            return unexpected(Errc::Unsupported, "gui-agent: this channel cannot pass a memfd");
        size_t n = TRY(seg.fd ? socket->write_with_fd(rest, seg.fd.get()) : ch.write(rest));
        if (n == 0)
            return {};
        seg.fd.reset(); // the kernel holds it now
        seg.sent += n;
        m_bytes -= n;
    }
    return {};
}

} // namespace bulkhead::gui_agent
