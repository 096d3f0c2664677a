#include "clock.h"

#include <cstdio>
#include <ctime>

namespace sandbox {

namespace {

using namespace std::chrono;

std::string format(Instant when, bool with_fraction, char separator) {
    const auto ticks = floor<microseconds>(when);  // system_clock is finer than Entra's 100 ns ticks
    const auto day = floor<days>(ticks);
    const year_month_day date{day};
    const hh_mm_ss time{ticks - day};
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u%c%02ld:%02ld:%02lld", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), separator,
                  static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                  static_cast<long long>(time.seconds().count()));
    std::string result = text;
    if (with_fraction) {
        char fraction[16];
        std::snprintf(fraction, sizeof fraction, ".%07lld", static_cast<long long>(time.subseconds().count() * 10));
        result += fraction;
    }
    return result + "Z";
}

bool read_number(std::string_view& text, size_t digits, int& value) {
    if (text.size() < digits) return false;
    value = 0;
    for (size_t i = 0; i < digits; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        value = value * 10 + (text[i] - '0');
    }
    text.remove_prefix(digits);
    return true;
}

bool consume(std::string_view& text, char expected) {
    if (text.empty() || text.front() != expected) return false;
    text.remove_prefix(1);
    return true;
}

}  // namespace

Clock system_clock() {
    return [] { return std::chrono::system_clock::now(); };
}

std::string rfc3339(Instant when) { return format(floor<seconds>(when), false, 'T'); }
std::string rfc3339_precise(Instant when) { return format(when, true, 'T'); }
std::string entra_timestamp(Instant when) { return format(floor<seconds>(when), false, ' '); }

std::string http_date(Instant when) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[64];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    return text;
}

std::string us_date_time(Instant when) {
    const auto moment = floor<seconds>(when);
    const auto day = floor<days>(moment);
    const year_month_day date{day};
    const hh_mm_ss time{moment - day};
    char text[32];
    std::snprintf(text, sizeof text, "%02u/%02u/%04d %02ld:%02ld:%02lld", static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()), static_cast<int>(date.year()),
                  static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                  static_cast<long long>(time.seconds().count()));
    return text;
}

Instant from_unix_seconds(double seconds) {
    return Instant{} + duration_cast<system_clock::duration>(duration<double>(seconds));
}

std::optional<Instant> parse_datetime(std::string_view text) {
    int year = 0, month = 0, day_of_month = 0, hour = 0, minute = 0, second = 0;
    if (!read_number(text, 4, year) || !consume(text, '-') || !read_number(text, 2, month) || !consume(text, '-') ||
        !read_number(text, 2, day_of_month)) {
        return std::nullopt;
    }
    microseconds fraction{0};
    minutes offset{0};
    if (!text.empty() && (text.front() == 'T' || text.front() == ' ')) {
        text.remove_prefix(1);
        if (!read_number(text, 2, hour) || !consume(text, ':') || !read_number(text, 2, minute)) return std::nullopt;
        if (consume(text, ':') && !read_number(text, 2, second)) return std::nullopt;
        if (consume(text, '.')) {
            long long scale = 100000;
            size_t digits = 0;
            while (!text.empty() && text.front() >= '0' && text.front() <= '9') {
                fraction += microseconds((text.front() - '0') * scale);
                scale /= 10;
                text.remove_prefix(1);
                ++digits;
            }
            if (digits == 0) return std::nullopt;
        }
        if (consume(text, 'Z')) {
        } else if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
            const int sign = text.front() == '-' ? -1 : 1;
            text.remove_prefix(1);
            int offset_hours = 0, offset_minutes = 0;
            if (!read_number(text, 2, offset_hours) || !consume(text, ':') || !read_number(text, 2, offset_minutes)) {
                return std::nullopt;
            }
            offset = minutes(sign * (offset_hours * 60 + offset_minutes));
        }
    }
    if (!text.empty()) return std::nullopt;
    const year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                              std::chrono::day{static_cast<unsigned>(day_of_month)}};
    if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    return Instant{sys_days{date}} + hours(hour) + minutes(minute) + seconds(second) + fraction - offset;
}

}  // namespace sandbox
