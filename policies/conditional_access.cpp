#include "policies/conditional_access.h"

#include <algorithm>

#include "policies/name.h"
#include "policies/printable.h"

namespace authgate {

namespace {

bool has(const std::vector<std::string>& list, std::string_view value) {
    return std::any_of(list.begin(), list.end(),
                       [value](const std::string& item) { return equals_ignoring_case(item, value); });
}

// The first id of `list` that `set` holds.
std::optional<std::string> first_in(const std::vector<std::string>& list, const std::set<std::string>& set) {
    for (const std::string& id : list)
        if (set.count(fold_case(id))) return id;
    return std::nullopt;
}

bool names_exchange(const std::vector<std::string>& applications) {
    return has(applications, exchange_online_app_id) || has(applications, office365_app_group);
}

std::string quoted(const ConditionalAccessPolicy& policy) {
    return "'" + printable(policy.display_name.empty() ? policy.id : policy.display_name) + "'";
}

// Where the user was matched in a list of groups or roles: the id, or nullopt; `unknown` when the
// list is not empty and the membership was not read.
struct Match {
    std::optional<std::string> id;
    bool unknown = false;
};

Match match(const std::vector<std::string>& list, const std::optional<std::set<std::string>>& membership) {
    if (list.empty()) return {};
    if (!membership) return {std::nullopt, true};
    return {first_in(list, *membership), false};
}

}  // namespace

bool policy_concerns(const ConditionalAccessPolicy& policy, SmtpAuthKind kind) {
    const auto& types = policy.client_app_types;
    const bool covers = types.empty() || has(types, "all") ||
                        has(types, kind == SmtpAuthKind::basic ? "other" : "mobileAppsAndDesktopClients");
    if (!covers) return false;
    const bool exchange = has(policy.include_applications, "All") || names_exchange(policy.include_applications);
    if (!exchange || names_exchange(policy.exclude_applications)) return false;
    if (has(policy.grant_controls, "block")) return true;
    // A legacy client can give no second factor and no device: any grant control refuses it.
    return kind == SmtpAuthKind::basic && !policy.grant_controls.empty();
}

bool needs_membership(const ConditionalAccessPolicy& policy) {
    return !policy.include_groups.empty() || !policy.exclude_groups.empty() || !policy.include_roles.empty() ||
           !policy.exclude_roles.empty();
}

PolicyJudgement judge_policy(const ConditionalAccessPolicy& policy, SmtpAuthKind kind, const std::string& user_id,
                             const DirectoryMembership& membership) {
    if (policy.state == PolicyState::disabled) return {PolicyVerdict::not_concerned, "it is disabled"};
    if (!policy_concerns(policy, kind))
        return {PolicyVerdict::not_concerned, kind == SmtpAuthKind::basic
                                                  ? "it does not refuse legacy clients signing in to Exchange Online"
                                                  : "it does not block modern clients signing in to Exchange Online"};
    // Who it includes.
    std::string included;
    bool include_unknown = false;
    if (has(policy.include_users, "All")) included = "it includes all users";
    else if (has(policy.include_users, user_id)) included = "it includes the user by name";
    if (included.empty()) {
        const Match group = match(policy.include_groups, membership.groups);
        const Match role = match(policy.include_roles, membership.roles);
        if (group.id) included = "it includes the group " + printable(*group.id) + ", of which the user is a member";
        else if (role.id) included = "it includes the role " + printable(*role.id) + ", which the user holds";
        include_unknown = group.unknown || role.unknown;
    }
    if (included.empty()) {
        if (include_unknown)
            return {PolicyVerdict::unknown, "whether it includes the user depends on the user's groups and roles, "
                                            "which were not read: " +
                                                membership.why_not};
        return {PolicyVerdict::not_included, "its users do not include this user"};
    }
    // Whom it excludes.
    if (has(policy.exclude_users, user_id))
        return {PolicyVerdict::excluded, included + ", but excludes the user by name (excludeUsers)"};
    const Match group = match(policy.exclude_groups, membership.groups);
    if (group.id)
        return {PolicyVerdict::excluded,
                included + ", but excludes the group " + printable(*group.id) + ", of which the user is a member"};
    const Match role = match(policy.exclude_roles, membership.roles);
    if (role.id)
        return {PolicyVerdict::excluded,
                included + ", but excludes the role " + printable(*role.id) + ", which the user holds"};
    if (group.unknown || role.unknown)
        return {PolicyVerdict::unknown, included +
                                            "; whether an excluded group or role holds the user is not known "
                                            "(the user's groups and roles were not read: " +
                                            membership.why_not + ")"};
    included += " and no exclusion matches";
    if (policy.state == PolicyState::report_only)
        return {PolicyVerdict::report_only, included + ", but it only reports (enabledForReportingButNotEnforced)"};
    if (!policy.sign_in_conditions.empty()) {
        std::string conditions;
        for (const std::string& condition : policy.sign_in_conditions)
            conditions += (conditions.empty() ? "" : ", ") + condition;
        const bool where = std::find(policy.sign_in_conditions.begin(), policy.sign_in_conditions.end(), "locations") !=
                           policy.sign_in_conditions.end();
        return {PolicyVerdict::depends, included + "; it depends on " +
                                            (where ? "where it signs in from" : "the sign-in") + " (conditions on " +
                                            conditions + "), which cannot be known offline"};
    }
    if (kind == SmtpAuthKind::basic && !has(policy.grant_controls, "block")) {
        std::string controls;
        for (const std::string& control : policy.grant_controls)
            controls += (controls.empty() ? "" : ", ") + printable(control);
        return {PolicyVerdict::blocks,
                included + "; it requires " + controls + ", which a client using Basic auth cannot give"};
    }
    return {PolicyVerdict::blocks, included};
}

EntraAnswer entra_answer(const EntraPolicies& entra, SmtpAuthKind kind, const std::string& user_id,
                         const DirectoryMembership& membership) {
    EntraAnswer answer;
    bool refused = false, unknown = false, depends = false;
    if (!entra.security_defaults) {
        if (kind == SmtpAuthKind::basic) {
            unknown = true;
            answer.reasons.push_back("security defaults: not read (" + entra.security_defaults_why_not +
                                     "); when they are on, Entra refuses Basic auth for every user");
        }
    } else if (*entra.security_defaults) {
        if (kind == SmtpAuthKind::basic) {
            refused = true;
            answer.reasons.push_back("security defaults: on, so Entra refuses Basic auth (legacy authentication) for "
                                     "every user; they exclude no one");
        } else {
            answer.reasons.push_back("security defaults: on; they do not refuse OAuth");
        }
    } else {
        answer.reasons.push_back("security defaults: off");
    }
    if (!entra.conditional_access) {
        unknown = true;
        answer.reasons.push_back("Conditional Access: not read (" + entra.conditional_access_why_not +
                                 "); a policy may refuse this sign-in");
    } else {
        int concerned = 0;
        for (const ConditionalAccessPolicy& policy : *entra.conditional_access) {
            const PolicyJudgement judgement = judge_policy(policy, kind, user_id, membership);
            if (judgement.verdict == PolicyVerdict::not_concerned) continue;
            ++concerned;
            const char* state = policy.state == PolicyState::report_only ? " (report-only)" : " (enabled)";
            std::string line = "Conditional Access policy " + quoted(policy) + state + ": ";
            switch (judgement.verdict) {
                case PolicyVerdict::blocks:
                    refused = true;
                    line += "refuses it: ";
                    break;
                case PolicyVerdict::depends:
                    depends = true;
                    line += "may refuse it: ";
                    break;
                case PolicyVerdict::unknown:
                    unknown = true;
                    line += "unknown: ";
                    break;
                case PolicyVerdict::report_only: line += "would refuse it: "; break;
                case PolicyVerdict::excluded:
                case PolicyVerdict::not_included: line += "does not apply: "; break;
                case PolicyVerdict::not_concerned: break;
            }
            answer.reasons.push_back(line + judgement.why);
            answer.policies.emplace_back(&policy, judgement);
        }
        if (concerned == 0)
            answer.reasons.push_back(std::string("Conditional Access: no enabled or report-only policy refuses ") +
                                     (kind == SmtpAuthKind::basic ? "legacy clients" : "modern clients") +
                                     " signing in to Exchange Online (" +
                                     std::to_string(entra.conditional_access->size()) + " policies read)");
    }
    answer.outcome = refused   ? EntraOutcome::refuses
                     : unknown ? EntraOutcome::unknown
                     : depends ? EntraOutcome::depends
                               : EntraOutcome::allows;
    return answer;
}

std::string exclusion_advice(const ConditionalAccessPolicy& policy, const std::string& user_id) {
    return "exclude the user (" + printable(user_id) + ") from Conditional Access policy " + quoted(policy) +
           " (conditions.users.excludeUsers, or a group of its own in excludeGroups)";
}

EntraOutcome effective_outcome(bool exchange_allows, const EntraAnswer& entra) {
    return exchange_allows ? entra.outcome : EntraOutcome::refuses;
}

std::string outcome_text(EntraOutcome outcome, const EntraAnswer& entra) {
    switch (outcome) {
        case EntraOutcome::allows: return "allowed";
        case EntraOutcome::refuses: return "refused";
        case EntraOutcome::unknown: return "unknown";
        case EntraOutcome::depends: break;
    }
    for (const auto& [policy, judgement] : entra.policies)
        if (judgement.verdict == PolicyVerdict::depends &&
            std::find(policy->sign_in_conditions.begin(), policy->sign_in_conditions.end(), "locations") !=
                policy->sign_in_conditions.end())
            return "depends on where it signs in from";
    return "depends on the sign-in";
}

const DirectoryMembership* EntraMemberships::find(const std::string& user_id) const {
    for (const auto& [id, membership] : by_user)
        if (equals_ignoring_case(id, user_id)) return &membership;
    return nullptr;
}

std::vector<const Exception*> basic_auth_exceptions(const DesiredState& desired, Instant now) {
    std::vector<const Exception*> found;
    if (!desired.smtp_auth) return found;
    for (const Exception& exception : desired.smtp_auth->exceptions)
        if (exception.basic_auth && exception.expires > now) found.push_back(&exception);
    return found;
}

void warn_entra_blocks(const DesiredState& desired, const LiveState& live, const EntraPolicies& entra,
                       const EntraMemberships& memberships, Instant now, Diagnostics& warnings) {
    const std::vector<const Exception*> exceptions = basic_auth_exceptions(desired, now);
    if (exceptions.empty() || !live.mailboxes) return;
    const std::string count = std::to_string(exceptions.size()) +
                              (exceptions.size() == 1 ? " basic_auth exception" : " basic_auth exceptions");
    if (!entra.security_defaults)
        warnings.warning(exceptions.front()->source, "entra_unread",
                         "whether Entra's security defaults let the " + count +
                             " work is unknown: " + entra.security_defaults_why_not);
    if (!entra.conditional_access)
        warnings.warning(exceptions.front()->source, "entra_unread",
                         "whether Conditional Access lets the " + count +
                             " work is unknown: " + entra.conditional_access_why_not);
    const LiveIndex index(live);
    const DirectoryMembership unread{std::nullopt, std::nullopt, "the user has no directory object id"};
    for (const Exception* exception : exceptions) {
        const Mailbox* mailbox = index.mailbox(exception->mailbox.text());
        if (!mailbox) continue;  // a missing mailbox has its own warning
        const std::string& user = mailbox->external_directory_object_id;
        const DirectoryMembership* membership = memberships.find(user);
        const std::string who = "the basic_auth exception of " + printable(exception->mailbox.text());
        if (entra.security_defaults && *entra.security_defaults)
            warnings.warning(exception->source, "exception_blocked_by_entra",
                             who + " cannot work: Entra's security defaults are on, and they refuse Basic auth for "
                                   "every user (they exclude no one); to make it work, turn security defaults off "
                                   "and block legacy authentication with a Conditional Access policy that excludes "
                                   "this user");
        if (!entra.conditional_access) continue;
        for (const ConditionalAccessPolicy& policy : *entra.conditional_access) {
            const PolicyJudgement judged = judge_policy(policy, SmtpAuthKind::basic, user,
                                                        membership ? *membership : unread);
            switch (judged.verdict) {
                case PolicyVerdict::blocks:
                    warnings.warning(exception->source, "exception_blocked_by_entra",
                                     who + " cannot work: Conditional Access policy " + quoted(policy) +
                                         " refuses Basic auth for it (" + judged.why + "); to make it work, " +
                                         exclusion_advice(policy, user));
                    break;
                case PolicyVerdict::report_only:
                    warnings.warning(exception->source, "exception_report_only_block",
                                     who + " would stop working if Conditional Access policy " + quoted(policy) +
                                         " were enforced (it is report-only and includes the user); before "
                                         "enforcing it, " +
                                         exclusion_advice(policy, user));
                    break;
                case PolicyVerdict::depends:
                    warnings.warning(exception->source, "exception_entra_depends",
                                     who + " may not work: Conditional Access policy " + quoted(policy) +
                                         " refuses Basic auth for it from some sign-ins (" + judged.why +
                                         "); to be sure, " + exclusion_advice(policy, user));
                    break;
                case PolicyVerdict::unknown:
                    warnings.warning(exception->source, "entra_unread",
                                     "whether Conditional Access policy " + quoted(policy) + " lets " + who +
                                         " work is unknown: " + judged.why);
                    break;
                default: break;
            }
        }
    }
}

int legacy_blocking_policies(const std::vector<ConditionalAccessPolicy>& policies) {
    return static_cast<int>(std::count_if(policies.begin(), policies.end(), [](const ConditionalAccessPolicy& policy) {
        return policy.state == PolicyState::enabled && policy_concerns(policy, SmtpAuthKind::basic);
    }));
}

}  // namespace authgate
