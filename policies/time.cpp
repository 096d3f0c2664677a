#include "policies/time.h"

#include <cctype>
#include <cstdio>

namespace authgate {
namespace {

using namespace std::chrono;

bool read_digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
    if (at + count > text.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + count; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
        out = out * 10 + (text[i] - '0');
    }
    return true;
}

}  // namespace

std::optional<Instant> parse_instant(std::string_view text) {
    int y, mo, d;
    if (!read_digits(text, 0, 4, y) || text.size() < 10 || text[4] != '-' || !read_digits(text, 5, 2, mo) ||
        text[7] != '-' || !read_digits(text, 8, 2, d))
        return std::nullopt;
    const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!date.ok()) return std::nullopt;
    const Instant midnight{sys_days{date}};
    if (text.size() == 10) return midnight;

    int h, mi, s;
    if ((text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !read_digits(text, 11, 2, h) || text.size() < 19 ||
        text[13] != ':' || !read_digits(text, 14, 2, mi) || text[16] != ':' || !read_digits(text, 17, 2, s) || h > 23 ||
        mi > 59 || s > 60)
        return std::nullopt;
    std::size_t at = 19;
    if (at < text.size() && text[at] == '.') {
        ++at;
        const std::size_t digits_from = at;
        while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
        if (at == digits_from) return std::nullopt;
    }
    if (at >= text.size()) return std::nullopt;  // an instant needs an offset
    int offset_minutes = 0;
    if (text[at] == 'Z' || text[at] == 'z') {
        ++at;
    } else if (text[at] == '+' || text[at] == '-') {
        int oh, om;
        if (!read_digits(text, at + 1, 2, oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
            !read_digits(text, at + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset_minutes = (oh * 60 + om) * (text[at] == '-' ? -1 : 1);
        at += 6;
    } else {
        return std::nullopt;
    }
    if (at != text.size()) return std::nullopt;
    return midnight + hours{h} + minutes{mi} + seconds{s} - minutes{offset_minutes};
}

std::string format_instant(Instant instant) {
    const auto day_start = floor<days>(instant);
    const year_month_day date{day_start};
    const hh_mm_ss time{instant - day_start};
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02ld:%02ld:%02lldZ", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                  static_cast<long long>(time.seconds().count()));
    return buffer;
}

std::string format_date(Instant instant) { return format_instant(instant).substr(0, 10); }

std::string format_exchange_instant(Instant instant) {
    std::string text = format_instant(instant);
    return text.insert(text.size() - 1, ".0000000");
}

long whole_days(Instant from, Instant to) { return static_cast<long>(floor<days>(to - from).count()); }

Instant now_utc() { return floor<seconds>(system_clock::now()); }

std::optional<seconds> parse_duration(std::string_view text) {
    long long total = 0;
    std::size_t at = 0;
    while (at < text.size()) {
        long long number = 0;
        const std::size_t digits_from = at;
        while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
            number = number * 10 + (text[at++] - '0');
            if (number > 10'000'000) return std::nullopt;
        }
        if (at == digits_from || at == text.size()) return std::nullopt;
        switch (text[at++]) {
            case 's': total += number; break;
            case 'm': total += number * 60; break;
            case 'h': total += number * 3600; break;
            case 'd': total += number * 86400; break;
            default: return std::nullopt;
        }
    }
    if (total <= 0) return std::nullopt;
    return seconds{total};
}

}  // namespace authgate
