#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/gui_agent/guest_clipboard.h>
#include <bulkhead/gui_agent/gui_agent.h>
#include <bulkhead/gui_agent/outbox.h>
#include <bulkhead/gui_agent/window_tracker.h>
#include <bulkhead/rpc/gui/frame_reader.h>
#include <bulkhead/rpc/gui/limits.h>
#include <bulkhead/rpc/xen/xen_vchan.h>

#include <optional>
#include <thread>

namespace bulkhead::gui_agent {

namespace rg = rpc::gui;

namespace {
Logger const log{"gui-agent"};
} // namespace

Result<std::unique_ptr<rg::GuiSocketChannel>> connect_to_dom0(std::string const& path,
                                                              std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto fd = sys::unix_connect(path, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd)
            return std::make_unique<rg::GuiSocketChannel>(std::move(*fd), 0, gui_port);
        auto e = fd.error().sys_errno();
        if ((e != ENOENT && e != ECONNREFUSED) || std::chrono::steady_clock::now() >= deadline)
            return unexpected(fd.error().code(),
                              "gui-agent: connecting to " + path + ": " + fd.error().message());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

namespace {

Result<std::unique_ptr<rpc::Channel>> connect_xen(std::chrono::milliseconds timeout) {
    auto xen = TRY(rpc::XenTransport::from_xenstore());
    return xen.connect(0, gui_port, timeout);
}

} // namespace

Result<void> run_gui_agent(GuiAgentOptions const& options) {
    auto tracker = TRY(WindowTracker::connect(options.display));
    auto clipboard = TRY(GuestClipboard::connect(options.display, rg::Limits{}.max_clipboard));
    std::unique_ptr<rpc::Channel> channel_ptr;
    if (options.xen) {
        tracker.set_sharing(Sharing::Grants);
        channel_ptr = TRY(connect_xen(options.connect_timeout));
    } else {
        channel_ptr = TRY(connect_to_dom0(options.socket, options.connect_timeout));
    }
    auto& channel = *channel_ptr;
    auto loop = TRY(EventLoop::create());
    Outbox out;
    rg::GuiFrameReader reader(rg::Direction::FromDaemon);
    std::optional<Error> failed;
    auto stop = [&](Error e) {
        if (!failed)
            failed = std::move(e);
        loop->stop();
    };
    TRY(out.push(0, rg::Hello{}));
    TRY(tracker.start(out));

    auto flush = [&] {
        if (auto r = out.flush(channel); !r)
            return stop(std::move(r).error());
        auto want = out.empty() ? rpc::WantWrite::No : rpc::WantWrite::Yes;
        (void)loop->modify(channel.readiness_fd(), channel.watch_events(want));
    };
    auto pump_x = [&] {
        if (auto r = tracker.dispatch(out); !r)
            return stop(std::move(r).error());
        if (auto r = clipboard.dispatch(out); !r)
            return stop(std::move(r).error());
        flush();
    };
    auto apply = [&](rg::ValidatedMessage const& m) -> Result<void> {
        if (std::holds_alternative<rg::ClipboardRequest>(m.message))
            return clipboard.request(out);
        if (auto const* data = std::get_if<rg::ClipboardData>(&m.message)) {
            clipboard.set(data->bytes);
            return {};
        }
        return tracker.apply(m);
    };
    auto from_dom0 = [&](uint32_t) {
        if (auto r = channel.acknowledge(); !r) // (Xen: consumes the event channel's notice)
            return stop(std::move(r).error());
        // Everything buffered is applied: the reader's buffer makes no fd readable.
        while (!failed) {
            auto m = reader.next(channel);
            if (!m)
                return stop(std::move(m).error());
            if (!*m)
                break;
            if (auto r = apply(**m); !r)
                return stop(std::move(r).error());
        }
        pump_x();
    };
    TRY(loop->watch(channel.readiness_fd(), channel.watch_events(rpc::WantWrite::Yes), from_dom0));
    TRY(loop->watch(tracker.fd(), EventLoop::Readable, [&](uint32_t) { pump_x(); }));
    TRY(loop->watch(clipboard.fd(), EventLoop::Readable, [&](uint32_t) { pump_x(); }));
    // Events xcb queued while waiting for a reply do not make its fd readable: look again
    // every few milliseconds.
    std::function<void()> tick = [&] {
        pump_x();
        loop->add_timer(std::chrono::milliseconds(10), tick);
    };
    loop->add_timer(std::chrono::milliseconds(10), tick);
    LOG_INFO(log, "connected", {"to", options.xen ? "dom0 (xen vchan)" : options.socket},
             {"windows", tracker.window_count()}, {"xshm", tracker.uses_xshm() ? "yes" : "no"});
    flush();
    TRY(loop->run());
    if (failed)
        return *failed;
    return {};
}

} // namespace bulkhead::gui_agent
