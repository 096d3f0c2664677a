#pragma once
// Where a run's time went, for --log-level debug: the wall time of each part of a command, in the
// order the parts first ran, told apart by marks the command sets as it goes.
#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "agent/log.h"

namespace authgate {

class RunTimer {
public:
    using Clock = std::chrono::steady_clock;

    RunTimer() : started_(Clock::now()), last_(started_) {}

    // The time since the last mark (or the start) was spent on `part`; a part marked again adds up.
    void mark(const std::string& part) { add(part, take()); }

    // Of the time since the last mark, each of `parts` took what it says (measured inside, as the
    // sign-in inside the first read) and `rest` the remainder.
    void split(std::initializer_list<std::pair<std::string, std::chrono::duration<double>>> parts,
               const std::string& rest) {
        std::chrono::duration<double> left = take();
        for (const auto& [part, spent] : parts) {
            const auto inside = std::clamp(spent, std::chrono::duration<double>{}, left);
            add(part, inside);
            left -= inside;
        }
        add(rest, left);
    }

    // "<part>_seconds" for each part, then "seconds" for the whole run so far.
    LogFields fields() const;

    // The debug line "timing": where the run's time went.
    void log(Logger& logger) const { logger.log(LogLevel::debug, "timing", "where the run's time went", fields()); }

    // Logs the line when the scope ends, however it ends; the time since the last mark is `rest`.
    class LogAtExit {
    public:
        LogAtExit(RunTimer& timer, Logger& logger, std::string rest)
            : timer_(timer), logger_(logger), rest_(std::move(rest)) {}
        ~LogAtExit() {
            timer_.mark(rest_);
            timer_.log(logger_);
        }
        LogAtExit(const LogAtExit&) = delete;
        LogAtExit& operator=(const LogAtExit&) = delete;

    private:
        RunTimer& timer_;
        Logger& logger_;
        std::string rest_;
    };

private:
    std::chrono::duration<double> take() {
        const auto now = Clock::now();
        const std::chrono::duration<double> elapsed = now - last_;
        last_ = now;
        return elapsed;
    }
    void add(const std::string& part, std::chrono::duration<double> elapsed);

    Clock::time_point started_, last_;
    std::vector<std::pair<std::string, std::chrono::duration<double>>> parts_;
};

}  // namespace authgate
