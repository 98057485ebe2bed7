// bulkhead-gui-agent [--display :N] [--socket PATH]: the GUI agent of a domain with a display.
// Defaults: $DISPLAY, and dom0's GUI socket in the domain's vchan directory,
// $VCHAN_SOCKET_DIR/vchan.0.$VCHAN_DOMAIN.6000.sock (dom0 serves it; the domain connects);
// on Xen (BULKHEAD_VCHAN=xen), a libxenvchan client of dom0's port 6000, buffers in grants.
#include <bulkhead/base/log.h>
#include <bulkhead/gui_agent/gui_agent.h>
#include <bulkhead/rpc/socket_vchan.h>
#include <bulkhead/rpc/xen/env_transport.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace bulkhead;

int main(int argc, char** argv) {
    gui_agent::GuiAgentOptions o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if ((a == "--display" || a == "--socket") && i + 1 < argc)
            (a == "--display" ? o.display : o.socket) = argv[++i];
        else {
            std::fprintf(stderr, "usage: bulkhead-gui-agent [--display :N] [--socket PATH]\n");
            return 2;
        }
    }
    auto cfg = rpc::transport_config_from_env();
    if (o.socket.empty() && cfg && cfg->xen) {
        o.xen = true; // BULKHEAD_VCHAN=xen: dom0 relays its GUI vchan (port 6000)
    } else if (o.socket.empty()) {
        auto t = rpc::SocketTransport::from_env();
        if (!t) {
            std::fprintf(stderr, "bulkhead-gui-agent: %s\n", t.error().message().c_str());
            return 2;
        }
        o.socket =
            rpc::SocketTransport::socket_path(t->dir(), 0, t->local_domain(), gui_agent::gui_port);
    }
    auto r = gui_agent::run_gui_agent(o);
    if (!r && r.error().code() != Errc::Closed) {
        std::fprintf(stderr, "bulkhead-gui-agent: %s\n", r.error().message().c_str());
        return 1;
    }
    return 0;
}
