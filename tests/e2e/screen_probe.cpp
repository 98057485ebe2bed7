// e2e_screen_probe: what the e2e gui scenario (tests/e2e/scenarios/gui.sh) asks of dom0's X
// display (the Xvfb bulkhead-guid draws on), through tests/support/dom0_screen.h, the probe the
// integration cases use on the sandbox backend.
//
//   e2e_screen_probe DISPLAY find NAME [SECONDS]
//       a mapped top-level window whose _QUBES_VMNAME is NAME (waiting up to SECONDS for it):
//       prints window=0x.., title=.. (_NET_WM_NAME, else WM_NAME), vmname=.., label=0xRRGGBB
//       (_QUBES_LABEL_COLOR), geometry=X Y W H; exit 1 when there is none
//   e2e_screen_probe DISPLAY pixel NAME X Y [0xRRGGBB [SECONDS]]
//       the colour at X,Y inside that window (read back from the root: what the screen shows):
//       prints pixel=0xRRGGBB; with a colour, waits up to SECONDS until it is that (exit 1 if not)
//   e2e_screen_probe DISPLAY key NAME KEY...
//       focuses that window and types the keys through XTEST (KEY: a name of keys[] below, or
//       a keycode number); prints keycodes=..
//   e2e_screen_probe DISPLAY resize NAME WIDTH HEIGHT
//       resizes that window on dom0's screen (ConfigureWindow, as a window manager or the user
//       would); prints geometry=X Y W H as the server has it afterwards
//   e2e_screen_probe DISPLAY gone NAME [SECONDS]
//       waits up to SECONDS until no top-level window (mapped or not) has _QUBES_VMNAME NAME
//
// Polls every 250 ms: under TCG dom0 and the domains share QEMU's one vCPU.
#include "dom0_screen.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using bulkhead::testing::Dom0Screen;

namespace {

bool poll_until(std::function<bool()> const& done, double seconds) {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(static_cast<long>(seconds * 1000));
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return true;
}

std::optional<xcb_window_t> wait_window(Dom0Screen& s, std::string const& name, double seconds) {
    std::optional<xcb_window_t> w;
    poll_until([&] { return (w = s.find("_QUBES_VMNAME", name)).has_value(); }, seconds);
    if (!w)
        std::fprintf(stderr, "e2e_screen_probe: no mapped window with _QUBES_VMNAME %s\n",
                     name.c_str());
    return w;
}

struct Key {
    char const* name;
    uint32_t keysym;
};
constexpr Key keys[] = {{"Return", 0xff0d}, {"Escape", 0xff1b},    {"Tab", 0xff09},
                        {"space", 0x20},    {"Control_L", 0xffe3}, {"Shift_L", 0xffe1}};

int usage() {
    std::fprintf(stderr, "usage: e2e_screen_probe DISPLAY find NAME [SECONDS]\n"
                         "       e2e_screen_probe DISPLAY pixel NAME X Y [0xRRGGBB [SECONDS]]\n"
                         "       e2e_screen_probe DISPLAY key NAME KEY...\n"
                         "       e2e_screen_probe DISPLAY resize NAME WIDTH HEIGHT\n"
                         "       e2e_screen_probe DISPLAY gone NAME [SECONDS]\n");
    return 2;
}

int run(std::vector<std::string> const& a) {
    if (a.size() < 3)
        return usage();
    Dom0Screen s(a[0]);
    auto const& cmd = a[1];
    auto const& name = a[2];
    if (cmd == "find" && a.size() <= 4) {
        auto w = wait_window(s, name, a.size() == 4 ? std::stod(a[3]) : 0);
        if (!w)
            return 1;
        auto g = s.geometry(*w);
        std::printf("window=0x%x\ntitle=%s\nvmname=%s\nlabel=0x%06x\n", *w, s.title(*w).c_str(),
                    s.property(*w, "_QUBES_VMNAME").c_str(), s.label_color(*w));
        if (g)
            std::printf("geometry=%d %d %d %d\n", g->x, g->y, g->width, g->height);
        return 0;
    }
    if (cmd == "pixel" && a.size() >= 5 && a.size() <= 7) {
        double seconds = a.size() == 7 ? std::stod(a[6]) : 0;
        auto w = wait_window(s, name, seconds);
        if (!w)
            return 1;
        auto g = s.geometry(*w);
        if (!g)
            return 1;
        int x = g->x + std::stoi(a[3]), y = g->y + std::stoi(a[4]);
        uint32_t got = s.pixel(x, y);
        if (a.size() >= 6) {
            auto want = uint32_t(std::stoul(a[5], nullptr, 16));
            poll_until([&] { return (got = s.pixel(x, y)) == want; }, seconds);
            std::printf("pixel=0x%06x\n", got);
            return got == want ? 0 : 1;
        }
        std::printf("pixel=0x%06x\n", got);
        return 0;
    }
    if (cmd == "key" && a.size() >= 4) {
        auto w = wait_window(s, name, 0);
        if (!w)
            return 1;
        std::vector<uint8_t> codes;
        for (size_t i = 3; i < a.size(); ++i) {
            uint8_t code = 0;
            for (auto const& k : keys)
                if (a[i] == k.name)
                    code = s.keycode(k.keysym);
            if (!code && !a[i].empty() && a[i].find_first_not_of("0123456789") == std::string::npos)
                code = uint8_t(std::stoi(a[i]));
            if (!code) {
                std::fprintf(stderr, "e2e_screen_probe: no keycode for %s\n", a[i].c_str());
                return 2;
            }
            codes.push_back(code);
        }
        s.type(*w, codes);
        std::free(xcb_get_input_focus_reply(s.c, xcb_get_input_focus(s.c), nullptr)); // (sync)
        std::printf("keycodes=");
        for (auto k : codes)
            std::printf(" %d", k);
        std::printf("\n");
        return 0;
    }
    if (cmd == "resize" && a.size() == 5) {
        auto w = wait_window(s, name, 0);
        if (!w)
            return 1;
        uint32_t const size[] = {uint32_t(std::stoul(a[3])), uint32_t(std::stoul(a[4]))};
        xcb_configure_window(s.c, *w, XCB_CONFIG_WINDOW_WIDTH | XCB_CONFIG_WINDOW_HEIGHT, size);
        xcb_flush(s.c);
        auto g = s.geometry(*w);
        if (!g)
            return 1;
        std::printf("geometry=%d %d %d %d\n", g->x, g->y, g->width, g->height);
        return 0;
    }
    if (cmd == "gone" && a.size() <= 4) {
        bool gone = poll_until([&] { return !s.find("_QUBES_VMNAME", name, std::nullopt, false); },
                               a.size() == 4 ? std::stod(a[3]) : 0);
        if (!gone)
            std::fprintf(stderr,
                         "e2e_screen_probe: a window with _QUBES_VMNAME %s is still there\n",
                         name.c_str());
        return gone ? 0 : 1;
    }
    return usage();
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (std::exception const& e) {
        std::fprintf(stderr, "e2e_screen_probe: %s\n", e.what());
        return 2;
    }
}
