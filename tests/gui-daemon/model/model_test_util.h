// Shared set-up for the desktop model tests: a 1920x1080 desktop with work (blue),
// personal (yellow), vault (black) and untrusted (red), a real qrexec policy for
// qubes.ClipboardPaste (work→personal allow, work→vault deny, otherwise ask), and helpers
// that build validated messages.
#pragma once

#include <bulkhead/gui/model/desktop.h>
#include <bulkhead/policy/policy.h>

#include <catch2/catch.hpp>

#include <string>

namespace model_test {

using namespace bulkhead;
using namespace bulkhead::gui::model;
namespace rg = bulkhead::rpc::gui;

inline constexpr char const* kPolicy = R"(
qubes.ClipboardPaste  *  work       personal  allow
qubes.ClipboardPaste  *  work       vault     deny
qubes.ClipboardPaste  *  untrusted  vault     deny
qubes.ClipboardPaste  *  @anyvm     @anyvm    ask
)";

inline policy::SystemInfo system_info() {
    policy::SystemInfo info;
    policy::DomainInfo dom0;
    dom0.name = "dom0";
    dom0.type = policy::DomainType::AdminVM;
    info.add(dom0);
    for (char const* n : {"work", "personal", "vault", "untrusted"}) {
        policy::DomainInfo d;
        d.name = n;
        d.power_state = "Running";
        info.add(d);
    }
    return info;
}

inline rg::ValidatedMessage msg(rg::WindowId window, rg::Message m) {
    return rg::ValidatedMessage{window, std::move(m)};
}

struct Fixture {
    explicit Fixture(Config c = {})
        : policy(policy::Policy::parse_text(kPolicy, "clipboard.policy").value())
        , info(system_info())
        , t0(Clock::now())
        , desktop(c, policy_check(policy, info), t0) {
        REQUIRE(desktop.add_domain("work", {"blue", 0x3465a4}));
        REQUIRE(desktop.add_domain("personal", {"yellow", 0xedd400}));
        REQUIRE(desktop.add_domain("vault", {"black", 0x000000}));
        REQUIRE(desktop.add_domain("untrusted", {"red", 0xcc0000}));
    }

    Result<Desktop::Actions> send(std::string const& domain, rg::WindowId w, rg::Message m) {
        return desktop.apply(domain, msg(w, std::move(m)), t0);
    }
    // Creates and maps a window; returns its handle.
    WindowHandle open(std::string const& domain, rg::WindowId id, Rect r,
                      rg::OverrideRedirect o = rg::OverrideRedirect::No) {
        REQUIRE(send(domain, id, rg::Create{r, 0, o}));
        REQUIRE(send(domain, id, rg::Map{0, o}));
        auto const* w = desktop.find(domain, id);
        REQUIRE(w);
        return w->handle;
    }

    policy::Policy policy;
    policy::SystemInfo info;
    Clock::time_point t0;
    Desktop desktop;
};

template <typename T>
T const* sent(Action const& a, std::string const& domain) {
    auto const* s = std::get_if<SendToGuest>(&a);
    if (!s || s->domain != domain)
        return nullptr;
    return std::get_if<T>(&s->message);
}

} // namespace model_test
