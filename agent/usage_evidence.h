#pragma once
// The usage evidence a command reads (Graph's sign-in logs and email apps report, an exported SMTP
// AUTH clients report) and keeps in the journal, and the plan's impact on the senders it shows.
#include <optional>
#include <string>

#include "agent/connection.h"
#include "agent/log.h"
#include "agent/options.h"
#include "policies/desired_state.h"
#include "policies/impact.h"
#include "policies/usage.h"
#include "state/journal.h"

namespace authgate {

struct UsageOptions {
    int days = 7;                                 // the window of evidence
    std::optional<std::string> smtp_auth_report;  // an exported CSV
    bool graph = true;                            // read Graph's sources
    bool accept_impact = false;                   // --accept-impact
};

// --days and --smtp-auth-report (usage), with --accept-impact (plan, apply).
void add_usage_options(po::options_description& options, bool with_accept_impact);
UsageOptions usage_options(const po::variables_map& values);

// Reads the sources asked for through `session` (Graph; none without a session), and the CSV;
// records what they saw under `tenant` in `journal` (when given) and joins what the journal kept
// from earlier reads, so that the evidence outlives the sources' retention. Throws FileError for
// a CSV that cannot be read.
UsageEvidence gather_usage(TenantSession* session, const UsageOptions& options, Instant now, Journal* journal,
                           const std::string& tenant, Logger* logger);

// Whether a plan of `desired` judges usage: the guardrail or unused_days is set, or the command
// was given a report.
bool plan_wants_usage(const DesiredState& desired, const UsageOptions& options);

// The evidence a plan is judged by: the sources read (through `session`, when given) when the
// desired state or the command asks (plan_wants_usage); otherwise what the journal kept from
// earlier reads, if it kept anything; otherwise nullopt (the plan says nothing of usage).
std::optional<UsageEvidence> plan_evidence(const DesiredState& desired, UsageOptions options, TenantSession* session,
                                           Instant now, Journal* journal, const std::string& tenant, Logger* logger);

// Joins the evidence to `plan` (plan.usage), adds the unused-exception warnings to it, and
// returns the recent-use guardrail's errors (none when it is not set or all is accepted).
Diagnostics judge_usage(Plan& plan, const DesiredState& desired, const LiveState& live, const UsageEvidence& evidence,
                        Instant now, const UsageOptions& options);

}  // namespace authgate
