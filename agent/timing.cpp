#include "agent/timing.h"

#include <algorithm>

#include "agent/connection.h"

namespace authgate {

void RunTimer::add(const std::string& part, std::chrono::duration<double> elapsed) {
    const auto it = std::find_if(parts_.begin(), parts_.end(), [&](const auto& kept) { return kept.first == part; });
    if (it != parts_.end()) it->second += elapsed;
    else parts_.emplace_back(part, elapsed);
}

LogFields RunTimer::fields() const {
    LogFields fields;
    for (const auto& [part, elapsed] : parts_) fields.emplace_back(part + "_seconds", seconds_text(elapsed));
    fields.emplace_back("seconds", seconds_text(Clock::now() - started_));
    return fields;
}

}  // namespace authgate
