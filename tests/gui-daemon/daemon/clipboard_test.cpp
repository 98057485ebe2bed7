// The secure clipboard end to end on real X servers: three domains (work, personal, vault),
// each an Xvfb with the real bulkhead-gui-agent and a window, and the real bulkhead-guid on
// dom0's Xvfb with a qrexec policy directory of its own. The domains' clipboards are set and
// read with xclip, a real X client (and a small INCR owner); the user's keys are XTEST on dom0's
// display, with the focus set as a window manager would. dom0's notice file (the tray's) is checked
// after each step: its sequence number shows that a key combination did nothing at all.
#include "../xcb/xvfb.h"
#include "guid_test_util.h"
#include "incr_owner.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <xcb/xcb.h>
#include <xcb/xtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace bulkhead;
using namespace std::chrono_literals;
using namespace guid_test;

namespace {

// Xvfb's default keymap.
constexpr uint8_t kc_control = 37, kc_shift = 50, kc_c = 54, kc_v = 55;

// The domain's clipboard as its applications see it ("" when nobody owns it or the read
// failed). `timeout` bounds a hung owner.
std::string read_selection(std::string const& display, std::string const& selection,
                           std::string const& target = "UTF8_STRING") {
    auto r = sys::run({"timeout", "5", "xclip", "-display", display, "-selection", selection, "-t",
                       target, "-o"});
    REQUIRE(r); // xclip and coreutils' timeout (scripts/install-deps.sh)
    return r->status.code == 0 ? r->out : std::string();
}

struct Domain {
    Domain(std::string name_, std::string const& dir, int16_t x, int16_t y)
        : name(std::move(name_))
        , socket(dir + "/vchan.0." + name + ".6000.sock")
        , log_dir(dir)
        , client(xvfb.display()) {
        // A window the user can focus on dom0: override-redirect, so it sits at its place.
        window = xcb_generate_id(client.c);
        uint32_t values[] = {0x808080, 1, XCB_EVENT_MASK_KEY_PRESS};
        xcb_create_window(client.c, XCB_COPY_FROM_PARENT, window, client.screen->root, x, y, 160,
                          80, 0, XCB_WINDOW_CLASS_INPUT_OUTPUT, client.screen->root_visual,
                          XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT | XCB_CW_EVENT_MASK, values);
        xcb_change_property(client.c, XCB_PROP_MODE_REPLACE, window, XCB_ATOM_WM_NAME,
                            XCB_ATOM_STRING, 8, 5, "probe");
        xcb_map_window(client.c, window);
        xcb_flush(client.c);
    }
    void start_agent() {
        agent = std::make_unique<Child>(std::vector<std::string>{program("bulkhead-gui-agent"),
                                                                 "--display", xvfb.display(),
                                                                 "--socket", socket},
                                        log_dir + "/agent-" + name + ".log");
    }
    // The domain's own copy (Ctrl+C in one of its applications): xclip owns CLIPBOARD.
    void set_clipboard(std::string const& text) {
        auto file = log_dir + "/clip-" + name;
        REQUIRE(sys::write_file_atomic(file, text));
        owner = std::make_unique<Child>(std::vector<std::string>{"xclip", "-display",
                                                                 xvfb.display(), "-quiet",
                                                                 "-selection", "clipboard", file},
                                        log_dir + "/xclip-" + name + ".log");
        REQUIRE(eventually([&] { return clipboard() == text; }));
    }
    std::string clipboard() { return read_selection(xvfb.display(), "clipboard"); }
    std::string primary() { return read_selection(xvfb.display(), "primary"); }
    // Key presses the domain's window got, as "keycode/state" (state: X modifier mask).
    std::vector<std::string> keys() {
        std::vector<std::string> out;
        while (auto ev = reply(xcb_poll_for_event(client.c)))
            if ((ev->response_type & 0x7f) == XCB_KEY_PRESS) {
                auto* k = reinterpret_cast<xcb_key_press_event_t*>(ev.get());
                out.push_back(std::to_string(k->detail) + "/" + std::to_string(k->state));
            }
        return out;
    }

    std::string name;
    std::string socket;
    std::string log_dir;
    Xvfb xvfb{"320x240x24"};
    XClient client;
    xcb_window_t window = 0;
    xcb_window_t on_dom0 = 0; // its window on dom0's screen
    std::unique_ptr<Child> agent;
    std::unique_ptr<Child> owner;
};

struct Notice {
    std::string kind, source, target;
    uint64_t bytes = 0, seq = 0;
};

std::optional<Notice> read_notice(std::string const& path) {
    auto text = sys::read_file(path);
    if (!text || text->empty() || text->back() != '\n')
        return std::nullopt;
    auto f = text::split(text->substr(0, text->size() - 1), ' ');
    if (f.size() != 5)
        return std::nullopt;
    auto bytes = text::parse_u64(f[3]);
    auto seq = text::parse_u64(f[4]);
    if (!bytes || !seq)
        return std::nullopt;
    return Notice{f[0], f[1], f[2], *bytes, *seq};
}

} // namespace

