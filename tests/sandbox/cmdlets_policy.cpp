// Authentication policies (New/Get/Set-AuthenticationPolicy) and the organisation's default
// policy (Get/Set-OrganizationConfig). Policy references are stored and returned as names.
#include "cmdlets.h"
#include "crypto.h"
#include "exchange_error.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr size_t kMaximumNameLength = 64;
constexpr const char* kDefaultPolicy = "DefaultAuthenticationPolicy";

bool assign_flags(value& policy, const BoundParameters& parameters) {
    bool changed = false;
    for (const auto& flag : basic_auth_flags()) {
        if (parameters.has(flag)) changed = assign_property(policy, flag, parameters.get(flag)) || changed;
    }
    return changed;
}

void check_new_name(const Tenant& tenant, const std::string& name) {
    if (trim(name).empty()) {
        throw CmdletFailure(exchange::argument_validation(
            "Name",
            "The argument is null or empty. Provide an argument that is not null or empty, and then try the command "
            "again."));
    }
    if (name.size() > kMaximumNameLength) {
        throw CmdletFailure(exchange::argument_validation(
            "Name",
            "The character length of the " + std::to_string(name.size()) +
                " argument is too long. Shorten the character length of the argument so it is fewer than or equal "
                "to \"64\" characters, and then try the command again."));
    }
    for (const auto& stored : tenant.policies()) {
        const value& policy = *stored;
        if (iequals(text_property(policy, "Name"), name)) {
            throw CmdletFailure(exchange::cmdlet_error(
                "Ex2A9B17", "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException",
                "The object '" + text_property(policy, "DistinguishedName") + "' already exists."));
        }
    }
}

}  // namespace

CmdletResult get_authentication_policy(Tenant& tenant, const BoundParameters& parameters) {
    CmdletResult result;
    if (const auto identity = parameters.text("Identity")) {
        result.objects.push_back(tenant.policies()[single_match(tenant.find_policies(*identity), *identity)]);
    } else {
        result.objects.assign(tenant.policies().begin(), tenant.policies().end());
    }
    return result;
}

CmdletResult new_authentication_policy(Tenant& tenant, const BoundParameters& parameters) {
    const std::string name = *parameters.text("Name");
    check_new_name(tenant, name);
    value policy = value::object(true);
    policy["Name"] = value::string(name);
    policy["Identity"] = value::string(name);
    policy["Guid"] = value::string(random_guid());
    policy["DistinguishedName"] = value::string(tenant.policy_distinguished_name(name));
    for (const auto& flag : basic_auth_flags()) {
        policy[flag] = parameters.has(flag) ? parameters.get(flag) : value::boolean(false);
    }
    tenant.add_policy(policy);
    CmdletResult result;
    result.objects.push_back(std::make_shared<const value>(policy));
    result.change = Change::changed;
    return result;
}

CmdletResult set_authentication_policy(Tenant& tenant, const BoundParameters& parameters) {
    const std::string identity = *parameters.text("Identity");
    value& policy = tenant.policy(single_match(tenant.find_policies(identity), identity));
    return write_result(assign_flags(policy, parameters), policy);
}

CmdletResult get_organization_config(Tenant& tenant, const BoundParameters&) {
    CmdletResult result;
    result.objects.push_back(std::make_shared<const value>(tenant.organization_config));
    return result;
}

CmdletResult set_organization_config(Tenant& tenant, const BoundParameters& parameters) {
    bool changed = false;
    if (parameters.has(kDefaultPolicy)) {
        value reference = value::null();
        if (const auto named = parameters.text(kDefaultPolicy)) {
            reference = value::string(
                text_property(*tenant.policies()[single_match(tenant.find_policies(*named), *named)], "Name"));
        }
        changed = assign_property(tenant.organization_config, kDefaultPolicy, reference);
    }
    return write_result(changed, tenant.organization_config);
}

}  // namespace sandbox
