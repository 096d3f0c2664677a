#include "policies/desired_state.h"

#include <algorithm>

namespace authgate {

const std::array<BasicAuthFlag, basic_auth_flag_count> basic_auth_flags{{
    {"allow_basic_auth_active_sync", "AllowBasicAuthActiveSync"},
    {"allow_basic_auth_autodiscover", "AllowBasicAuthAutodiscover"},
    {"allow_basic_auth_imap", "AllowBasicAuthImap"},
    {"allow_basic_auth_mapi", "AllowBasicAuthMapi"},
    {"allow_basic_auth_offline_address_book", "AllowBasicAuthOfflineAddressBook"},
    {"allow_basic_auth_outlook_service", "AllowBasicAuthOutlookService"},
    {"allow_basic_auth_pop", "AllowBasicAuthPop"},
    {"allow_basic_auth_powershell", "AllowBasicAuthPowershell"},
    {"allow_basic_auth_reporting_web_services", "AllowBasicAuthReportingWebServices"},
    {"allow_basic_auth_rpc", "AllowBasicAuthRpc"},
    {"allow_basic_auth_smtp", "AllowBasicAuthSmtp"},
    {"allow_basic_auth_web_services", "AllowBasicAuthWebServices"},
}};

int ExceptionSettings::max_warn_days() const {
    return warn_days.empty() ? 0 : *std::max_element(warn_days.begin(), warn_days.end());
}

const AuthenticationPolicy* DesiredState::find_policy(std::string_view name) const {
    for (const auto& policy : policies)
        if (policy.name == name) return &policy;
    return nullptr;
}

const Exception* DesiredState::find_exception(std::string_view mailbox) const {
    if (!smtp_auth) return nullptr;
    for (const auto& exception : smtp_auth->exceptions)
        if (exception.mailbox == mailbox) return &exception;
    return nullptr;
}

bool DesiredState::is_protected(std::string_view address) const {
    return std::any_of(guardrails.protected_mailboxes.begin(), guardrails.protected_mailboxes.end(),
                       [&](const auto& entry) { return equals_ignoring_case(entry.value, address); });
}

}  // namespace authgate
