// GUI figures on real X servers (Xvfb), the benchmark in its closed-loop form.
//   Frame_GuestToDom0: a 1920x1080 guest window repainted in a new colour (full damage) each
//       iteration; the iteration ends when dom0's screen shows that colour. Path: guest X
//       server → bulkhead-gui-agent (DAMAGE, GetImage into the sealed memfd, DAMAGE message) →
//       bulkhead-guid (validator, Desktop, PutImage from the mapped memfd) → dom0's X server.
//       Time per iteration = draw-to-dom0 latency; its inverse = frames per second delivered.
//       Counters: CPU of bulkhead-guid and of the gui-agent per frame (ms, /proc/<pid>/stat).
//   Frame_PlainShmPutImage: the baseline, a 1920x1080 frame of a new colour written into a
//       memfd and put with XShmPutImage into a window on the same dom0 X server (as the
//       compositor does with the guest's memfd), and the same 1x1 GetImage check.
// At the end: the ratio of the two.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>

#include <benchmark/benchmark.h>
#include <xcb/shm.h>
#include <xcb/xcb.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace bulkhead;
using namespace std::chrono_literals;

namespace {

constexpr uint16_t kW = 1920, kH = 1080;
double g_guid_ms = 0, g_plain_ms = 0;

[[noreturn]] void die(std::string const& what) {
    std::fprintf(stderr, "bench_gui: %s\n", what.c_str());
    std::exit(1);
}

template <typename T>
T must(Result<T> r, char const* what) {
    if (!r)
        die(std::string(what) + ": " + r.error().message());
    return std::move(r).value();
}

pid_t spawn(std::vector<std::string> argv, int fd3 = -1) {
    auto null = must(sys::open("/dev/null", O_RDWR | O_CLOEXEC), "open /dev/null");
    sys::SpawnOptions o;
    o.argv = std::move(argv);
    o.fds = {{0, null.get()}, {1, null.get()}, {2, 2}};
    if (fd3 >= 0)
        o.fds.push_back({3, fd3});
    return must(sys::spawn(o), "spawn");
}

// Xvfb with a display number it picks itself.
std::pair<pid_t, std::string> xvfb() {
    auto p = must(sys::pipe(), "pipe");
    pid_t pid = spawn({"Xvfb", "-displayfd", "3", "-screen", "0", "1920x1080x24", "-nolisten",
                       "tcp", "-br", "-noreset"},
                      p.second.get());
    p.second.reset();
    std::string number;
    char c;
    for (;;) {
        pollfd pfd{p.first.get(), POLLIN, 0};
        if (::poll(&pfd, 1, 15000) != 1 || ::read(p.first.get(), &c, 1) != 1)
            die("Xvfb did not start (scripts/install-deps.sh installs it)");
        if (c == '\n')
            break;
        number += c;
    }
    return {pid, ":" + number};
}

double cpu_ms(pid_t pid) {
    auto stat = sys::read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat)
        return 0;
    auto rest = stat->substr(stat->rfind(')') + 2);
    // Fields after the name: state(3) ... utime(14) stime(15), counted from field 3.
    std::vector<std::string> f;
    size_t pos = 0;
    while (f.size() < 13) {
        auto sp = rest.find(' ', pos);
        f.push_back(rest.substr(pos, sp - pos));
        pos = sp + 1;
    }
    double ticks = std::stod(f[11]) + std::stod(f[12]);
    return ticks * 1000.0 / double(::sysconf(_SC_CLK_TCK));
}

struct X {
    explicit X(std::string const& display) {
        c = xcb_connect(display.c_str(), nullptr);
        if (xcb_connection_has_error(c))
            die("cannot connect to " + display);
        screen = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
    }
    uint32_t pixel(int16_t x, int16_t y) {
        auto* r = xcb_get_image_reply(
            c, xcb_get_image(c, XCB_IMAGE_FORMAT_Z_PIXMAP, screen->root, x, y, 1, 1, ~0u), nullptr);
        if (!r)
            die("GetImage failed");
        uint32_t v;
        std::memcpy(&v, xcb_get_image_data(r), 4);
        std::free(r);
        return v & 0xffffff;
    }
    xcb_window_t window(uint32_t rgb, char const* title) {
        auto id = xcb_generate_id(c);
        uint32_t values[] = {rgb, 1};
        xcb_create_window(c, XCB_COPY_FROM_PARENT, id, screen->root, 0, 0, kW, kH, 0,
                          XCB_WINDOW_CLASS_INPUT_OUTPUT, screen->root_visual,
                          XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT, values);
        xcb_change_property(c, XCB_PROP_MODE_REPLACE, id, XCB_ATOM_WM_NAME, XCB_ATOM_STRING, 8,
                            uint32_t(std::strlen(title)), title);
        xcb_map_window(c, id);
        xcb_flush(c);
        return id;
    }
    // Waits until dom0's screen shows rgb at (x, y).
    void wait_for(uint32_t rgb, int16_t x, int16_t y) {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (pixel(x, y) != rgb) {
            if (std::chrono::steady_clock::now() > deadline)
                die("the frame never reached dom0's screen");
            std::this_thread::sleep_for(100us);
        }
    }
    xcb_connection_t* c;
    xcb_screen_t* screen;
};

// Colours that never repeat back to back and avoid the label colour at the probe point.
uint32_t colour(int64_t i) {
    return 0x101010u + uint32_t((i * 0x0a0b0c) & 0x7f7f7f);
}

