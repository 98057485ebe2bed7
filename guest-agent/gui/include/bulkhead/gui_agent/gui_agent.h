// The gui-agent's main loop: the domain's X server on one side (WindowTracker), dom0's
// gui-daemon on the other: a GuiSocketChannel in the sandbox (GUI frames, memfds beside
// ShmRegion), a libxenvchan channel to dom0 on Xen (window buffers in grant references). Sends
// HELLO first, then every window change; reads dom0's messages through GuiFrameReader
// (Direction::FromDaemon) and applies them; the clipboard messages go to GuestClipboard.
// Runs until either side goes away.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/rpc/gui/fd_channel.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace bulkhead::gui_agent {

// GUI socket vchan port (as Qubes' gui vchan): dom0 is the server, the domain the client.
inline constexpr uint32_t gui_port = 6000;

struct GuiAgentOptions {
    std::string display; // empty: $DISPLAY
    std::string socket;  // dom0's GUI socket as seen in the domain (sandbox)
    bool xen = false;    // instead: libxenvchan to dom0's port gui_port, buffers in grants
    std::chrono::milliseconds connect_timeout{30000};
};

// Connects to dom0's socket, retrying while it is missing or refuses, until timeout.
Result<std::unique_ptr<rpc::gui::GuiSocketChannel>>
connect_to_dom0(std::string const& path, std::chrono::milliseconds timeout);

// Errc::Closed when dom0 closed the session, other errors when something broke.
Result<void> run_gui_agent(GuiAgentOptions const& options);

} // namespace bulkhead::gui_agent
