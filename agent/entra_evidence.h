#pragma once
// Entra's part of whether SMTP AUTH works (policies/conditional_access.h), read through the
// session's Microsoft Graph: security defaults, Conditional Access, and the groups and roles of
// the users a policy needs them for. A session without Graph, or a read that fails, gives parts
// not read, with why: never "nothing blocks".
#include <string>

#include "agent/connection.h"
#include "agent/log.h"
#include "policies/conditional_access.h"
#include "policies/desired_state.h"
#include "policies/live_state.h"
#include "policies/plan.h"

namespace authgate {

EntraPolicies read_entra(TenantSession& session, Logger* logger);

// The membership of `user_id`, read only when an enabled or report-only policy that concerns
// SMTP AUTH names groups or roles; otherwise none is needed and none is read.
DirectoryMembership read_membership(TenantSession& session, const EntraPolicies& entra, const std::string& user_id);

// Whether a plan of `desired` reads Entra: it has basic_auth exceptions in force and a tenant to
// ask (never for a snapshot).
bool plan_wants_entra(const DesiredState& desired, Instant now, const TenantSession* session);

// Reads Entra and the memberships the basic_auth exceptions' users need, and adds to `plan` the
// warnings of those exceptions that cannot work (warn_entra_blocks).
void judge_entra(Plan& plan, const DesiredState& desired, const LiveState& live, TenantSession& session, Instant now,
                 Logger* logger);

}  // namespace authgate