struct World {
    World() {
        auto build = sys::getenv("BULKHEAD_BUILD_DIR").value_or("build");
        dir = must(sys::make_temp_dir("/tmp/bulkhead-bench-gui-"), "temp dir");
        std::tie(dom0_pid, dom0_display) = xvfb();
        std::tie(guest_pid, guest_display) = xvfb();
        auto socket = dir + "/vchan.0.1.6000.sock";
        guid = spawn({build + "/bin/bulkhead-guid", "--display", dom0_display, "--domain",
                      "work:blue:" + socket});
        for (int i = 0; i < 500 && !sys::exists(socket); ++i)
            std::this_thread::sleep_for(10ms);
        guest = std::make_unique<X>(guest_display);
        window = guest->window(colour(0), "bench");
        agent = spawn(
            {build + "/bin/bulkhead-gui-agent", "--display", guest_display, "--socket", socket});
        dom0 = std::make_unique<X>(dom0_display);
        dom0->wait_for(colour(0), kW / 2, kH / 2);
    }
    ~World() {
        for (pid_t p : {agent, guid, guest_pid, dom0_pid}) {
            (void)sys::kill(p, SIGTERM);
            (void)sys::waitpid(p);
        }
        (void)sys::remove_tree(dir);
    }
    std::string dir, dom0_display, guest_display;
    pid_t dom0_pid = -1, guest_pid = -1, guid = -1, agent = -1;
    std::unique_ptr<X> guest, dom0;
    xcb_window_t window = 0;
};

World& world() {
    static World w;
    return w;
}

void Frame_GuestToDom0(benchmark::State& state) {
    auto& w = world();
    int64_t i = 1;
    double guid0 = cpu_ms(w.guid), agent0 = cpu_ms(w.agent);
    for (auto _ : state) {
        uint32_t rgb = colour(i++);
        xcb_change_window_attributes(w.guest->c, w.window, XCB_CW_BACK_PIXEL, &rgb);
        xcb_clear_area(w.guest->c, 0, w.window, 0, 0, 0, 0); // the whole window, damaged
        xcb_flush(w.guest->c);
        w.dom0->wait_for(rgb, kW - 8, kH - 8);
    }
    auto n = double(state.iterations());
    state.counters["fps"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
    state.counters["guid_cpu_ms_per_frame"] = (cpu_ms(w.guid) - guid0) / n;
    state.counters["agent_cpu_ms_per_frame"] = (cpu_ms(w.agent) - agent0) / n;
}

void Frame_PlainShmPutImage(benchmark::State& state) {
    auto& w = world();
    auto& x = *w.dom0;
    auto win = x.window(0, "plain");
    size_t bytes = size_t(kW) * kH * 4;
    auto fd = must(sys::memfd_create("bench-frame", MFD_CLOEXEC), "memfd");
    must(sys::ftruncate(fd.get(), off_t(bytes)), "ftruncate");
    auto* frame = static_cast<uint32_t*>(
        ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
    if (frame == MAP_FAILED)
        die("mmap");
    auto seg = xcb_generate_id(x.c);
    if (auto* e = xcb_request_check(x.c, xcb_shm_attach_fd_checked(x.c, seg, ::dup(fd.get()), 1))) {
        std::free(e);
        die("the dom0 X server has no MIT-SHM fd passing");
    }
    auto gc = xcb_generate_id(x.c);
    xcb_create_gc(x.c, gc, win, 0, nullptr);
    int64_t i = 1;
    for (auto _ : state) {
        uint32_t rgb = colour(i++);
        std::fill(frame, frame + size_t(kW) * kH, rgb);
        xcb_shm_put_image(x.c, win, gc, kW, kH, 0, 0, kW, kH, 0, 0, 24, XCB_IMAGE_FORMAT_Z_PIXMAP,
                          0, seg, 0);
        xcb_flush(x.c);
        x.wait_for(rgb, kW - 8, kH - 8);
    }
    xcb_shm_detach(x.c, seg);
    xcb_destroy_window(x.c, win);
    xcb_flush(x.c);
    ::munmap(frame, bytes);
    state.counters["fps"] =
        benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

} // namespace

BENCHMARK(Frame_GuestToDom0)->Iterations(600)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(Frame_PlainShmPutImage)->Iterations(600)->Unit(benchmark::kMillisecond)->UseRealTime();

// Records each benchmark's real time per iteration for the ratio.
class Reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(std::vector<Run> const& runs) override {
        for (auto const& r : runs) {
            double ms = r.GetAdjustedRealTime();
            if (r.benchmark_name().starts_with("Frame_GuestToDom0"))
                g_guid_ms = ms;
            else if (r.benchmark_name().starts_with("Frame_PlainShmPutImage"))
                g_plain_ms = ms;
        }
        ConsoleReporter::ReportRuns(runs);
    }
};

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    Reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    if (g_guid_ms > 0 && g_plain_ms > 0)
        std::printf("guest->dom0 frame / plain XShmPutImage frame: %.2fx (%.1f vs %.1f ms; %.0f vs "
                    "%.0f fps)\n",
                    g_guid_ms / g_plain_ms, g_guid_ms, g_plain_ms, 1000 / g_guid_ms,
                    1000 / g_plain_ms);
    benchmark::Shutdown();
    return 0;
}
