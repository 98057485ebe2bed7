// GuestClipboard: the domain's half of the secure clipboard, on its own connection to the
// domain's X server and its own InputOnly window (which WindowTracker does not show).
//  - dom0's ClipboardRequest (Ctrl+Shift+C): the CLIPBOARD selection is converted to
//    UTF8_STRING (STRING when the owner refuses that) onto our window, INCR transfers
//    followed, and the answer is ClipboardData: the bytes up to the protocol's cap (a longer
//    clipboard is cut there, and dom0, whose own cap is lower, refuses it as too large), or
//    empty when nobody owns CLIPBOARD, the owner refuses, or it does not finish in time.
//  - dom0's ClipboardData (Ctrl+Shift+V, after dom0's policy allowed it): we own CLIPBOARD
//    and PRIMARY, as Qubes' agent does, and answer the domain's clients' SelectionRequests
//    for TARGETS, UTF8_STRING, STRING and TEXT.
// The domain's X clients are untrusted here too: their bytes are only copied, capped and
// passed to dom0, which validates them (GuiValidator, SecureClipboard's cap).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/gui_agent/outbox.h>

#include <xcb/xcb.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace bulkhead::gui_agent {

class GuestClipboard {
public:
    using Clock = std::chrono::steady_clock;

    // display empty: $DISPLAY. max_bytes: the most sent to dom0 (the protocol's cap).
    static Result<GuestClipboard>
    connect(std::string const& display, size_t max_bytes,
            std::chrono::milliseconds timeout = std::chrono::seconds(3));
    GuestClipboard(GuestClipboard&& other) noexcept;
    GuestClipboard& operator=(GuestClipboard&&) = delete;
    ~GuestClipboard();

    int fd() const { return xcb_get_file_descriptor(m_conn); }
    // dom0 asked for the domain's clipboard (a transfer in progress is dropped and restarted).
    Result<void> request(Outbox& out, Clock::time_point now = Clock::now());
    // dom0 pasted: these bytes become the domain's CLIPBOARD and PRIMARY.
    void set(std::vector<std::byte> bytes);
    // Handles the X events that arrived (no blocking); a transfer that finished or timed out
    // is answered to dom0.
    Result<void> dispatch(Outbox& out, Clock::time_point now = Clock::now());

private:
    struct Atoms {
        xcb_atom_t clipboard, utf8_string, targets, text, incr, property;
    };
    enum class Phase { Idle, Converting, Incr };

    GuestClipboard(xcb_connection_t* c, xcb_window_t window, Atoms atoms, size_t max_bytes,
                   std::chrono::milliseconds timeout)
        : m_conn(c)
        , m_window(window)
        , m_atoms(atoms)
        , m_max(max_bytes)
        , m_timeout(timeout) {}

    void convert(xcb_atom_t target);
    Result<void> on_notify(Outbox& out, xcb_selection_notify_event_t const& e);
    Result<void> on_property(Outbox& out);
    void on_request(xcb_selection_request_event_t const& e);
    // Appends what our property holds (deleting it); false when the read failed.
    bool take_property(xcb_atom_t* type, size_t* chunk);
    Result<void> answer(Outbox& out);

    xcb_connection_t* m_conn = nullptr;
    xcb_window_t m_window = 0;
    Atoms m_atoms;
    size_t m_max;
    std::chrono::milliseconds m_timeout;
    // A transfer for dom0.
    Phase m_phase = Phase::Idle;
    xcb_atom_t m_target = 0;
    Clock::time_point m_deadline;
    std::vector<std::byte> m_incoming;
    bool m_truncated = false;
    // What dom0 pasted here, while we own a selection.
    std::vector<std::byte> m_pasted;
    bool m_own_clipboard = false;
    bool m_own_primary = false;
};

} // namespace bulkhead::gui_agent
