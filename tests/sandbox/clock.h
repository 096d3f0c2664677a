// Time for the sandbox: one injectable clock (tests move it to expire tokens and links) and the
// few textual forms Entra and Exchange use.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sandbox {

using Instant = std::chrono::system_clock::time_point;
using Clock = std::function<Instant()>;

Clock system_clock();

std::string rfc3339(Instant when);          // 2026-11-22T10:00:00Z
std::string rfc3339_precise(Instant when);  // 2026-11-22T10:00:00.1234567Z, as Entra prints times
std::string entra_timestamp(Instant when);
std::string http_date(Instant when);  // Mon, 30 Nov 2026 10:00:00 GMT, as a Date header  // 2026-11-22 10:00:00Z, the
                                      // "Timestamp:" line of Entra
std::string us_date_time(Instant when);  // 11/22/2026 10:00:00, as Entra prints key validity
Instant from_unix_seconds(double seconds);

// ISO 8601 date or date-time ("2026-11-22", "2026-11-22T10:00:00.1234567Z", "...+02:00").
// A time without a zone is taken as UTC.
std::optional<Instant> parse_datetime(std::string_view text);

}  // namespace sandbox
