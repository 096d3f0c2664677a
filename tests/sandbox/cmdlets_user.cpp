// Get-User (including the one -Filter form that lists a policy's users) and Set-User (a user's
// authentication policy, and STSRefreshTokensValidFrom to make a change effective sooner).
#include <regex>

#include "clock.h"
#include "cmdlets.h"
#include "exchange_error.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr size_t kDefaultResultSize = 1000;

ExchangeError invalid_filter(const std::string& filter, const std::string& reason) {
    return exchange::cmdlet_error("Ex4D8E21", "System.Management.Automation.ParameterBindingException",
                                  "Cannot bind parameter 'Filter' to the target. Exception setting \"Filter\": \"" +
                                      reason + "\" (filter: " + filter + ")");
}

// The only filter the sandbox understands: AuthenticationPolicy -eq '<policy DN>'. OPATH doubles
// a quote inside a quoted value.
std::string policy_in_filter(const std::string& filter) {
    static const std::regex form(R"(^\s*AuthenticationPolicy\s+-eq\s+'((?:[^']|'')*)'\s*$)", std::regex::icase);
    std::smatch match;
    if (!std::regex_match(filter, match, form)) {
        throw CmdletFailure(invalid_filter(filter, "Invalid filter syntax. The sandbox supports only "
                                                   "AuthenticationPolicy -eq '<policy distinguished name>'."));
    }
    std::string dn = std::regex_replace(match[1].str(), std::regex("''"), "'");
    if (!istarts_with(dn, "CN=")) {
        throw CmdletFailure(
            invalid_filter(filter, "The value \"" + dn +
                                       "\" could not be converted to type "
                                       "Microsoft.Exchange.Data.Directory.ADObjectId: AuthenticationPolicy "
                                       "is compared by distinguished name."));
    }
    return dn;
}

}  // namespace

CmdletResult get_user(Tenant& tenant, const BoundParameters& parameters) {
    if (const auto identity = parameters.text("Identity")) {
        CmdletResult result;
        result.objects.push_back(tenant.users()[single_match(tenant.find_users(*identity), *identity)]);
        return result;
    }
    std::vector<SharedObject> users;
    if (const auto filter = parameters.text("Filter")) {
        const std::string dn = policy_in_filter(*filter);
        std::string policy_name;  // stays empty for a DN no policy has: nothing matches
        for (const auto& policy : tenant.policies()) {
            if (iequals(text_property(*policy, "DistinguishedName"), dn)) policy_name = text_property(*policy, "Name");
        }
        for (const auto& user : tenant.users()) {
            if (!policy_name.empty() && text_property(*user, "AuthenticationPolicy") == policy_name)
                users.push_back(user);
        }
    } else {
        users.assign(tenant.users().begin(), tenant.users().end());
    }
    return limited(std::move(users), result_size(parameters, kDefaultResultSize), !parameters.has("ResultSize"));
}

CmdletResult set_user(Tenant& tenant, const BoundParameters& parameters) {
    const std::string identity = *parameters.text("Identity");
    value& user = tenant.user(single_match(tenant.find_users(identity), identity));
    bool changed = false;
    if (parameters.has("AuthenticationPolicy")) {
        value reference = value::null();
        if (const auto named = parameters.text("AuthenticationPolicy")) {
            reference = value::string(
                text_property(*tenant.policies()[single_match(tenant.find_policies(*named), *named)], "Name"));
        }
        changed = assign_property(user, "AuthenticationPolicy", reference) || changed;
    }
    if (const auto valid_from = parameters.text("STSRefreshTokensValidFrom")) {
        const value normalized = value::string(rfc3339_precise(*parse_datetime(*valid_from)));
        changed = assign_property(user, "STSRefreshTokensValidFrom", normalized) || changed;
    }
    return write_result(changed, user);
}

}  // namespace sandbox
