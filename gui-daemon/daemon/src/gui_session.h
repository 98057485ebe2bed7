// GuiSession: one domain's GUI connection inside GuiDaemon: its socket (frames + memfds), the
// frame reader that validates its bytes, its mapped pixel buffers and dom0's queued output.
// The domain name is dom0's (the socket it connected to).
#pragma once

#include <bulkhead/gui/model/types.h>
#include <bulkhead/gui/xcb/pixel_buffer.h>
#include <bulkhead/rpc/gui/fd_channel.h>
#include <bulkhead/rpc/gui/frame_reader.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bulkhead::gui::daemon {

struct GuiSession {
    GuiSession(std::string name, UniqueFd fd)
        : domain(std::move(name))
        , channel(std::make_unique<rpc::gui::GuiSocketChannel>(std::move(fd), 0, 6000))
        , reader(rpc::gui::Direction::FromGuest) {}

    std::string domain;
    std::unique_ptr<rpc::gui::GuiSocketChannel> channel;
    rpc::gui::GuiFrameReader reader;
    std::unordered_map<model::WindowHandle, xcb::PixelBuffer> buffers;
    std::vector<std::byte> out;
    size_t out_sent = 0;
    size_t refused = 0;
    bool resume_pending = false; // a wake-up's budget ran out: the loop calls back
    // Xen: the domain's id (from dom0's control line), and the grant references collected
    // for the next Grant region of grant_window (capped at a largest buffer's pages).
    std::optional<uint32_t> xen_domid;
    rpc::gui::WindowId grant_window = 0;
    std::vector<uint32_t> grant_refs;
};

} // namespace bulkhead::gui::daemon
