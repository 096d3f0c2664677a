#pragma once
// What Microsoft Entra decides of SMTP AUTH beside Exchange: security defaults (which block legacy
// authentication, Basic SMTP included, for every user) and Conditional Access policies (a policy
// that blocks "other clients" blocks Basic SMTP whatever Exchange allows). A policy is judged
// against one user's transitive groups and roles; conditions that depend on the sign-in itself
// (locations, devices, platforms, risk) cannot be judged offline and say so, never guessed.
#include <array>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/desired_state.h"
#include "policies/diagnostics.h"
#include "policies/live_state.h"
#include "policies/names.h"
#include "policies/time.h"

namespace authgate {

// The Office 365 Exchange Online application, and the Office 365 app group that includes it.
inline constexpr std::string_view exchange_online_app_id = "00000002-0000-0ff1-ce00-000000000000";
inline constexpr std::string_view office365_app_group = "Office365";

enum class PolicyState { enabled, disabled, report_only };

template <>
struct EnumNames<PolicyState> {
    static constexpr std::array<std::pair<PolicyState, std::string_view>, 3> table{
        {{PolicyState::enabled, "enabled"},
         {PolicyState::disabled, "disabled"},
         {PolicyState::report_only, "enabledForReportingButNotEnforced"}}};
};

// A conditionalAccessPolicy of Graph v1.0, as much of it as decides SMTP AUTH.
struct ConditionalAccessPolicy {
    std::string id;
    std::string display_name;
    PolicyState state = PolicyState::disabled;
    std::vector<std::string> client_app_types;  // all, browser, mobileAppsAndDesktopClients, exchangeActiveSync, other
    std::vector<std::string> include_users, exclude_users;    // object ids, or All, None, GuestsOrExternalUsers
    std::vector<std::string> include_groups, exclude_groups;  // object ids
    std::vector<std::string> include_roles, exclude_roles;    // role template ids
    std::vector<std::string> include_applications, exclude_applications;
    // The conditions that depend on the sign-in, not on the user ("locations", "devices", …).
    std::vector<std::string> sign_in_conditions;
    std::vector<std::string> grant_controls;  // builtInControls: block, mfa, compliantDevice, …
};

// What the directory says of one user: the ids (lower case) of the groups it belongs to, directly or through
// other groups, and the template ids of the roles it holds. Nullopt: not read (why_not says why).
struct DirectoryMembership {
    std::optional<std::set<std::string>> groups;
    std::optional<std::set<std::string>> roles;
    std::string why_not;
};

// Entra's part, as read: each part nullopt when it could not be read, with why.
struct EntraPolicies {
    std::optional<bool> security_defaults;
    std::string security_defaults_why_not;
    std::optional<std::vector<ConditionalAccessPolicy>> conditional_access;
    std::string conditional_access_why_not;
};

enum class SmtpAuthKind { basic, oauth };

// How one policy stands to one user's SMTP AUTH sign-in of one kind.
enum class PolicyVerdict {
    not_concerned,  // the policy does not block this kind of sign-in to Exchange Online
    not_included,   // it would, but its users do not include this user
    excluded,       // it would, but an exclusion names this user
    blocks,         // enabled, and it applies
    report_only,    // it would block, but only reports
    depends,        // it applies to this user, but only to some sign-ins (location, device, risk)
    unknown,        // whether it applies needs the user's groups or roles, which were not read
};

struct PolicyJudgement {
    PolicyVerdict verdict = PolicyVerdict::not_concerned;
    std::string why;  // which include, which exclusion, which condition
};

// Whether the policy would refuse this kind of SMTP AUTH sign-in at all: its client app types
// cover it (Basic: other or all; OAuth: mobileAppsAndDesktopClients or all), its applications
// include Exchange Online (All, Office365 or Exchange's id) and do not exclude it, and it grants
// nothing (block) or, for Basic auth, only what a legacy client cannot give (MFA, a device).
bool policy_concerns(const ConditionalAccessPolicy& policy, SmtpAuthKind kind);

// Whether the policy needs the user's groups or roles to be judged.
bool needs_membership(const ConditionalAccessPolicy& policy);

// The policy against the user `user_id` (its directory object id) and its membership.
PolicyJudgement judge_policy(const ConditionalAccessPolicy& policy, SmtpAuthKind kind, const std::string& user_id,
                             const DirectoryMembership& membership);

// Entra's answer for one kind of sign-in of one user.
enum class EntraOutcome { allows, refuses, depends, unknown };

struct EntraAnswer {
    EntraOutcome outcome = EntraOutcome::allows;
    std::vector<std::string> reasons;  // one line each: security defaults, each policy that counts
    // The policies that block (or depend, or are unknown), each with what would make it allow the
    // sign-in: the exclusion to add.
    std::vector<std::pair<const ConditionalAccessPolicy*, PolicyJudgement>> policies;
};

// Security defaults and every enabled or report-only policy, for `user_id`. A part that was not
// read makes the outcome unknown (never "nothing blocks"), unless another part refuses anyway.
EntraAnswer entra_answer(const EntraPolicies& entra, SmtpAuthKind kind, const std::string& user_id,
                         const DirectoryMembership& membership);

// The exclusion that lets `user_id` past `policy`: "exclude the user … from Conditional Access
// policy '…' (conditions.users.excludeUsers)".
std::string exclusion_advice(const ConditionalAccessPolicy& policy, const std::string& user_id);

// The effective answer for one kind of SMTP AUTH: Exchange refuses before Entra is asked; where
// Exchange allows, Entra's answer is the answer.
EntraOutcome effective_outcome(bool exchange_allows, const EntraAnswer& entra);
// "allowed", "refused", "depends on where it signs in from" (or "on the sign-in"), "unknown".
std::string outcome_text(EntraOutcome outcome, const EntraAnswer& entra);

// The basic_auth exceptions in force that Entra makes useless or uncertain, as warnings on each
// exception: security defaults on; an enabled policy that refuses Basic auth to its user (with the
// exclusion that would let it through); one that only reports, or that depends on where it signs
// in from; a membership that could not be read. `memberships` is keyed by directory object id
// (lower case); a user without one is judged with its membership not read. Parts of Entra that
// were not read give one warning for the plan (never "nothing blocks").
struct EntraMemberships {
    std::vector<std::pair<std::string, DirectoryMembership>> by_user;
    const DirectoryMembership* find(const std::string& user_id) const;
};
std::vector<const Exception*> basic_auth_exceptions(const DesiredState& desired, Instant now);
void warn_entra_blocks(const DesiredState& desired, const LiveState& live, const EntraPolicies& entra,
                       const EntraMemberships& memberships, Instant now, Diagnostics& warnings);

// How many enabled policies block Basic SMTP for some user (doctor's count).
int legacy_blocking_policies(const std::vector<ConditionalAccessPolicy>& policies);

}  // namespace authgate
