#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>
#include <bulkhead/rpc/socket_vchan.h>
#include <bulkhead/rpc/xen/env_transport.h>
#include <bulkhead/rpc/xen/xen_vchan.h>

namespace bulkhead::rpc {

Result<TransportConfig> transport_config_from_env() {
    TransportConfig cfg;
    auto kind = sys::getenv("BULKHEAD_VCHAN");
    if (kind && *kind == "xen") {
        auto xen = TRY(XenTransport::from_xenstore());
        cfg.xen = true;
        cfg.local = xen.local_domain();
        if (auto dom = sys::getenv("VCHAN_DOMAIN")) {
            auto id = text::parse_u64(*dom);
            if (!id || *id != cfg.local)
                return unexpected(Errc::Invalid, "VCHAN_DOMAIN disagrees with Xen's domain id " +
                                                     std::to_string(cfg.local));
        }
        return cfg;
    }
    if (kind && !kind->empty() && *kind != "socket")
        return unexpected(Errc::Invalid, "BULKHEAD_VCHAN must be xen or socket");
    auto socket = TRY(SocketTransport::from_env());
    cfg.local = socket.local_domain();
    cfg.socket_dir = socket.dir();
    return cfg;
}

std::unique_ptr<Transport> make_transport(TransportConfig const& cfg) {
    if (cfg.xen)
        return std::make_unique<XenTransport>(cfg.local);
    return std::make_unique<SocketTransport>(cfg.socket_dir, cfg.local);
}

std::vector<std::string> transport_environment(TransportConfig const& cfg) {
    std::vector<std::string> env{"VCHAN_DOMAIN=" + std::to_string(cfg.local)};
    if (cfg.xen)
        env.emplace_back("BULKHEAD_VCHAN=xen");
    else
        env.push_back("VCHAN_SOCKET_DIR=" + cfg.socket_dir);
    return env;
}

} // namespace bulkhead::rpc
