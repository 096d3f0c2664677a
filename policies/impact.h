#pragma once
// Usage evidence joined to a plan: which changes cut off senders seen using SMTP AUTH (the org
// switch turned off for the mailboxes that inherit it, an exception reverted, an override
// reverted, a mailbox denied, Basic SMTP taken away by a policy), the recent-use guardrail, and
// exceptions no one uses.
#include <optional>
#include <set>
#include <vector>

#include "policies/desired_state.h"
#include "policies/diagnostics.h"
#include "policies/live_state.h"
#include "policies/plan.h"
#include "policies/usage.h"

namespace authgate {

struct ImpactOptions {
    int days = 7;             // the window of evidence
    bool accept_all = false;  // --accept-impact
};

// The plan's impact on the senders in `evidence` (seen within `options.days` of `now`).
PlanUsage assess_impact(const Plan& plan, const DesiredState& desired, const LiveState& live,
                        const UsageEvidence& evidence, Instant now, const ImpactOptions& options);

// [guardrails] recent_use_days: an error for each cut-off of a sender seen within that many days
// and not accepted, and one when the evidence is incomplete and the plan cuts anyone off (unknown
// is not absent). Nothing without the setting.
void check_recent_use(const PlanUsage& usage, const DesiredState& desired, bool accept_all, Diagnostics& diagnostics);

// [exceptions] unused_days: a warning for each exception with no SMTP AUTH use seen in that many
// days, and "basic_auth no longer needed" for a basic_auth exception seen only on OAuth. Said only
// when every source was read; otherwise one warning that it could not be judged.
// The mailboxes of exceptions in force with no SMTP AUTH use seen in [exceptions] unused_days;
// nullopt when that cannot be judged (no setting, or evidence not read in full).
std::optional<std::set<Name>> unused_exceptions(const DesiredState& desired, const LiveState& live,
                                                const UsageEvidence& evidence, Instant now);

void warn_unused_exceptions(const DesiredState& desired, const LiveState& live, const UsageEvidence& evidence,
                            Instant now, Diagnostics& diagnostics);

}  // namespace authgate