TEST_CASE("secure clipboard: Ctrl+Shift+C / Ctrl+Shift+V between three domains, under the qrexec "
          "policy, on real X servers") {
    Xvfb dom0_x("800x300x24");
    auto dir = sys::make_temp_dir("/tmp/bulkhead-clipboard-test-");
    REQUIRE(dir);
    auto policy_dir = *dir + "/policy.d";
    REQUIRE(sys::mkdir(policy_dir, 0755));
    auto policy_file = policy_dir + "/50-clipboard.policy";
    // vault is denied through its tag: a tag guid did not get would let the last rule allow it.
    REQUIRE(sys::write_file_atomic(policy_file, "qubes.ClipboardPaste * work personal ask\n"
                                                "qubes.ClipboardPaste * work @tag:secret deny\n"
                                                "qubes.ClipboardPaste * work @anyvm allow\n"
                                                "qubes.ClipboardPaste * @anyvm @anyvm deny\n"));
    auto notice_file = *dir + "/clipboard-notice";

    Domain work("work", *dir, 20, 20);
    Domain personal("personal", *dir, 260, 20);
    Domain vault("vault", *dir, 500, 20);

    auto control = sys::pipe();
    REQUIRE(control);
    Child guid({program("bulkhead-guid"), "--display", dom0_x.display(), "--control-fd", "3",
                "--policy-dir", policy_dir, "--notice-file", notice_file},
               *dir + "/guid.log", std::nullopt, {{3, control->first.get()}});
    control->first.reset();
    // As bulkheadd's GuiBridge says it: label, class and tags from the store.
    REQUIRE(sys::write_all(control->second.get(),
                           "add work green " + work.socket + " type=AppVM tags=\n" +
                               "add personal yellow " + personal.socket + " type=AppVM\n" +
                               "add vault black " + vault.socket + " type=AppVM tags=secret,x\n"));
    for (auto* d : {&work, &personal, &vault}) {
        REQUIRE(eventually([&] { return sys::exists(d->socket); }));
        d->start_agent();
    }
    XClient dom0(dom0_x.display());
    Domain* domains[3] = {&work, &personal, &vault};
    for (auto* d : domains) {
        std::optional<xcb_window_t> w;
        REQUIRE(eventually([&] { return (w = dom0.find("[" + d->name + "] probe")).has_value(); }));
        d->on_dom0 = *w;
    }

    auto keys = [&](Domain& d, std::vector<uint8_t> mods, uint8_t key) {
        dom0.focus(d.on_dom0); // as a window manager does on a click
        for (auto m : mods)
            dom0.fake(XCB_KEY_PRESS, m);
        dom0.fake(XCB_KEY_PRESS, key);
        dom0.fake(XCB_KEY_RELEASE, key);
        for (auto it = mods.rbegin(); it != mods.rend(); ++it)
            dom0.fake(XCB_KEY_RELEASE, *it);
    };
    auto copy = [&](Domain& d) { keys(d, {kc_control, kc_shift}, kc_c); };
    auto paste = [&](Domain& d) { keys(d, {kc_control, kc_shift}, kc_v); };
    uint64_t seq = 0;
    // The next notice after the last one seen.
    auto next_notice = [&]() -> Notice {
        std::optional<Notice> n;
        REQUIRE(eventually([&] { return (n = read_notice(notice_file)) && n->seq > seq; }));
        CHECK(n->seq == seq + 1); // exactly one event since the last look
        seq = n->seq;
        return *n;
    };

    std::string const secret = "work's secret: correct horse battery staple";
    work.set_clipboard(secret);
    personal.set_clipboard("personal's own");
    vault.set_clipboard("vault's own");

    // work -> personal: policy ask, which the key combination answers.
    copy(work);
    auto n = next_notice();
    CHECK(n.kind == "copied");
    CHECK(n.source == "work");
    CHECK(n.target == "-");
    CHECK(n.bytes == secret.size());
    paste(personal);
    n = next_notice();
    CHECK(n.kind == "pasted");
    CHECK(n.source == "work");
    CHECK(n.target == "personal");
    CHECK(n.bytes == secret.size());
    // personal's applications now paste it: the agent owns CLIPBOARD and PRIMARY.
    CHECK(eventually([&] { return personal.clipboard() == secret; }));
    CHECK(personal.primary() == secret);
    CHECK(read_selection(personal.xvfb.display(), "clipboard", "STRING") == secret);
    CHECK(read_selection(personal.xvfb.display(), "clipboard", "TEXT") == secret);
    auto targets = read_selection(personal.xvfb.display(), "clipboard", "TARGETS");
    for (auto t : {"TARGETS", "UTF8_STRING", "STRING", "TEXT"})
        CHECK(targets.find(t) != std::string::npos);
    CHECK(work.clipboard() == secret); // the source keeps its own
    CHECK(vault.clipboard() == "vault's own");

    // The global clipboard was emptied by the paste: a second Ctrl+Shift+V does nothing (no
    // notice: the next one, a copy, comes right after the paste's), here or anywhere.
    personal.set_clipboard("personal typed this");
    paste(personal);
    paste(vault);
    copy(work);
    n = next_notice();
    CHECK(n.kind == "copied");
    CHECK(personal.clipboard() == "personal typed this");
    CHECK(vault.clipboard() == "vault's own");

    // work -> vault: denied by policy (vault's tag); vault's clipboard is untouched.
    paste(vault);
    n = next_notice();
    CHECK(n.kind == "denied");
    CHECK(n.source == "work");
    CHECK(n.target == "vault");
    std::this_thread::sleep_for(300ms); // what a paste would have taken
    CHECK(vault.clipboard() == "vault's own");
    CHECK(vault.primary().empty());

    // Plain Ctrl+C / Ctrl+V are the domain's own keys: they reach its window and nothing
    // crosses (no notice; personal's clipboard unchanged).
    (void)work.keys();
    (void)personal.keys();
    keys(work, {kc_control}, kc_c);
    keys(personal, {kc_control}, kc_v);
    auto got_key = [](Domain& d, uint8_t keycode) {
        std::vector<std::string> got;
        return eventually([&] {
            auto more = d.keys();
            got.insert(got.end(), more.begin(), more.end());
            // state 4: Control held
            return std::find(got.begin(), got.end(), std::to_string(keycode) + "/4") != got.end();
        });
    };
    CHECK(got_key(work, kc_c));
    CHECK(got_key(personal, kc_v));
    CHECK(personal.clipboard() == "personal typed this");
    CHECK(read_notice(notice_file)->seq == seq);

    // Over the size limit (64,000 bytes): refused with the too-large notice, nothing copied;
    // the session goes on. Past the protocol's 256,000, the agent sends the first 256,000.
    work.set_clipboard(std::string(70000, 'x'));
    copy(work);
    n = next_notice();
    CHECK(n.kind == "too-large");
    CHECK(n.source == "work");
    CHECK(n.bytes == 70000);
    paste(personal); // nothing to paste
    work.set_clipboard(std::string(300000, 'y'));
    copy(work);
    n = next_notice();
    CHECK(n.kind == "too-large");
    CHECK(n.bytes == 256000);
    CHECK(personal.clipboard() == "personal typed this");
    work.set_clipboard(std::string(64000, 'z')); // at the limit: copied
    copy(work);
    n = next_notice();
    CHECK(n.kind == "copied");
    CHECK(n.bytes == 64000);
    paste(personal);
    n = next_notice();
    CHECK(n.kind == "pasted");
    CHECK(eventually([&] { return personal.clipboard() == std::string(64000, 'z'); }));

    // An owner that hands its clipboard over in INCR pieces: followed to the end, and cut
    // at the protocol's cap.
    work.owner.reset();
    {
        std::string text = std::string(20000, 'i') + " end";
        IncrOwner incr(work.xvfb.display(), text);
        copy(work);
        n = next_notice();
        CHECK(n.kind == "copied");
        CHECK(n.bytes == text.size());
        CHECK(incr.pieces() == 6);
        paste(personal);
        CHECK(next_notice().kind == "pasted");
        CHECK(eventually([&] { return personal.clipboard() == text; }));
    }
    {
        IncrOwner incr(work.xvfb.display(), std::string(300000, 'j'));
        copy(work);
        n = next_notice();
        CHECK(n.kind == "too-large");
        CHECK(n.bytes == 256000);
    }

    // The policy is read again when its files change: vault is now allowed.
    REQUIRE(
        sys::write_file_atomic(policy_file, "qubes.ClipboardPaste * work @anyvm allow\n", 0644));
    work.set_clipboard(secret);
    copy(work);
    n = next_notice();
    CHECK(n.kind == "copied");
    paste(vault);
    n = next_notice();
    CHECK(n.kind == "pasted");
    CHECK(n.target == "vault");
    CHECK(eventually([&] { return vault.clipboard() == secret; }));

    // Nobody owns work's clipboard: the copy is empty, and pasting it does nothing.
    work.owner.reset();
    REQUIRE(eventually([&] { return work.clipboard().empty(); }));
    copy(work);
    n = next_notice();
    CHECK(n.kind == "copied");
    CHECK(n.bytes == 0);
    paste(personal);
    copy(work);
    CHECK(next_notice().kind == "copied");

    // No domain lost its session on the way.
    for (auto* d : domains)
        CHECK_FALSE(d->agent->wait_exit(50ms).has_value());
    control->second.reset();
    CHECK(guid.wait_exit(10s));
}
