// Shared body of the qrexec per-message fuzz targets (tests/fuzz/rpc/qrexec_*.cpp): one frame
// (8-byte header + payload) of a fixed message type goes through QrexecValidator exactly as
// FrameReader would hand it over. Whatever the validator accepts must re-encode, and the
// re-encoding must decode to the same encoding (a fixpoint): decode and encode agree.
#pragma once

#include <bulkhead/rpc/qrexec/frame_writer.h>
#include <bulkhead/rpc/qrexec/validator.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

namespace bulkhead::rpc::qrexec::fuzz {

inline void check(bool ok, char const* what) {
    if (!ok) {
        std::fprintf(stderr, "qrexec fuzz invariant failed: %s\n", what);
        std::abort();
    }
}

// The channel kind on which a message type is legal.
inline Expect expect_for(MsgType type) {
    switch (type) {
    case MsgType::ExecCmdline:
    case MsgType::JustExec:
    case MsgType::ServiceConnect:
    case MsgType::ServiceRefused:
        return Expect::FromDaemon;
    case MsgType::TriggerService:
    case MsgType::ConnectionTerminated:
    case MsgType::TriggerService3:
    case MsgType::TriggerService4:
    case MsgType::Hello:
        return Expect::FromAgent;
    default:
        return Expect::Data;
    }
}

// Validates header+payload; returns the message when both passed.
inline std::optional<ValidatedMessage> decode_frame(std::span<std::byte const> frame, Expect expect,
                                                    uint32_t version) {
    if (frame.size() < header_size)
        return std::nullopt;
    auto h = QrexecValidator::header(UntrustedBytes(frame.first(header_size)), expect, version);
    if (!h)
        return std::nullopt;
    check(h->len <= QrexecValidator::max_payload_len(h->type, version), "header len over limit");
    check(h->len + header_size <= max_frame, "header len over max_frame");
    auto rest = frame.subspan(header_size);
    rest = rest.first(std::min<size_t>(rest.size(), h->len));
    auto m = QrexecValidator::payload(*h, UntrustedBytes(rest), version);
    if (!m)
        return std::nullopt;
    check(rest.size() == h->len, "payload shorter than its header accepted");
    check(message_type(m->message) == h->type, "decoded type differs from the header's");
    return std::move(*m);
}

// The fuzz body: the input is one frame whose type field is forced to `type`.
inline void one_frame(MsgType type, uint32_t version, uint8_t const* data, size_t size) {
    std::vector<std::byte> frame(size);
    if (size)
        std::copy_n(reinterpret_cast<std::byte const*>(data), size, frame.begin());
    if (size >= 4) {
        auto t = uint32_t(type);
        for (int i = 0; i < 4; ++i)
            frame[size_t(i)] = std::byte(t >> (8 * i));
    }
    // HELLO is legal only before the version is known; everything else after.
    uint32_t at = type == MsgType::Hello ? 0 : version;
    auto m = decode_frame(frame, expect_for(type), at);
    if (!m)
        return;
    auto enc = FrameWriter::encode(m->message, version);
    check(enc.has_value(), "a validated message does not re-encode");
    check(enc->size() <= max_frame, "re-encoding larger than max_frame");
    auto again = decode_frame(*enc, expect_for(type), at);
    check(again.has_value(), "the re-encoding of a validated message is refused");
    auto enc2 = FrameWriter::encode(again->message, version);
    check(enc2.has_value() && *enc2 == *enc, "encode(decode(encode(m))) != encode(m)");
}

} // namespace bulkhead::rpc::qrexec::fuzz
