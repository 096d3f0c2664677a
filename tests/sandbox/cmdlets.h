// The Exchange cmdlets the sandbox tenant answers, as one table: name, parameters, and the
// function that runs it against the tenant. A cmdlet throws CmdletFailure for Exchange's errors.
#pragma once

#include <cpprest/json.h>

#include <string>
#include <string_view>
#include <vector>

#include "cmdlet_parameters.h"
#include "tenant.h"

namespace sandbox {

// What a call did to the tenant, for the journal: reads are `none`; a write that threw is `failed`.
enum class Change { none, changed, unchanged, failed };

struct CmdletResult {
    std::vector<SharedObject> objects;  // as stored; annotations are added when answering
    std::vector<std::string> warnings;
    Change change = Change::none;
};

using CmdletFunction = CmdletResult (*)(Tenant& tenant, const BoundParameters& parameters);

struct CmdletDefinition {
    std::string_view name;
    bool writes;
    std::vector<ParameterSpec> parameters;
    CmdletFunction run;
};

const CmdletDefinition* find_cmdlet(std::string_view name);  // case-insensitive; nullptr if unknown
std::vector<std::string_view> cmdlet_names();                // every cmdlet of the table, in its order

// Binds the parameters and runs the cmdlet; throws CmdletFailure.
CmdletResult run_cmdlet(const CmdletDefinition& cmdlet, Tenant& tenant, const web::json::value& parameters);

// The functions of the table, by area.
CmdletResult get_transport_config(Tenant& tenant, const BoundParameters& parameters);
CmdletResult set_transport_config(Tenant& tenant, const BoundParameters& parameters);
CmdletResult get_cas_mailbox(Tenant& tenant, const BoundParameters& parameters);
CmdletResult set_cas_mailbox(Tenant& tenant, const BoundParameters& parameters);
CmdletResult get_authentication_policy(Tenant& tenant, const BoundParameters& parameters);
CmdletResult new_authentication_policy(Tenant& tenant, const BoundParameters& parameters);
CmdletResult set_authentication_policy(Tenant& tenant, const BoundParameters& parameters);
CmdletResult get_organization_config(Tenant& tenant, const BoundParameters& parameters);
CmdletResult set_organization_config(Tenant& tenant, const BoundParameters& parameters);
CmdletResult get_user(Tenant& tenant, const BoundParameters& parameters);
CmdletResult set_user(Tenant& tenant, const BoundParameters& parameters);
CmdletResult get_recipient(Tenant& tenant, const BoundParameters& parameters);

// Shared by the Set-* cmdlets: a write that changed nothing succeeds with this warning.
CmdletResult write_result(bool changed, const web::json::value& target);

// The one object an -Identity names, or Exchange's not-found / ambiguous error.
size_t single_match(const std::vector<size_t>& matches, std::string_view identity);

// The first `limit` objects (all for nullopt), with the warning Exchange gives when it cut the
// list short; `defaulted` says the limit is the cmdlet's default rather than -ResultSize.
CmdletResult limited(std::vector<SharedObject> objects, std::optional<size_t> limit, bool defaulted);

// The twelve AllowBasicAuth* switches of an authentication policy.
const std::vector<std::string>& basic_auth_flags();

}  // namespace sandbox
