#pragma once
// Entra's part of whether SMTP AUTH works (policies/conditional_access.h), read through the
// session's Microsoft Graph: security defaults, Conditional Access, and the groups and roles of
// the users a policy needs them for. A session without Graph, or a read that fails, gives parts
// not read, with why: never "nothing blocks".
#include <string>

#include "agent/connection.h"
#include "agent/log.h"
#include "agent/usage_evidence.h"
#include "policies/conditional_access.h"
#include "policies/desired_state.h"
#include "policies/live_state.h"
#include "policies/plan.h"

namespace authgate {

EntraPolicies read_entra(TenantSession& session, Logger* logger);

// The membership of `user_id`, read only when an enabled or report-only policy that concerns
// SMTP AUTH names groups or roles; otherwise none is needed and none is read.
DirectoryMembership read_membership(TenantSession& session, const EntraPolicies& entra, const std::string& user_id);

// Whether a plan of `desired` reads Entra: it has basic_auth exceptions in force, a tenant to ask
// (never a snapshot), and it reads Graph anyway for usage evidence (plan_wants_usage: the
// desired state or the command asks), so that a plan that asks nothing of Graph signs in to
// Graph no more than before.
bool plan_wants_entra(const DesiredState& desired, Instant now, const TenantSession* session, bool reads_graph);

// Reads Entra and the memberships the basic_auth exceptions' users need, and gives the warnings
// of those exceptions that cannot work (warn_entra_blocks).
Diagnostics entra_warnings(const DesiredState& desired, const LiveState& live, TenantSession& session, Instant now,
                           Logger* logger);
// The same, added to `plan`'s warnings.
void judge_entra(Plan& plan, const DesiredState& desired, const LiveState& live, TenantSession& session, Instant now,
                 Logger* logger);

}  // namespace authgate
