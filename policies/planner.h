#pragma once
// The planner: desired x live x now -> Plan. Pure: no I/O, no clock.
#include "desired_state.h"
#include "diagnostics.h"
#include "live_state.h"
#include "plan.h"

namespace authgate {

struct PlanResult {
    Plan plan;
    Diagnostics diagnostics;  // errors mean there is no plan (e.g. a needed live part is unknown)
};

PlanResult make_plan(const DesiredState& desired, const LiveState& live, Instant now);

}  // namespace authgate
