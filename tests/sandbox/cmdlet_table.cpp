#include "cmdlets.h"
#include "exchange_error.h"
#include "text.h"

namespace sandbox {

namespace {

using enum ParameterType;

std::vector<ParameterSpec> policy_parameters(ParameterSpec first) {
    std::vector<ParameterSpec> parameters{first};
    for (const auto& flag : basic_auth_flags()) parameters.push_back({flag, boolean});
    return parameters;
}

const std::vector<CmdletDefinition>& table() {
    static const std::vector<CmdletDefinition> cmdlets = {
        {"Get-TransportConfig", false, {}, get_transport_config},
        {"Set-TransportConfig", true, {{"SmtpClientAuthenticationDisabled", boolean}}, set_transport_config},
        {"Get-CASMailbox", false, {{"Identity", text}, {"ResultSize", result_size}}, get_cas_mailbox},
        {"Set-CASMailbox",
         true,
         {{"Identity", text, true}, {"SmtpClientAuthenticationDisabled", nullable_boolean}},
         set_cas_mailbox},
        {"Get-AuthenticationPolicy", false, {{"Identity", text}}, get_authentication_policy},
        {"New-AuthenticationPolicy", true, policy_parameters({"Name", text, true}), new_authentication_policy},
        {"Set-AuthenticationPolicy", true, policy_parameters({"Identity", text, true}), set_authentication_policy},
        {"Get-OrganizationConfig", false, {}, get_organization_config},
        {"Set-OrganizationConfig", true, {{"DefaultAuthenticationPolicy", nullable_text}}, set_organization_config},
        {"Get-User", false, {{"Identity", text}, {"Filter", text}, {"ResultSize", result_size}}, get_user},
        {"Set-User",
         true,
         {{"Identity", text, true}, {"AuthenticationPolicy", nullable_text}, {"STSRefreshTokensValidFrom", date_time}},
         set_user},
        {"Get-Recipient", false, {{"Identity", text}, {"ResultSize", result_size}}, get_recipient},
    };
    return cmdlets;
}

}  // namespace

const std::vector<std::string>& basic_auth_flags() {
    static const std::vector<std::string> flags = {
        "AllowBasicAuthActiveSync",
        "AllowBasicAuthAutodiscover",
        "AllowBasicAuthImap",
        "AllowBasicAuthMapi",
        "AllowBasicAuthOfflineAddressBook",
        "AllowBasicAuthOutlookService",
        "AllowBasicAuthPop",
        "AllowBasicAuthPowershell",
        "AllowBasicAuthReportingWebServices",
        "AllowBasicAuthRpc",
        "AllowBasicAuthSmtp",
        "AllowBasicAuthWebServices",
    };
    return flags;
}

std::vector<std::string_view> cmdlet_names() {
    std::vector<std::string_view> names;
    for (const auto& cmdlet : table()) names.push_back(cmdlet.name);
    return names;
}

const CmdletDefinition* find_cmdlet(std::string_view name) {
    for (const auto& cmdlet : table()) {
        if (iequals(cmdlet.name, name)) return &cmdlet;
    }
    return nullptr;
}

CmdletResult run_cmdlet(const CmdletDefinition& cmdlet, Tenant& tenant, const web::json::value& parameters) {
    return cmdlet.run(tenant, bind_parameters(parameters, cmdlet.parameters));
}

CmdletResult write_result(bool changed, const web::json::value& target) {
    CmdletResult result;
    result.change = changed ? Change::changed : Change::unchanged;
    if (!changed) {
        result.warnings.push_back("The command completed successfully but no settings of '" +
                                  text_property(target, "Identity") + "' have been modified.");
    }
    return result;
}

size_t single_match(const std::vector<size_t>& matches, std::string_view identity) {
    if (matches.empty()) throw CmdletFailure(exchange::object_not_found(identity));
    if (matches.size() > 1) throw CmdletFailure(exchange::ambiguous_identity(identity));
    return matches.front();
}

CmdletResult limited(std::vector<SharedObject> objects, std::optional<size_t> limit, bool defaulted) {
    CmdletResult result;
    if (limit && objects.size() > *limit) {
        objects.resize(*limit);
        result.warnings.push_back(
            defaulted
                ? "By default, only the first " + std::to_string(*limit) +
                      " items are returned. Use the ResultSize parameter to specify the number of items returned. "
                      "To return all items, specify \"-ResultSize Unlimited\"."
                : "There are more results available than are currently displayed. To view them, increase the value "
                  "for the ResultSize parameter.");
    }
    result.objects = std::move(objects);
    return result;
}

}  // namespace sandbox
