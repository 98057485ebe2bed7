// The local agent socket between qrexec-client-vm and the agent (unix stream socket,
// default /var/run/qubes/qrexec-agent, mode 0666). qrexec frames, validated like vchan ones:
//   client → agent: MSG_HELLO, then MSG_TRIGGER_SERVICE3{target, ident "0" (the agent makes
//                   the real one), service[+arg]}
//   agent → client: MSG_HELLO, then dom0's answer with the ident as dom0 sent it:
//                   MSG_SERVICE_CONNECT{connect_domain, connect_port, ident} or
//                   MSG_SERVICE_REFUSED{ident}; then the agent closes.
// The client then is the vchan SERVER for (connect_domain, connect_port) and the CALLER.
#pragma once

#include <string_view>

namespace bulkhead::agent {

inline constexpr std::string_view default_agent_socket = "/var/run/qubes/qrexec-agent";
// The placeholder ident a client sends; the agent replaces it.
inline constexpr std::string_view client_ident_placeholder = "0";

} // namespace bulkhead::agent
