#pragma once
// Where an exception stands at a given time. Shared by validation and the planner.
#include "desired_state.h"
#include "plan.h"

namespace authgate {

// active, expiring (within max(warn_days) of expiry) or expired; never "missing", which
// depends on the live tenant.
ExceptionState state_at(const Exception& exception, const ExceptionSettings& settings, Instant now);

// The most urgent warn_days threshold an exception has crossed (a run that missed some warns once
// for where it is), or nullopt when it is not expiring.
std::optional<int> crossed_threshold(const Exception& exception, const ExceptionSettings& settings, Instant now);

// Whole days until expiry, rounded down; negative once expired.
long days_left(const Exception& exception, Instant now);

// The instant an expiry as written stops holding: a date holds through that day (UTC).
std::optional<Instant> expiry_of(std::string_view expires_text);

// The warning that the certificate authgate signs with expires within `warn_days` of `now`
// (code "certificate_expiring"), or nullopt.
std::optional<Diagnostic> certificate_expiring(Instant not_after, Instant now, int warn_days);

}  // namespace authgate
