// XenNetwork: the xen backend's network half. A domain's link is a vif whose backend is its
// netvm (a driver domain: the netvm's netback serves it, the netvm's bulkhead-xen-net plugs
// its end), or dom0 for sys-net's uplink. Rulesets go to the netvm through xenstore and come
// back acknowledged. Every xenstore key is in xen_plan.h's network contract.
#pragma once

#include <bulkhead/dom0/hypervisor/hypervisor.h>
#include <bulkhead/dom0/hypervisor/net_tools.h>
#include <bulkhead/dom0/hypervisor/xen/xen_plan.h>

#include <map>
#include <mutex>

extern "C" {
struct libxl__ctx;
struct xs_handle;
}

namespace bulkhead::dom0::xen {

class XenNetwork {
public:
    // ctx is the backend's (libxl is thread-safe); xenstore has its own handle here.
    static Result<std::unique_ptr<XenNetwork>> open(libxl__ctx* ctx, XenOptions const& opts);
    ~XenNetwork();

    Result<NetworkLinkInfo> attach(DomId id, NetworkLink const& link);
    Result<void> detach(DomId id);
    Result<void> apply_rules(DomId netvm, std::string const& ruleset);
    // A domain died: the vifs it was the backend of (in `domains`) are taken away at once, so
    // that each client sees its eth0 go, as when a netvm's namespace ends on the sandbox.
    void backend_died(DomId dead, std::vector<DomId> const& domains);

private:
    XenNetwork(libxl__ctx* ctx, xs_handle* xs, XenOptions const& opts);
    Result<void> write(std::string const& path, std::string const& value);
    std::optional<std::string> read(std::string const& path);
    void remove(std::string const& path);
    Result<void> wait_connected(DomId id, DomId backend);

    libxl__ctx* m_ctx;
    xs_handle* m_xs;
    XenOptions m_opts;
    std::mutex m_mutex; // m_xs, m_gen
    uint64_t m_gen = 0;
    net::Uplink m_uplink;
};

} // namespace bulkhead::dom0::xen
