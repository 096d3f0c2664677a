#pragma once
// What the tenant shows of a change once read: the value it holds for what the change changes,
// and whether that is the change made. Used to verify an apply, to settle uncertain writes, and
// to tell whether a saved plan is stale.
#include <optional>
#include <string>
#include <vector>

#include "live_state.h"
#include "plan.h"

namespace authgate {

// The value the live state holds for what `change` changes; nullopt when it cannot be read
// back (STSRefreshTokensValidFrom) or the object is gone.
std::optional<SettingValue> live_value(const Change& change, const LiveState& live, const LiveIndex& index);

// Whether the tenant shows `change` made (policy names compare as Exchange does, ignoring case;
// a created policy holds exactly the flags its New-AuthenticationPolicy set).
bool shows(const Change& change, const LiveState& live, const LiveIndex& index);

// The object a user change addresses: its -Identity, else its target.
std::string identity_of(const Change& change);

// A value a saved plan would change that the tenant no longer holds as the plan saw it.
struct StaleValue {
    const Change* change;  // of the saved plan
    SettingValue now;
};

// The values `saved` would change that are no longer its `before`. The saved plan's cmdlets are
// not trusted even to find the object: the plan made now (`made`) names it, else the change's
// target.
std::vector<StaleValue> stale_values(const Plan& saved, const Plan& made, const LiveState& live);

}  // namespace authgate
