#include "policies/lifecycle.h"

namespace authgate {

long days_left(const Exception& exception, Instant now) { return whole_days(now, exception.expires); }

std::optional<Diagnostic> certificate_expiring(Instant not_after, Instant now, int warn_days) {
    if (not_after > now + std::chrono::hours(24) * warn_days) return std::nullopt;
    const auto days = std::chrono::duration_cast<std::chrono::hours>(not_after - now).count() / 24;
    Diagnostic warning;
    warning.severity = Severity::warning;
    warning.code = "certificate_expiring";
    warning.message = "the certificate authgate signs with expires " + format_instant(not_after).substr(0, 10) + " (" +
                      std::to_string(days) + (days == 1 ? " day" : " days") +
                      "): make a new one, upload it to the app registration, and point authgate at it "
                      "([guardrails] certificate_warn_days)";
    return warning;
}

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
