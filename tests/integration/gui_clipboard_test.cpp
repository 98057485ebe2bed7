// The secure clipboard through bulkheadd (sandbox backend): --gui-display runs bulkhead-guid
// with bulkheadd's own policy directory, and tells it each domain's class and tags from the
// store. Three domains (work, personal, vault tagged 'secret'); the policy denies work's
// clipboard to @tag:secret and allows it elsewhere, so the paste into vault is refused only
// if the tag came through. The busybox template has no X server: the test speaks the GUI
// protocol on each domain's socket in its place, as its gui-agent would (gui_clipboard in
// tests/gui-daemon/daemon runs the real agents). Keys are XTEST on dom0's Xvfb.
#include "../gui-daemon/xcb/xvfb.h"
#include "dom0_screen.h"
#include "system.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/gui/encode.h>
#include <bulkhead/rpc/gui/fd_channel.h>
#include <bulkhead/rpc/gui/frame_reader.h>

#include <catch2/catch.hpp>

#include <xcb/xcb.h>
#include <xcb/xtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <sys/mman.h>
#include <thread>

using bulkhead::testing::Dom0Screen;
using bulkhead::testing::eventually;
using bulkhead::testing::System;
using namespace bulkhead;
namespace rg = bulkhead::rpc::gui;

namespace {

// A domain's gui-agent as far as the clipboard needs it: one window, then dom0's messages.
struct StandIn {
    StandIn(System& s, std::string const& domain, int32_t x)
        : name(domain) {
        auto fd = sys::unix_connect(s.gui_socket(domain), SOCK_CLOEXEC | SOCK_NONBLOCK);
        REQUIRE(fd);
        ch = std::make_unique<rg::GuiSocketChannel>(std::move(*fd), 0, 6000);
        rg::ShmRegion region{rg::ShmKind::Memfd, 0, 100, 50, 400, rg::format_xrgb8888, 20480};
        auto memfd = sys::memfd_create("pixels", MFD_ALLOW_SEALING | MFD_CLOEXEC);
        REQUIRE(memfd);
        REQUIRE(sys::ftruncate(memfd->get(), off_t(region.size)));
        REQUIRE(::fcntl(memfd->get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
        std::vector<std::byte> head, shm, tail;
        rg::encode_to(head, 0, rg::Hello{});
        rg::encode_to(head, 5, rg::Create{{x, 30, 100, 50}, 0, rg::OverrideRedirect::Yes});
        rg::encode_to(head, 5, rg::SetTitle{"window"});
        rg::encode_to(shm, 5, region);
        rg::encode_to(tail, 5, rg::Map{0, rg::OverrideRedirect::Yes});
        REQUIRE(ch->write(head).value() == head.size());
        REQUIRE(ch->write_with_fd(shm, memfd->get()).value() == shm.size());
        REQUIRE(ch->write(tail).value() == tail.size());
    }
    // dom0's messages that arrived, clipboard ones kept.
    void pump() {
        for (;;) {
            auto m = reader.next(*ch);
            REQUIRE(m);
            if (!*m)
                return;
            if (std::holds_alternative<rg::ClipboardRequest>((*m)->message))
                ++requests;
            else if (auto* d = std::get_if<rg::ClipboardData>(&(*m)->message))
                pasted.push_back(
                    std::string(reinterpret_cast<char const*>(d->bytes.data()), d->bytes.size()));
        }
    }
    void answer(std::string const& text) {
        std::vector<std::byte> out;
        rg::encode_to(out, 0,
                      rg::ClipboardData{std::vector<std::byte>(
                          reinterpret_cast<std::byte const*>(text.data()),
                          reinterpret_cast<std::byte const*>(text.data()) + text.size())});
        REQUIRE(ch->write(out).value() == out.size());
    }

    std::string name;
    std::unique_ptr<rg::GuiSocketChannel> ch;
    rg::GuiFrameReader reader{rg::Direction::FromDaemon};
    int requests = 0;
    std::vector<std::string> pasted;
};

} // namespace

TEST_CASE("gui: the secure clipboard through bulkheadd: its policy directory and the domains' "
          "tags reach bulkhead-guid",
          "[integration]") {
    Xvfb x("640x200x24");
    System s("qubes.ClipboardPaste * work @tag:secret deny\n"
             "qubes.ClipboardPaste * work @anyvm allow\n",
             {"--gui-display", x.display()});
    s.make_template();
    s.ok({"qvm-create", "-t", "tmpl", "-l", "green", "work"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "yellow", "personal"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "black", "vault"});
    s.ok({"qvm-tags", "vault", "add", "secret"});
    for (auto const* d : {"work", "personal", "vault"})
        s.ok({"qvm-start", d});
    INFO("daemon log:\n" << s.daemon_log());

    StandIn work(s, "work", 10), personal(s, "personal", 200), vault(s, "vault", 400);
    Dom0Screen dom0(x.display());
    std::optional<xcb_window_t> w_work, w_personal, w_vault;
    REQUIRE(eventually([&] { return (w_work = dom0.find_title("[work] window")).has_value(); }));
    REQUIRE(eventually(
        [&] { return (w_personal = dom0.find_title("[personal] window")).has_value(); }));
    REQUIRE(eventually([&] { return (w_vault = dom0.find_title("[vault] window")).has_value(); }));
    auto notice = [&] { return sys::read_file(s.root() + "/run/clipboard-notice").value_or(""); };

    // Ctrl+Shift+C in work: dom0 asks work's agent, which answers its clipboard.
    dom0.type(*w_work, {37, 50, 54});
    REQUIRE(eventually([&] {
        work.pump();
        return work.requests == 1;
    }));
    work.answer("from work");
    REQUIRE(eventually([&] { return notice().starts_with("copied work - 9 "); }));

    // Ctrl+Shift+V in vault: denied through vault's tag; nothing reaches vault.
    dom0.type(*w_vault, {37, 50, 55});
    REQUIRE(eventually([&] { return notice().starts_with("denied work vault 9 "); }));
    // Ctrl+Shift+V in personal: allowed; personal's agent gets the text, the clipboard empties.
    dom0.type(*w_personal, {37, 50, 55});
    REQUIRE(eventually([&] { return notice().starts_with("pasted work personal 9 "); }));
    CHECK(eventually([&] {
        personal.pump();
        return personal.pasted == std::vector<std::string>{"from work"};
    }));
    vault.pump();
    CHECK(vault.pasted.empty());
    CHECK(vault.requests == 0);
}
