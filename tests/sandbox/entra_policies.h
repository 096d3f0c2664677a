// Entra's policies beside Exchange, as Microsoft Graph answers them:
//   GET /v1.0/policies/identitySecurityDefaultsEnforcementPolicy   isEnabled           (Policy.Read.All)
//   GET /v1.0/identity/conditionalAccess/policies                  paged; 403 without P1 (Policy.Read.All)
//   GET /v1.0/users/{id}/transitiveMemberOf                        groups (nested) and directory roles, paged
//                                                                  (GroupMember.Read.All or Directory.Read.All)
// from a document POSTed to /_sandbox/entra (README.md, "Entra's policies").
#pragma once

#include <cpprest/json.h>

#include <string>
#include <vector>

#include "http_message.h"

namespace sandbox {

struct SandboxState;
class Tenant;

struct EntraGroup {
    std::string id;
    std::string display_name;
    std::vector<std::string> members;  // user object ids and group ids
};

struct EntraRole {
    std::string template_id;
    std::string display_name;
    std::vector<std::string> members;  // user object ids and group ids
};

struct EntraData {
    bool security_defaults = false;
    bool premium = true;  // false: Conditional Access answers 403, as for a tenant without Entra ID P1
    size_t page_size = 100;
    std::vector<web::json::value> policies;  // conditionalAccessPolicy objects, as Graph answers them
    std::vector<EntraGroup> groups;
    std::vector<EntraRole> roles;
    web::json::value document = web::json::value::null();  // as loaded

    // Throws std::invalid_argument naming the member that is wrong; unknown members are refused.
    // A member or a policy's includeUsers/excludeUsers entry with '@' is a mailbox's address,
    // made its ExternalDirectoryObjectId.
    static EntraData parse(const web::json::value& document, const Tenant& tenant);
};

// Whether `path` is one of the endpoints above (lower-cased path).
bool is_entra_policy_path(const std::string& lower_path);
// The endpoint's name for the request counters and graph_throttle: "securityDefaults",
// "conditionalAccessPolicies" or "transitiveMemberOf".
std::string entra_endpoint(const std::string& lower_path);

// Answers one of them; `roles` are the bearer's application roles.
HttpResponse handle_entra_policy(SandboxState& state, const HttpRequest& request,
                                 const std::vector<std::string>& roles);

// GET, POST, DELETE /_sandbox/entra.
HttpResponse handle_entra_control(SandboxState& state, const HttpRequest& request);

}  // namespace sandbox
