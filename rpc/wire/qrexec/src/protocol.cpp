#include <bulkhead/rpc/qrexec/messages.h>
#include <bulkhead/rpc/qrexec/protocol.h>

namespace bulkhead::rpc::qrexec {

std::string_view msg_type_name(MsgType type) {
    switch (type) {
    case MsgType::DataStdin:
        return "MSG_DATA_STDIN";
    case MsgType::DataStdout:
        return "MSG_DATA_STDOUT";
    case MsgType::DataStderr:
        return "MSG_DATA_STDERR";
    case MsgType::DataExitCode:
        return "MSG_DATA_EXIT_CODE";
    case MsgType::ExecCmdline:
        return "MSG_EXEC_CMDLINE";
    case MsgType::JustExec:
        return "MSG_JUST_EXEC";
    case MsgType::ServiceConnect:
        return "MSG_SERVICE_CONNECT";
    case MsgType::ServiceRefused:
        return "MSG_SERVICE_REFUSED";
    case MsgType::TriggerService:
        return "MSG_TRIGGER_SERVICE";
    case MsgType::ConnectionTerminated:
        return "MSG_CONNECTION_TERMINATED";
    case MsgType::TriggerService3:
        return "MSG_TRIGGER_SERVICE3";
    case MsgType::TriggerService4:
        return "MSG_TRIGGER_SERVICE4";
    case MsgType::Hello:
        return "MSG_HELLO";
    }
    return "MSG_UNKNOWN";
}

MsgType message_type(Message const& m) {
    struct {
        MsgType operator()(Hello const&) const { return MsgType::Hello; }
        MsgType operator()(ExecCmdline const&) const { return MsgType::ExecCmdline; }
        MsgType operator()(JustExec const&) const { return MsgType::JustExec; }
        MsgType operator()(ServiceConnect const&) const { return MsgType::ServiceConnect; }
        MsgType operator()(ServiceRefused const&) const { return MsgType::ServiceRefused; }
        MsgType operator()(TriggerService const&) const { return MsgType::TriggerService; }
        MsgType operator()(TriggerService3 const&) const { return MsgType::TriggerService3; }
        MsgType operator()(TriggerService4 const&) const { return MsgType::TriggerService4; }
        MsgType operator()(ConnectionTerminated const&) const {
            return MsgType::ConnectionTerminated;
        }
        MsgType operator()(DataChunk const& d) const {
            return d.stream == Stream::Stdin    ? MsgType::DataStdin
                   : d.stream == Stream::Stdout ? MsgType::DataStdout
                                                : MsgType::DataStderr;
        }
        MsgType operator()(ExitCode const&) const { return MsgType::DataExitCode; }
    } visitor;
    return std::visit(visitor, m);
}

} // namespace bulkhead::rpc::qrexec
