#include <bulkhead/rpc/qrexec/validator.h>

#include "le.h"

#include <algorithm>
#include <string_view>

namespace bulkhead::rpc::qrexec {

namespace {

Unexpected bad(std::string what) {
    return unexpected(Errc::Protocol, "qrexec: " + what);
}

bool known_type(uint32_t t) {
    return (t >= 0x190 && t <= 0x193) || (t >= 0x200 && t <= 0x203) || (t >= 0x210 && t <= 0x213) ||
           t == 0x300;
}

bool legal_on(MsgType type, Expect expect, uint32_t version) {
    switch (type) {
    case MsgType::Hello:
        return version == 0;
    case MsgType::ExecCmdline:
    case MsgType::JustExec:
    case MsgType::ServiceConnect:
    case MsgType::ServiceRefused:
        return expect == Expect::FromDaemon && version != 0;
    case MsgType::TriggerService:
    case MsgType::ConnectionTerminated:
        return expect == Expect::FromAgent && version != 0;
    case MsgType::TriggerService3:
        return expect == Expect::FromAgent && version >= protocol_v3;
    case MsgType::TriggerService4:
        return expect == Expect::FromAgent && version >= protocol_v4;
    case MsgType::DataStdin:
    case MsgType::DataStdout:
    case MsgType::DataStderr:
    case MsgType::DataExitCode:
        return expect == Expect::Data && version != 0;
    }
    return false;
}

// Names (domains, services, idents): printable ASCII without spaces.
bool is_name(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// A NUL-terminated string inside a fixed-size field; bytes after the NUL are padding.
Result<std::string> fixed_field(std::span<std::byte const> field, std::string_view what,
                                bool allow_empty = false) {
    auto const* chars = reinterpret_cast<char const*>(field.data());
    auto nul = std::find(chars, chars + field.size(), '\0');
    if (nul == chars + field.size())
        return bad(std::string(what) + " is not NUL-terminated");
    std::string_view s(chars, size_t(nul - chars));
    if (s.empty() && !allow_empty)
        return bad(std::string(what) + " is empty");
    if (!is_name(s))
        return bad(std::string(what) + " has characters outside printable ASCII");
    return std::string(s);
}

// A variable-length string that must fill the rest of the payload, NUL last and only there.
Result<std::string_view> tail_string(std::span<std::byte const> rest, std::string_view what) {
    if (rest.empty())
        return bad(std::string(what) + " is missing");
    auto const* chars = reinterpret_cast<char const*>(rest.data());
    if (chars[rest.size() - 1] != '\0')
        return bad(std::string(what) + " is not NUL-terminated");
    std::string_view s(chars, rest.size() - 1);
    if (s.find('\0') != std::string_view::npos)
        return bad(std::string(what) + " has an embedded NUL");
    return s;
}

template <typename Exec>
Result<Exec> decode_exec(std::span<std::byte const> p) {
    if (p.size() < exec_params_size)
        return bad("exec_params shorter than 8 bytes");
    auto cmdline = TRY(tail_string(p.subspan(exec_params_size), "command line"));
    auto colon = cmdline.find(':');
    if (colon == std::string_view::npos)
        return bad("command line has no user: prefix");
    auto user = cmdline.substr(0, colon);
    if (user.empty() || !is_name(user))
        return bad("command line user is not a name");
    Exec e;
    e.connect_domain = load_le32(p.data());
    e.connect_port = load_le32(p.data() + 4);
    e.user = std::string(user);
    e.command = std::string(cmdline.substr(colon + 1));
    return e;
}

Result<std::string> decode_service_name(std::span<std::byte const> rest) {
    auto name = TRY(tail_string(rest, "service name"));
    if (name.empty() || !is_name(name))
        return bad("service name is not a name");
    return std::string(name);
}

} // namespace

size_t QrexecValidator::max_payload_len(MsgType type, uint32_t version) {
    switch (type) {
    case MsgType::Hello:
    case MsgType::DataExitCode:
        return 4;
    case MsgType::ExecCmdline:
    case MsgType::JustExec:
        return exec_params_size + max_cmdline_len;
    case MsgType::ServiceConnect:
        return exec_params_size + ident_size;
    case MsgType::ServiceRefused:
        return ident_size;
    case MsgType::TriggerService:
        return trigger2_size;
    case MsgType::ConnectionTerminated:
        return exec_params_size;
    case MsgType::TriggerService3:
        return trigger3_fixed_size + max_service_name_len;
    case MsgType::TriggerService4:
        return trigger4_fixed_size + max_service_name_len;
    case MsgType::DataStdin:
    case MsgType::DataStdout:
    case MsgType::DataStderr:
        return max_data_chunk(version);
    }
    return 0;
}

Result<FrameHeader> QrexecValidator::header(UntrustedBytes bytes, Expect expect, uint32_t version,
                                            size_t max_frame_len) {
    auto const& b = bytes.open(key());
    if (b.size() != header_size)
        return bad("header is not 8 bytes");
    uint32_t untrusted_type = load_le32(b.data());
    uint32_t untrusted_len = load_le32(b.data() + 4);
    if (!known_type(untrusted_type))
        return bad("unknown message type " + std::to_string(untrusted_type));
    auto type = MsgType(untrusted_type);
    if (!legal_on(type, expect, version))
        return bad(std::string(msg_type_name(type)) + " is not legal here" +
                   (version == 0 ? " (before HELLO)" : ""));
    if (untrusted_len > max_payload_len(type, version))
        return bad(std::string(msg_type_name(type)) +
                   " too long: " + std::to_string(untrusted_len));
    if (size_t(untrusted_len) + header_size > max_frame_len)
        return unexpected(Errc::Limit, "qrexec: frame larger than this reader's cap");
    return FrameHeader{type, untrusted_len};
}

Result<ValidatedMessage> QrexecValidator::payload(FrameHeader const& h, UntrustedBytes bytes,
                                                  uint32_t version) {
    auto const& p = bytes.open(key());
    if (p.size() != h.len || h.len > max_payload_len(h.type, version))
        return bad("payload length does not match its header");
    auto exactly = [&](size_t n) -> Result<void> {
        if (p.size() != n)
            return bad(std::string(msg_type_name(h.type)) + " must be " + std::to_string(n) +
                       " bytes");
        return {};
    };
    switch (h.type) {
    case MsgType::Hello: {
        TRY(exactly(4));
        uint32_t peer = load_le32(p.data());
        if (negotiate(peer) == 0)
            return bad("peer protocol version " + std::to_string(peer) + " is too old");
        return ValidatedMessage{Hello{peer}};
    }
    case MsgType::ExecCmdline:
        return ValidatedMessage{TRY(decode_exec<ExecCmdline>(p))};
    case MsgType::JustExec:
        return ValidatedMessage{TRY(decode_exec<JustExec>(p))};
    case MsgType::ServiceConnect: {
        if (p.size() <= exec_params_size)
            return bad("SERVICE_CONNECT without ident");
        ServiceConnect c;
        c.connect_domain = load_le32(p.data());
        c.connect_port = load_le32(p.data() + 4);
        c.ident = TRY(fixed_field(p.subspan(exec_params_size), "ident"));
        return ValidatedMessage{std::move(c)};
    }
    case MsgType::ServiceRefused:
        TRY(exactly(ident_size));
        return ValidatedMessage{ServiceRefused{TRY(fixed_field(p, "ident"))}};
    case MsgType::TriggerService: {
        TRY(exactly(trigger2_size));
        TriggerService t;
        t.service_name = TRY(fixed_field(p.subspan(0, v2_service_name_size), "service name"));
        t.target_domain = TRY(
            fixed_field(p.subspan(v2_service_name_size, v2_target_domain_size), "target domain"));
        t.ident =
            TRY(fixed_field(p.subspan(v2_service_name_size + v2_target_domain_size), "ident"));
        return ValidatedMessage{std::move(t)};
    }
    case MsgType::TriggerService3: {
        if (p.size() <= trigger3_fixed_size)
            return bad("TRIGGER_SERVICE3 without service name");
        TriggerService3 t;
        t.target_domain = TRY(fixed_field(p.subspan(0, domain_name_size), "target domain"));
        t.ident = TRY(fixed_field(p.subspan(domain_name_size, ident_size), "ident"));
        t.service_name = TRY(decode_service_name(p.subspan(trigger3_fixed_size)));
        return ValidatedMessage{std::move(t)};
    }
    case MsgType::TriggerService4: {
        if (p.size() <= trigger4_fixed_size)
            return bad("TRIGGER_SERVICE4 without service name");
        TriggerService4 t;
        t.source_domain = TRY(fixed_field(p.subspan(0, domain_name_size), "source domain", true));
        t.target_domain =
            TRY(fixed_field(p.subspan(domain_name_size, domain_name_size), "target domain"));
        t.ident = TRY(fixed_field(p.subspan(2 * domain_name_size, ident_size), "ident"));
        t.service_name = TRY(decode_service_name(p.subspan(trigger4_fixed_size)));
        return ValidatedMessage{std::move(t)};
    }
    case MsgType::ConnectionTerminated:
        TRY(exactly(exec_params_size));
        return ValidatedMessage{ConnectionTerminated{load_le32(p.data()), load_le32(p.data() + 4)}};
    case MsgType::DataStdin:
    case MsgType::DataStdout:
    case MsgType::DataStderr: {
        DataChunk d;
        d.stream = h.type == MsgType::DataStdin    ? Stream::Stdin
                   : h.type == MsgType::DataStdout ? Stream::Stdout
                                                   : Stream::Stderr;
        d.bytes.assign(p.begin(), p.end());
        return ValidatedMessage{std::move(d)};
    }
    case MsgType::DataExitCode:
        TRY(exactly(4));
        return ValidatedMessage{ExitCode{int32_t(load_le32(p.data()))}};
    }
    return bad("unhandled message type");
}

} // namespace bulkhead::rpc::qrexec
