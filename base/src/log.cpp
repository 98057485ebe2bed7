#include <bulkhead/base/log.h>
#include <bulkhead/base/text.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <unistd.h>

namespace bulkhead {

namespace {
LogLevel parse_level() {
    char const* v = std::getenv("BULKHEAD_LOG");
    if (!v)
        return LogLevel::Info;
    if (!std::strcmp(v, "debug"))
        return LogLevel::Debug;
    if (!std::strcmp(v, "warn"))
        return LogLevel::Warn;
    if (!std::strcmp(v, "error"))
        return LogLevel::Error;
    if (!std::strcmp(v, "off"))
        return LogLevel::Off;
    return LogLevel::Info;
}
std::atomic<int> g_threshold{int(parse_level())};
char const* level_name(LogLevel l) {
    switch (l) {
    case LogLevel::Debug:
        return "debug";
    case LogLevel::Info:
        return "info";
    case LogLevel::Warn:
        return "warn";
    case LogLevel::Error:
        return "error";
    case LogLevel::Off:
        break;
    }
    return "off";
}
} // namespace

LogLevel Logger::threshold() {
    return LogLevel(g_threshold.load(std::memory_order_relaxed));
}
void Logger::set_threshold(LogLevel level) {
    g_threshold.store(int(level));
}

void Logger::log(LogLevel level, std::string_view message,
                 std::initializer_list<LogField> fields) const {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    ::gmtime_r(&ts.tv_sec, &t);
    char stamp[40];
    std::strftime(stamp, sizeof stamp, "%H:%M:%S", &t);
    std::string line;
    line.reserve(128);
    line += stamp;
    line += '.';
    char ms[24];
    std::snprintf(ms, sizeof ms, "%03d", int(ts.tv_nsec / 1000000));
    line += ms;
    line += ' ';
    line += level_name(level);
    line += ' ';
    line += m_module;
    line += ": ";
    line += text::escape(message);
    for (auto const& f : fields) {
        line += ' ';
        line += f.key;
        line += "=\"";
        line += text::escape(f.value);
        line += '"';
    }
    line += '\n';
    // One write per record so lines from several processes do not interleave.
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

} // namespace bulkhead
