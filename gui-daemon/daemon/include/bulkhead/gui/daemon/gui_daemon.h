// GuiDaemon: dom0's GUI main loop (bulkhead-guid). One listening socket per domain, made and
// named by dom0, so a connection's domain is the socket it came in on, never anything it
// sends. Each domain's bytes go through GuiFrameReader (GuiValidator) into the Desktop; the
// memfd beside each ShmRegion is mapped as a PixelBuffer; XcbCompositor shows the windows on
// dom0's X display and turns its input into messages back to the focused domain.
// One domain cannot stall another: sockets are non-blocking, each wake-up reads a bounded
// number of messages, output to a domain that does not read is capped (then it is cut off).
#pragma once

#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/result.h>
#include <bulkhead/gui/model/desktop.h>
#include <bulkhead/gui/xcb/compositor.h>
#include <bulkhead/policy/system_info.h>

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::gui::daemon {

class ClipboardPolicy;
class GuiSession;

// What dom0 knows about a domain with a display: its name and label (from the store), the
// socket path only that domain can reach (bound into its vchan directory), and its class and
// tags for the clipboard's policy (@type:, @tag: rules). On Xen, its domain id: the domain
// whose grant references its windows' buffers are mapped from (dom0 relays the domain's vchan
// to the socket). Without it, a Grant region is refused.
struct GuiDomain {
    std::string name;
    model::Label label;
    std::string socket;
    policy::DomainType type = policy::DomainType::AppVM;
    std::vector<std::string> tags;
    std::optional<uint32_t> xen_domid;
};

// One control line, parsed (see GuiDaemon::watch_control): names [A-Za-z0-9_.-], at most 64;
// a known label; an absolute socket path; type= a Qubes class, tags= names as the policy
// allows them, xen= a domain id 1..32751. Errc::Invalid for anything else.
struct ControlCommand {
    enum class Kind { Add, Remove } kind;
    GuiDomain domain; // Remove: only the name
};
Result<ControlCommand> parse_control_line(std::string_view line);

struct GuiDaemonOptions {
    std::string display; // dom0's X display; empty: $DISPLAY
    std::vector<GuiDomain> domains;
    size_t max_output_bytes = 1u << 20; // queued for a domain that does not read: cut off past it
    size_t messages_per_wakeup = 512;   // then the loop serves the others first
    size_t max_refused = 1000;          // refused messages before a session is ended
    model::Config config;               // screen size is taken from the display
    // qrexec policy directories for qubes.ClipboardPaste (first basename wins), re-read when
    // a file changes; bulkheadd passes its own --policy-dir list.
    std::vector<std::string> policy_dirs{"/etc/qubes/policy.d"};
    // If set, each notice (clipboard events, a domain cut off) replaces this file with one
    // model::format_notice_record() line, for dom0's tray ($BULKHEAD_ROOT/run/clipboard-notice).
    std::string notice_file;
};

// Why a session ends: the domain went away, or it broke a rule (then the user is told).
enum class BrokeRules { No, Yes };

class GuiDaemon {
public:
    static Result<std::unique_ptr<GuiDaemon>> create(GuiDaemonOptions options);
    ~GuiDaemon();

    EventLoop& loop() { return *m_loop; }
    Result<void> run() { return m_loop->run(); }
    void stop() { m_loop->stop(); }

    // Domains can come and go while it runs (a domain started or halted). add_domain
    // listens on the domain's socket; remove_domain ends its session (its windows go), stops
    // listening and removes the socket file.
    Result<void> add_domain(GuiDomain const& domain);
    void remove_domain(std::string const& name);
    // dom0's control stream (bulkheadd's pipe, trusted): one command a line,
    //   add NAME LABEL SOCKET [type=CLASS] [tags=TAG,TAG...] [xen=DOMID]
    //                            (LABEL: red orange yellow green gray blue purple black)
    //   remove NAME
    // A line it cannot use is logged and skipped; EOF stops the daemon (dom0 went away).
    Result<void> watch_control(UniqueFd fd);

    model::Desktop& desktop() { return m_desktop; }
    xcb::XcbCompositor& compositor() { return m_compositor; }
    bool connected(std::string const& domain) const;
    // Sessions that ended because the domain broke a rule (cut off, bad bytes, not reading).
    uint64_t sessions_ended() const { return m_sessions_ended; }

private:
    GuiDaemon(GuiDaemonOptions options, std::unique_ptr<EventLoop> loop, model::Desktop desktop,
              xcb::XcbCompositor compositor, std::shared_ptr<ClipboardPolicy> clipboard_policy);
    Result<void> listen(GuiDomain const& d);
    void on_control();
    void accept(GuiDomain const& d, int listen_fd);
    void on_readable(std::string const& domain);
    void flush_output(std::string const& domain);
    void end_session(std::string const& domain, std::string const& why, BrokeRules broke);
    void notice(model::Notify const& n);
    void perform(model::Desktop::Actions actions);
    Result<void> collect_grants(GuiSession& s, rpc::gui::WindowId window,
                                std::vector<uint32_t> const& refs);
    Result<xcb::PixelBuffer> map_grants(GuiSession& s, rpc::gui::WindowId window,
                                        rpc::gui::ShmRegion const& region);
    void on_x_events();
    void frame();
    void paint(std::vector<model::Repaint> const& repaints);
    void tick();

    GuiDaemonOptions m_options;
    std::unique_ptr<EventLoop> m_loop;
    model::Desktop m_desktop;
    xcb::XcbCompositor m_compositor;
    std::shared_ptr<ClipboardPolicy> m_clipboard_policy; // the Desktop's PolicyCheck holds it too
    struct Listening {
        UniqueFd fd;
        std::string socket;
    };
    std::map<std::string, Listening, std::less<>> m_listeners;
    UniqueFd m_control;
    std::string m_control_buf;
    std::map<std::string, std::unique_ptr<GuiSession>, std::less<>> m_sessions;
    bool m_dirty = false;
    uint64_t m_sessions_ended = 0;
    uint64_t m_notices = 0;
};

} // namespace bulkhead::gui::daemon
