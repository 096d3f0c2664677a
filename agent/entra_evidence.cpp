#include "agent/entra_evidence.h"

namespace authgate {

EntraPolicies read_entra(TenantSession& session, Logger* logger) {
    EntraPolicies entra;
    try {
        entra = session.graph_usage().entra_policies();
    } catch (const ConnectorError& error) {
        entra.security_defaults_why_not = entra.conditional_access_why_not = error.what();
    }
    if (logger) {
        logger->log(LogLevel::debug, "entra",
                    entra.security_defaults ? "security defaults read" : "security defaults not read",
                    {{"enabled", entra.security_defaults ? (*entra.security_defaults ? "true" : "false") : ""},
                     {"why_not", entra.security_defaults_why_not}});
        logger->log(LogLevel::debug, "entra",
                    entra.conditional_access ? "Conditional Access read" : "Conditional Access not read",
                    {{"policies", entra.conditional_access ? std::to_string(entra.conditional_access->size()) : ""},
                     {"why_not", entra.conditional_access_why_not}});
    }
    return entra;
}

DirectoryMembership read_membership(TenantSession& session, const EntraPolicies& entra, const std::string& user_id) {
    bool needed = false;
    if (entra.conditional_access)
        for (const ConditionalAccessPolicy& policy : *entra.conditional_access)
            needed = needed ||
                     (policy.state != PolicyState::disabled && needs_membership(policy) &&
                      (policy_concerns(policy, SmtpAuthKind::basic) || policy_concerns(policy, SmtpAuthKind::oauth)));
    if (!needed)
        return {std::nullopt, std::nullopt, "not read: no policy that concerns SMTP AUTH names groups or roles"};
    try {
        return session.graph_usage().membership(user_id);
    } catch (const ConnectorError& error) {
        return {std::nullopt, std::nullopt, error.what()};
    }
}

bool plan_wants_entra(const DesiredState& desired, Instant now, const TenantSession* session, bool reads_graph) {
    return session && reads_graph && !basic_auth_exceptions(desired, now).empty();
}

Diagnostics entra_warnings(const DesiredState& desired, const LiveState& live, TenantSession& session, Instant now,
                           Logger* logger) {
    const EntraPolicies entra = read_entra(session, logger);
    EntraMemberships memberships;
    if (live.mailboxes) {
        const LiveIndex index(live);
        for (const Exception* exception : basic_auth_exceptions(desired, now)) {
            const Mailbox* mailbox = index.mailbox(exception->mailbox.text());
            if (!mailbox || mailbox->external_directory_object_id.empty() ||
                memberships.find(mailbox->external_directory_object_id))
                continue;
            memberships.by_user.emplace_back(mailbox->external_directory_object_id,
                                             read_membership(session, entra, mailbox->external_directory_object_id));
        }
    }
    Diagnostics warnings;
    warn_entra_blocks(desired, live, entra, memberships, now, warnings);
    return warnings;
}

void judge_entra(Plan& plan, const DesiredState& desired, const LiveState& live, TenantSession& session, Instant now,
                 Logger* logger) {
    const Diagnostics warnings = entra_warnings(desired, live, session, now, logger);
    for (const Diagnostic& warning : warnings.all()) plan.warnings.push_back(warning);
}

}  // namespace authgate
