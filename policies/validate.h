#pragma once
// The rules of the desired state that relate elements to each other and to time.
#include "desired_state.h"
#include "diagnostics.h"

namespace authgate {

#include <optional>

// Judged as at `now`. [exceptions] max_days counts from `granted_at` when given (the system's
// time, for a command that writes while judging as at a later --at time), else from `now`.
Diagnostics validate(const DesiredState& state, Instant now, std::optional<Instant> granted_at = std::nullopt);

bool is_plausible_address(std::string_view text);

}  // namespace authgate
