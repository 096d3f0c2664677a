#pragma once
// The one logger: lines on standard error, as text for people or JSON for machines
// (--log-format json: one object per line). Callers pass plan data only; tokens, assertions,
// keys and passwords never reach it.
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "policies/names.h"
#include "policies/time.h"

namespace authgate {

enum class LogLevel { error = 0, warning = 1, info = 2, debug = 3 };
template <>
struct EnumNames<LogLevel> {
    static constexpr std::array<std::pair<LogLevel, std::string_view>, 4> table{{{LogLevel::error, "error"},
                                                                                 {LogLevel::warning, "warning"},
                                                                                 {LogLevel::info, "info"},
                                                                                 {LogLevel::debug, "debug"}}};
};
enum class LogFormat { text, json };
template <>
struct EnumNames<LogFormat> {
    static constexpr std::array<std::pair<LogFormat, std::string_view>, 2> table{
        {{LogFormat::text, "text"}, {LogFormat::json, "json"}}};
};

using LogFields = std::vector<std::pair<std::string, std::string>>;

class Logger {
public:
    // `clock` stamps the lines: the command's.
    Logger(std::ostream& out, LogFormat format, LogLevel level, const Clock& clock)
        : out_(out), format_(format), level_(level), clock_(clock) {}

    // `event` names what happened ("run", "change", "notification"); fields are printed in order.
    void log(LogLevel level, const std::string& event, const std::string& message, const LogFields& fields = {});
    void info(const std::string& event, const std::string& message, const LogFields& fields = {}) {
        log(LogLevel::info, event, message, fields);
    }
    void warn(const std::string& event, const std::string& message, const LogFields& fields = {}) {
        log(LogLevel::warning, event, message, fields);
    }
    void error(const std::string& event, const std::string& message, const LogFields& fields = {}) {
        log(LogLevel::error, event, message, fields);
    }

private:
    std::ostream& out_;
    LogFormat format_;
    LogLevel level_;
    const Clock& clock_;
};

}  // namespace authgate
