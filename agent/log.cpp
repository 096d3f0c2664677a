#include "agent/log.h"

#include <ostream>

#include <cpprest/json.h>

#include "policies/printable.h"
#include "policies/time.h"

namespace authgate {

void Logger::log(LogLevel level, const std::string& event, const std::string& message, const LogFields& fields) {
    if (level > level_) return;
    const std::string time = format_instant(clock_.now());
    if (format_ == LogFormat::json) {
        using web::json::value;
        value line = value::object(true);
        line["time"] = value::string(time);
        line["level"] = value::string(std::string(to_string(level)));
        line["event"] = value::string(event);
        line["message"] = value::string(message);
        for (const auto& [name, text] : fields) line[name] = value::string(text);
        out_ << line.serialize() << "\n" << std::flush;
        return;
    }
    // A line is one line: what a field holds (tenant text, Exchange's errors) is shown inert.
    out_ << time << " " << to_string(level) << " " << printable(message);
    for (const auto& [name, text] : fields) out_ << " " << name << "=" << printable(text);
    out_ << "\n" << std::flush;
}

}  // namespace authgate
