#include "policies/access.h"

namespace authgate {

namespace {
const char* shown(bool flag) { return flag ? "true" : "false"; }
}  // namespace

SmtpAuthAccess smtp_auth_access(const LiveState& live, const LiveIndex& index, const Mailbox& mailbox) {
    SmtpAuthAccess access;
    if (mailbox.smtp_auth_disabled) {
        access.smtp_auth = !*mailbox.smtp_auth_disabled;
        access.smtp_auth_why = std::string("the mailbox's own setting (SmtpClientAuthenticationDisabled = ") +
                               shown(*mailbox.smtp_auth_disabled) + ") overrides the organization's";
    } else {
        access.smtp_auth = !*live.org_smtp_auth_disabled;
        access.smtp_auth_why =
            std::string("the mailbox inherits the organization's setting (SmtpClientAuthenticationDisabled = ") +
            shown(*live.org_smtp_auth_disabled) + ")";
    }
    if (const LiveUser* user = index.user_of(mailbox)) access.user_policy = user->authentication_policy;
    access.default_policy = live.organization->default_authentication_policy;
    const std::optional<std::string>& deciding = access.user_policy ? access.user_policy : access.default_policy;
    const std::string whose = access.user_policy ? "the user's authentication policy"
                                                 : "the organization's default policy";
    if (!access.smtp_auth) {
        access.basic_why = "SMTP AUTH itself is off for this mailbox";
    } else if (!deciding) {
        access.basic = true;
        access.basic_why = "no authentication policy applies (none assigned, no default), and none means not blocked";
    } else if (const LivePolicy* policy = index.policy(*deciding)) {
        access.basic = policy->flags[smtp_flag];
        access.basic_why = whose + " '" + policy->name +
                           "' has AllowBasicAuthSmtp = " + shown(policy->flags[smtp_flag]);
    } else {
        access.basic_why = whose + " '" + *deciding + "' was not found among the tenant's policies";
    }
    return access;
}

}  // namespace authgate
