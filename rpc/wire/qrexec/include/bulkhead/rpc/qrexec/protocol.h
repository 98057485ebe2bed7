// qrexec wire constants, as Qubes' libqrexec/qrexec.h defines them (protocol v2/v3, v4's
// trigger). Little-endian {u32 type; u32 len} header, then len payload bytes.
// Used by the codec (validator, reader, writer), dom0's broker and the guest agent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bulkhead::rpc::qrexec {

enum class MsgType : uint32_t {
    // data vchan, one per process
    DataStdin = 0x190,  // client → process; len 0 = EOF
    DataStdout = 0x191, // process → client; len 0 = EOF
    DataStderr = 0x192,
    DataExitCode = 0x193, // u32 exit code, last message
    // daemon → agent
    ExecCmdline = 0x200,    // exec_params; stdio over the data vchan
    JustExec = 0x201,       // exec_params; stdio to /dev/null
    ServiceConnect = 0x202, // exec_params, cmdline = request ident
    ServiceRefused = 0x203, // service_params (ident)
    // agent → daemon
    TriggerService = 0x210,       // v2 trigger_service_params
    ConnectionTerminated = 0x211, // exec_params without cmdline: vchan port released
    TriggerService3 = 0x212,      // v3 trigger_service_params3 + service name
    TriggerService4 = 0x213,      // v4 (Qubes 4.3): adds a requested source domain
    // both
    Hello = 0x300, // peer_info; first message on every vchan (server first)
};

std::string_view msg_type_name(MsgType type);

inline constexpr uint32_t protocol_v2 = 2;
inline constexpr uint32_t protocol_v3 = 3;
inline constexpr uint32_t protocol_v4 = 4;
// What we speak and announce in HELLO. Peers v2..v4 are accepted; the session uses the lower.
inline constexpr uint32_t protocol_version = protocol_v3;
inline constexpr uint32_t oldest_supported_version = protocol_v2;

inline constexpr size_t header_size = 8;
inline constexpr size_t max_data_chunk_v2 = 4096;
inline constexpr size_t max_data_chunk_v3 = 65536;
inline constexpr size_t max_service_name_len = 65000; // with its NUL
inline constexpr size_t max_cmdline_len = 65535;      // MAX_QREXEC_CMD_LEN, with its NUL
inline constexpr size_t ident_size = 32;              // service_params.ident
inline constexpr size_t exec_params_size = 8;         // connect_domain, connect_port
inline constexpr size_t v2_service_name_size = 64;    // trigger_service_params
inline constexpr size_t v2_target_domain_size = 32;
inline constexpr size_t domain_name_size = 64; // trigger_service_params3/4 fields
inline constexpr size_t trigger2_size = v2_service_name_size + v2_target_domain_size + ident_size;
inline constexpr size_t trigger3_fixed_size = domain_name_size + ident_size;
inline constexpr size_t trigger4_fixed_size = 2 * domain_name_size + ident_size;
// The largest payload any message may carry (an exec_params with the longest command line).
inline constexpr size_t max_payload = exec_params_size + max_cmdline_len;
inline constexpr size_t max_frame = header_size + max_payload;

inline constexpr uint32_t vchan_base_port = 512; // agent's control vchan; data from 513
inline constexpr std::string_view rpc_request_command = "QUBESRPC";
inline constexpr std::string_view nogui_prefix = "nogui:";

// Exit codes Qubes reports for a call that never ran.
inline constexpr int exit_service_not_found = 127;
inline constexpr int exit_request_refused = 126;
inline constexpr int exit_problem = 125;

inline constexpr size_t max_data_chunk(uint32_t version) {
    return version >= protocol_v3 ? max_data_chunk_v3 : max_data_chunk_v2;
}

// Negotiated version, as Qubes: the lower of both; 0 when the peer is too old.
inline constexpr uint32_t negotiate(uint32_t peer_version) {
    if (peer_version < oldest_supported_version)
        return 0;
    return peer_version < protocol_version ? peer_version : protocol_version;
}

} // namespace bulkhead::rpc::qrexec
