// One logger per module, structured fields: `LOG_INFO(log, "started", {"domain", name})`.
// Every field value is escaped (control and non-ASCII bytes as \xNN) so untrusted text
// cannot forge log lines. Output: stderr, one line per record. Level from BULKHEAD_LOG.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace bulkhead {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

struct LogField {
    std::string_view key;
    std::string value;
    LogField(std::string_view k, std::string_view v)
        : key(k)
        , value(v) {}
    LogField(std::string_view k, char const* v)
        : key(k)
        , value(v ? v : "") {}
    LogField(std::string_view k, std::string const& v)
        : key(k)
        , value(v) {}
    template <typename N>
    requires std::is_arithmetic_v<N> LogField(std::string_view k, N v)
        : key(k)
        , value(std::to_string(v)) {}
};

class Logger {
public:
    explicit Logger(std::string_view module)
        : m_module(module) {}
    bool enabled(LogLevel level) const { return level >= threshold(); }
    void log(LogLevel level, std::string_view message,
             std::initializer_list<LogField> fields) const;
    static LogLevel threshold();
    static void set_threshold(LogLevel level);

private:
    std::string_view m_module;
};

} // namespace bulkhead

#define BULKHEAD_LOG(logger, level, msg, ...)                                                      \
    do {                                                                                           \
        if ((logger).enabled(level))                                                               \
            (logger).log(level, msg, {__VA_ARGS__});                                               \
    } while (0)
#define LOG_DEBUG(logger, msg, ...)                                                                \
    BULKHEAD_LOG(logger, ::bulkhead::LogLevel::Debug, msg, __VA_ARGS__)
#define LOG_INFO(logger, msg, ...)                                                                 \
    BULKHEAD_LOG(logger, ::bulkhead::LogLevel::Info, msg, __VA_ARGS__)
#define LOG_WARN(logger, msg, ...)                                                                 \
    BULKHEAD_LOG(logger, ::bulkhead::LogLevel::Warn, msg, __VA_ARGS__)
#define LOG_ERROR(logger, msg, ...)                                                                \
    BULKHEAD_LOG(logger, ::bulkhead::LogLevel::Error, msg, __VA_ARGS__)
