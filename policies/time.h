#pragma once
// One clock and one notation for instants: RFC 3339 in UTC.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace authgate {

using Instant = std::chrono::sys_seconds;

// Accepts "2026-11-22T10:00:00Z", "2026-11-22T12:00:00+02:00" (fractions ignored) and a
// bare date "2026-11-22" (its first second, UTC). Anything else is nullopt.
std::optional<Instant> parse_instant(std::string_view text);

std::string format_instant(Instant instant);  // 2026-11-22T10:00:00Z
std::string format_date(Instant instant);     // 2026-11-22
// As Exchange writes a DateTime (yyyy-MM-ddTHH:mm:ss.fffffffZ), e.g. STSRefreshTokensValidFrom.
std::string format_exchange_instant(Instant instant);  // 2026-11-22T10:00:00.0000000Z

// Whole days from `from` to `to`, rounded down (negative when `to` is earlier).
long whole_days(Instant from, Instant to);

// The system's clock, to the second. Only SystemClock and what must agree with the real world
// (certificate validity, client assertions, token lifetimes) read it directly.
Instant now_utc();

// Where a command takes the time from. A command reads it once for its decisions (which
// exceptions have expired, which warnings are due) and hands that instant down; the stamps of
// what it journals as it goes are read from the same clock. Tests and --at set it.
class Clock {
public:
    virtual ~Clock() = default;
    virtual Instant now() const = 0;
};

class SystemClock final : public Clock {
public:
    Instant now() const override { return now_utc(); }
};

// Set to `start` when made; from then on it moves as the system's steady clock does.
class SetClock final : public Clock {
public:
    explicit SetClock(Instant start) : start_(start), origin_(std::chrono::steady_clock::now()) {}
    Instant now() const override {
        return start_ + std::chrono::floor<std::chrono::seconds>(std::chrono::steady_clock::now() - origin_);
    }

private:
    Instant start_;
    std::chrono::steady_clock::time_point origin_;
};

// "90s", "15m", "24h", "7d", or a combination such as "1h30m"; nullopt when malformed or zero.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace authgate
