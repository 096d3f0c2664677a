#pragma once
// Saved plans (plan --out, apply PLANFILE): the plan JSON document plus what apply needs to
// make exactly the reviewed changes, or none: the live value each change expects ("before"),
// its phase and dependencies, the desired digest and the non-secret connection settings.
#include <iosfwd>
#include <string>
#include <vector>

#include "agent/connection.h"
#include "policies/plan.h"

namespace authgate {

struct SavedPlan {
    Plan plan;
    // As recorded. Apply takes the settings from the desired state, the environment and the
    // flags; of these it uses only the tenant (to refuse another) and, where nothing else gives
    // them, the application id and the certificate. The endpoints and trust anchors, which decide
    // where the token goes, never come from the file.
    ConnectionSettings connection;
    int max_changes = 100;
    // The desired state's paths as given to plan (-c), for an apply given none.
    std::vector<std::string> desired_paths;
};

void write_saved_plan(std::ostream& out, const SavedPlan& saved);

// Throws FileError when the file cannot be read, and UsageError naming the file and what is wrong
// with it when it is not a saved plan.
SavedPlan read_saved_plan(const std::string& path);

}  // namespace authgate
