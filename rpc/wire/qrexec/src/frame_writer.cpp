#include <bulkhead/rpc/qrexec/frame_writer.h>

#include "le.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace bulkhead::rpc::qrexec {

namespace {

Unexpected invalid(std::string what) {
    return unexpected(Errc::Invalid, "qrexec encode: " + what);
}

bool is_name(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

class Encoder {
public:
    explicit Encoder(std::vector<std::byte>& out, MsgType type)
        : m_out(out)
        , m_start(out.size()) {
        m_out.resize(m_start + header_size);
        store_le32(m_out.data() + m_start, uint32_t(type));
    }
    void u32(uint32_t v) {
        size_t at = m_out.size();
        m_out.resize(at + 4);
        store_le32(m_out.data() + at, v);
    }
    void bytes(std::span<std::byte const> b) { m_out.insert(m_out.end(), b.begin(), b.end()); }
    void text(std::string_view s) { bytes(std::as_bytes(std::span(s.data(), s.size()))); }
    void nul() { m_out.push_back(std::byte{0}); }
    // A NUL-terminated string in a zero-padded field of `size` bytes.
    Result<void> field(std::string_view s, size_t size, std::string_view what,
                       bool allow_empty = false) {
        if (s.size() >= size)
            return invalid(std::string(what) + " does not fit its field");
        if ((s.empty() && !allow_empty) || !is_name(s))
            return invalid(std::string(what) + " is not a name");
        text(s);
        m_out.resize(m_out.size() + (size - s.size()), std::byte{0});
        return {};
    }
    Result<void> finish() {
        size_t len = m_out.size() - m_start - header_size;
        if (len > max_payload)
            return invalid("payload too long");
        store_le32(m_out.data() + m_start + 4, uint32_t(len));
        return {};
    }
    void rollback() { m_out.resize(m_start); }

private:
    std::vector<std::byte>& m_out;
    size_t m_start;
};

Result<void> service_name(Encoder& e, std::string_view name) {
    if (name.empty() || !is_name(name) || name.size() + 1 > max_service_name_len)
        return invalid("service name");
    e.text(name);
    e.nul();
    return {};
}

template <typename Exec>
Result<void> exec(Encoder& e, Exec const& x) {
    if (x.user.empty() || !is_name(x.user) || x.user.find(':') != std::string::npos)
        return invalid("user is not a name");
    if (x.command.find('\0') != std::string::npos)
        return invalid("command has a NUL");
    if (x.user.size() + 1 + x.command.size() + 1 > max_cmdline_len)
        return invalid("command line too long");
    e.u32(x.connect_domain);
    e.u32(x.connect_port);
    e.text(x.user);
    e.text(":");
    e.text(x.command);
    e.nul();
    return {};
}

Result<void> encode_into(std::vector<std::byte>& out, Message const& msg, uint32_t version) {
    Encoder e(out, message_type(msg));
    auto body = std::visit(
        [&](auto const& m) -> Result<void> {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, Hello>) {
                e.u32(m.version);
            } else if constexpr (std::is_same_v<T, ExecCmdline> || std::is_same_v<T, JustExec>) {
                TRY(exec(e, m));
            } else if constexpr (std::is_same_v<T, ServiceConnect>) {
                e.u32(m.connect_domain);
                e.u32(m.connect_port);
                TRY(e.field(m.ident, ident_size, "ident"));
            } else if constexpr (std::is_same_v<T, ServiceRefused>) {
                TRY(e.field(m.ident, ident_size, "ident"));
            } else if constexpr (std::is_same_v<T, TriggerService>) {
                TRY(e.field(m.service_name, v2_service_name_size, "service name"));
                TRY(e.field(m.target_domain, v2_target_domain_size, "target domain"));
                TRY(e.field(m.ident, ident_size, "ident"));
            } else if constexpr (std::is_same_v<T, TriggerService3>) {
                if (version < protocol_v3)
                    return invalid("TRIGGER_SERVICE3 needs protocol v3");
                TRY(e.field(m.target_domain, domain_name_size, "target domain"));
                TRY(e.field(m.ident, ident_size, "ident"));
                TRY(service_name(e, m.service_name));
            } else if constexpr (std::is_same_v<T, TriggerService4>) {
                if (version < protocol_v4)
                    return invalid("TRIGGER_SERVICE4 needs protocol v4");
                TRY(e.field(m.source_domain, domain_name_size, "source domain", true));
                TRY(e.field(m.target_domain, domain_name_size, "target domain"));
                TRY(e.field(m.ident, ident_size, "ident"));
                TRY(service_name(e, m.service_name));
            } else if constexpr (std::is_same_v<T, ConnectionTerminated>) {
                e.u32(m.domain);
                e.u32(m.port);
            } else if constexpr (std::is_same_v<T, DataChunk>) {
                if (m.bytes.size() > max_data_chunk(version))
                    return invalid("data chunk larger than the protocol allows");
                e.bytes(m.bytes);
            } else if constexpr (std::is_same_v<T, ExitCode>) {
                e.u32(uint32_t(m.code));
            }
            return {};
        },
        msg);
    if (body)
        body = e.finish();
    if (!body)
        e.rollback();
    return body;
}

} // namespace

Result<std::vector<std::byte>> FrameWriter::encode(Message const& msg, uint32_t version) {
    std::vector<std::byte> out;
    TRY(encode_into(out, msg, version));
    return out;
}

Result<void> FrameWriter::push(Message const& msg) {
    return encode_into(m_out, msg, m_version);
}

void FrameWriter::push_data(Stream stream, std::span<std::byte const> bytes) {
    auto type = stream == Stream::Stdin    ? MsgType::DataStdin
                : stream == Stream::Stdout ? MsgType::DataStdout
                                           : MsgType::DataStderr;
    size_t chunk = max_data_chunk(m_version);
    do {
        size_t n = std::min(chunk, bytes.size());
        size_t at = m_out.size();
        m_out.resize(at + header_size);
        store_le32(m_out.data() + at, uint32_t(type));
        store_le32(m_out.data() + at + 4, uint32_t(n));
        m_out.insert(m_out.end(), bytes.begin(), bytes.begin() + ptrdiff_t(n));
        bytes = bytes.subspan(n);
    } while (!bytes.empty());
}

Result<bool> FrameWriter::flush(Channel& ch) {
    while (m_sent < m_out.size()) {
        size_t n = TRY(ch.write(std::span(m_out).subspan(m_sent)));
        if (n == 0)
            break;
        m_sent += n;
    }
    if (m_sent == m_out.size()) {
        m_out.clear();
        m_sent = 0;
        return true;
    }
    if (m_sent > (1u << 20) && m_sent * 2 > m_out.size()) {
        m_out.erase(m_out.begin(), m_out.begin() + ptrdiff_t(m_sent));
        m_sent = 0;
    }
    return false;
}

Result<void> FrameWriter::flush_all(Channel& ch, std::chrono::milliseconds timeout) {
    auto rest = std::span<std::byte const>(m_out).subspan(m_sent);
    TRY(write_all(ch, rest, timeout));
    m_out.clear();
    m_sent = 0;
    return {};
}

} // namespace bulkhead::rpc::qrexec
