// Typed, validated qrexec messages: what QrexecValidator produces from guest bytes and what
// FrameWriter encodes. Every value here has passed validation (names are printable ASCII
// without spaces, lengths within Qubes' limits); domain ids come from the channel, not here.
#pragma once

#include <bulkhead/rpc/channel.h>
#include <bulkhead/rpc/qrexec/protocol.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace bulkhead::rpc::qrexec {

struct Hello {
    uint32_t version = protocol_version;
};

// exec_params for MSG_EXEC_CMDLINE / MSG_JUST_EXEC: "user:command" split at the first ':'.
struct ExecCmdline {
    DomainId connect_domain = 0;
    Port connect_port = 0;
    std::string user;
    std::string command;
};
struct JustExec {
    DomainId connect_domain = 0;
    Port connect_port = 0;
    std::string user;
    std::string command;
};
// MSG_SERVICE_CONNECT: exec_params whose cmdline is the request ident.
struct ServiceConnect {
    DomainId connect_domain = 0;
    Port connect_port = 0;
    std::string ident;
};
struct ServiceRefused {
    std::string ident;
};
// v2 trigger: fixed 64-byte service name.
struct TriggerService {
    std::string service_name;
    std::string target_domain;
    std::string ident;
};
struct TriggerService3 {
    std::string target_domain;
    std::string ident;
    std::string service_name;
};
struct TriggerService4 {
    std::string source_domain; // empty = no requested source
    std::string target_domain;
    std::string ident;
    std::string service_name;
};
struct ConnectionTerminated {
    DomainId domain = 0;
    Port port = 0;
};

enum class Stream { Stdin, Stdout, Stderr };
// MSG_DATA_STDIN/STDOUT/STDERR; empty bytes = end of that stream.
struct DataChunk {
    Stream stream = Stream::Stdout;
    std::vector<std::byte> bytes;
};
struct ExitCode {
    int32_t code = 0;
};

using Message =
    std::variant<Hello, ExecCmdline, JustExec, ServiceConnect, ServiceRefused, TriggerService,
                 TriggerService3, TriggerService4, ConnectionTerminated, DataChunk, ExitCode>;

// A message that came through QrexecValidator.
struct ValidatedMessage {
    Message message;
};

MsgType message_type(Message const& m);

} // namespace bulkhead::rpc::qrexec
