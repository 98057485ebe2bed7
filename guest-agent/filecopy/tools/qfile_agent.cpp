// qfile-agent FILE...: the sending side of qubes.Filecopy, as Qubes' qfile-agent. The stream
// goes to stdout, the receiver's reply comes on stdin (qrexec-client-vm connects both).
// Exit 0 only when the receiver confirmed every byte (error_code 0, matching CRC); otherwise
// a message on stderr and exit 1. Progress (bytes, rate, ETA) on stderr for copies over
// 4 MiB when stderr is a terminal, or with --progress; never with --without-progress.
#include <bulkhead/filecopy/pack.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

// "12.3 MiB / 1.0 GiB  45.6 MiB/s  ETA 0:21" on one line, at most 4 times a second, for
// copies over 4 MiB.
class Progress {
public:
    void operator()(uint64_t sent, uint64_t total) {
        if (total < (4u << 20))
            return;
        auto now = std::chrono::steady_clock::now();
        if (sent < total && now - m_last < std::chrono::milliseconds(250))
            return;
        m_last = now;
        double secs = std::chrono::duration<double>(now - m_start).count();
        double rate = secs > 0 ? static_cast<double>(sent) / secs : 0;
        std::string eta = "--:--";
        if (rate > 0) {
            auto left = static_cast<unsigned long>(static_cast<double>(total - sent) / rate);
            char buf[32];
            std::snprintf(buf, sizeof buf, "%lu:%02lu", left / 60, left % 60);
            eta = buf;
        }
        std::fprintf(stderr, "\r%s / %s  %s/s  ETA %s   ", size(static_cast<double>(sent)).c_str(),
                     size(static_cast<double>(total)).c_str(), size(rate).c_str(), eta.c_str());
        m_shown = true;
    }
    ~Progress() {
        if (m_shown)
            std::fprintf(stderr, "\n");
    }

private:
    static std::string size(double bytes) {
        char const* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (bytes >= 1024 && u < 4) {
            bytes /= 1024;
            ++u;
        }
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f %s", bytes, units[u]);
        return buf;
    }
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point m_last{};
    bool m_shown = false;
};

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);    // a receiver that quits shows as EPIPE, then its reply
    bool progress = ::isatty(2) == 1; // as Qubes: shown on a terminal unless told not to
    std::vector<std::string> paths;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--progress")
            progress = true;
        else if (a == "--without-progress")
            progress = false;
        else if (a == "--")
            for (++i; i < argc; ++i)
                paths.emplace_back(argv[i]);
        else
            paths.push_back(a);
    }
    if (paths.empty()) {
        std::fprintf(stderr, "usage: qfile-agent [--progress | --without-progress] FILE...\n");
        return 2;
    }
    bulkhead::filecopy::PackOptions options;
    auto shown = std::make_shared<Progress>();
    if (progress)
        options.progress = [shown](uint64_t sent, uint64_t total) { (*shown)(sent, total); };
    auto r = bulkhead::filecopy::pack(paths, 1, 0, options);
    shown.reset();
    if (!r) {
        std::fprintf(stderr, "qfile-agent: %s\n", r.error().message().c_str());
        return 1;
    }
    return 0;
}
