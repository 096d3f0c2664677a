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

// Whole days from `from` to `to`, rounded down (negative when `to` is earlier).
long whole_days(Instant from, Instant to);

Instant now_utc();

// "90s", "15m", "24h", "7d", or a combination such as "1h30m"; nullopt when malformed or zero.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace authgate
