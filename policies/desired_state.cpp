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

std::string_view to_string(Cloud cloud) {
    switch (cloud) {
        case Cloud::global: return "global";
        case Cloud::gcc_high: return "gcc-high";
        case Cloud::dod: return "dod";
        case Cloud::china: return "china";
    }
    return "global";
}

std::string_view to_string(UnlistedOverrides mode) {
    switch (mode) {
        case UnlistedOverrides::revert: return "revert";
        case UnlistedOverrides::report: return "report";
        case UnlistedOverrides::ignore: return "ignore";
    }
    return "report";
}

std::string_view to_string(Replacement replacement) {
    switch (replacement) {
        case Replacement::oauth: return "oauth";
        case Replacement::hve: return "hve";
        case Replacement::acs: return "acs";
        case Replacement::relay: return "relay";
        case Replacement::direct_send: return "direct-send";
        case Replacement::retire: return "retire";
    }
    return "oauth";
}

int ExceptionSettings::max_warn_days() const {
    return warn_days.empty() ? 0 : *std::max_element(warn_days.begin(), warn_days.end());
}

std::string fold_case(std::string_view text) {
    std::string folded(text);
    for (char& c : folded)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return folded;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    const auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (fold(a[i]) != fold(b[i])) return false;
    return true;
}

const AuthenticationPolicy* DesiredState::find_policy(std::string_view name) const {
    for (const auto& policy : policies)
        if (equals_ignoring_case(policy.name, name)) return &policy;
    return nullptr;
}

bool DesiredState::is_protected(std::string_view address) const {
    return std::any_of(guardrails.protected_mailboxes.begin(), guardrails.protected_mailboxes.end(),
                       [&](const auto& entry) { return equals_ignoring_case(entry.value, address); });
}

}  // namespace authgate
