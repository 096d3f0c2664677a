#pragma once
// import: a desired state written from the live tenant, commented, such that a plan made right
// after it has no change. Every explicit mailbox override becomes something to review: an
// exception (owner "unknown", a short expiry) or a deny entry.
#include <string>

#include "policies/desired_state.h"
#include "policies/live_state.h"

namespace authgate {

struct ImportOptions {
    std::string tenant;
    Cloud cloud = Cloud::global;
    Instant now{};
    int exception_days = 30;  // imported exceptions expire this many days from now
};

// Needs every part of the live state; the caller has checked that.
std::string import_desired_state(const LiveState& live, const ImportOptions& options);

}  // namespace authgate
