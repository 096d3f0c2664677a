#include "policies/lifecycle.h"

namespace authgate {

long days_left(const Exception& exception, Instant now) { return whole_days(now, exception.expires); }

std::optional<Instant> expiry_of(std::string_view expires_text) {
    const auto instant = parse_instant(expires_text);
    if (!instant) return std::nullopt;
    return expires_text.size() == 10 ? *instant + std::chrono::days{1} : *instant;
}

ExceptionState state_at(const Exception& exception, const ExceptionSettings& settings, Instant now) {
    if (now >= exception.expires) return ExceptionState::expired;
    if (now >= exception.expires - std::chrono::days{settings.max_warn_days()}) return ExceptionState::expiring;
    return ExceptionState::active;
}

std::optional<int> crossed_threshold(const Exception& exception, const ExceptionSettings& settings, Instant now) {
    if (state_at(exception, settings, now) != ExceptionState::expiring) return std::nullopt;
    std::optional<int> threshold;
    for (int days : settings.warn_days)
        if (exception.expires - now <= std::chrono::days{days} && (!threshold || days < *threshold)) threshold = days;
    return threshold;
}

}  // namespace authgate
