// The transport a guest program uses, as its environment says (set by the backend that
// started the domain, then passed on by the agent to what it runs):
//   BULKHEAD_VCHAN=xen  -> libxenvchan; the domain id is Xen's (xenstore "domid"), and must
//                          agree with VCHAN_DOMAIN when that is set.
//   otherwise           -> the socket vchan: VCHAN_DOMAIN and VCHAN_SOCKET_DIR.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/rpc/transport.h>

#include <memory>
#include <string>
#include <vector>

namespace bulkhead::rpc {

struct TransportConfig {
    bool xen = false;
    DomainId local = 0;
    std::string socket_dir; // socket vchan only
};

Result<TransportConfig> transport_config_from_env();
std::unique_ptr<Transport> make_transport(TransportConfig const& cfg);
// The environment entries that give a child process the same transport.
std::vector<std::string> transport_environment(TransportConfig const& cfg);

} // namespace bulkhead::rpc
