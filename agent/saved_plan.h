#pragma once
// Saved plans (plan --out, apply PLANFILE): the plan JSON document plus what apply needs to
// make exactly the reviewed changes, or none: the live value each change expects ("before"),
// its phase and dependencies, the desired digest and the non-secret connection settings.
#include <iosfwd>
#include <string>

#include "agent/connection.h"
#include "policies/plan.h"

namespace authgate {

struct SavedPlan {
    Plan plan;
    ConnectionSettings connection;  // as recorded; flags and environment override them
    int max_changes = 100;
};

void write_saved_plan(std::ostream& out, const SavedPlan& saved);

// Throws UsageError naming the file and what is wrong with it.
SavedPlan read_saved_plan(const std::string& path);

}  // namespace authgate
