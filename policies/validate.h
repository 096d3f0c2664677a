#pragma once
// The rules of the desired state that relate elements to each other and to time.
#include "desired_state.h"
#include "diagnostics.h"

namespace authgate {

Diagnostics validate(const DesiredState& state, Instant now);

bool is_plausible_address(std::string_view text);

}  // namespace authgate
