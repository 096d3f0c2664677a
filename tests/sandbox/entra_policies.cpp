#include "entra_policies.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <cpprest/base_uri.h>

#include "crypto.h"
#include "graph_api.h"
#include "sandbox_state.h"
#include "tenant.h"
#include "text.h"
#include "usage_data.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr const char* kEntraInsufficientPrivileges = "Insufficient privileges to complete the operation.";
constexpr const char* kEntraPoliciesPath = "/v1.0/identity/conditionalaccess/policies";
constexpr const char* kEntraSecurityDefaultsPath = "/v1.0/policies/identitysecuritydefaultsenforcementpolicy";

[[noreturn]] void refuse_entra(const std::string& member, const std::string& problem) {
    throw std::invalid_argument("entra." + member + ": " + problem);
}

bool holds_role(const std::vector<std::string>& roles, std::string_view role) {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
}

// A user named by address becomes its mailbox's ExternalDirectoryObjectId; anything else stays.
std::string entra_directory_id(const std::string& name, const Tenant& tenant, const std::string& member) {
    if (name.find('@') == std::string::npos) return name;
    const auto found = tenant.find_mailboxes(name);
    if (found.empty()) refuse_entra(member, "no mailbox has the address '" + name + "'");
    const std::string id = text_property(*tenant.mailboxes()[found.front()], "ExternalDirectoryObjectId");
    if (id.empty()) refuse_entra(member, "the mailbox '" + name + "' has no ExternalDirectoryObjectId");
    return id;
}

std::vector<std::string> entra_members_of(const value& entry, const Tenant& tenant, const std::string& member) {
    std::vector<std::string> members;
    if (!entry.has_field("members")) return members;
    if (!entry.at("members").is_array()) refuse_entra(member + ".members", "must be a list of addresses or ids");
    for (const value& item : entry.at("members").as_array()) {
        if (!item.is_string()) refuse_entra(member + ".members", "must be a list of addresses or ids");
        members.push_back(to_lower(entra_directory_id(item.as_string(), tenant, member + ".members")));
    }
    return members;
}

std::string entra_string_member(const value& entry, const char* key, const std::string& member) {
    if (!entry.has_field(key) || !entry.at(key).is_string() || entry.at(key).as_string().empty())
        refuse_entra(member + "." + key, "must be a non-empty string");
    return entry.at(key).as_string();
}

// The groups and roles `user` holds, through any depth of nested groups.
std::pair<std::vector<const EntraGroup*>, std::vector<const EntraRole*>> entra_transitive(const EntraData& data,
                                                                                          const std::string& user) {
    std::set<std::string> holders{to_lower(user)};
    std::vector<const EntraGroup*> groups;
    for (bool grew = true; grew;) {
        grew = false;
        for (const EntraGroup& group : data.groups) {
            if (holders.count(to_lower(group.id))) continue;
            const bool member = std::any_of(group.members.begin(), group.members.end(),
                                            [&](const std::string& id) { return holders.count(id) > 0; });
            if (!member) continue;
            holders.insert(to_lower(group.id));
            groups.push_back(&group);
            grew = true;
        }
    }
    std::vector<const EntraRole*> roles;
    for (const EntraRole& role : data.roles)
        if (std::any_of(role.members.begin(), role.members.end(),
                        [&](const std::string& id) { return holders.count(id) > 0; }))
            roles.push_back(&role);
    return {groups, roles};
}

// A page of `rows` from `offset`, with a nextLink to the rest ($skiptoken is the next offset).
HttpResponse entra_list_page(SandboxState& state, const HttpRequest& request, const std::string& context,
                             const std::vector<value>& rows) {
    size_t offset = 0;
    if (const auto token = query_value(request.query, "$skiptoken")) {
        const std::string digits(trim(*token));
        if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(digits) > rows.size())
            return graph_error(state, request, 400, "BadRequest", "Invalid $skiptoken.");
        offset = std::stoul(digits);
    }
    const EntraData& data = state.graph.entra;
    const size_t end = std::min(rows.size(), offset + data.page_size);
    const std::string origin = state.origin_for(request.headers.get("Host"));
    value page = value::object(true);
    page["@odata.context"] = value::string(origin + "/v1.0/$metadata#" + context);
    if (end < rows.size()) {
        const std::string link_origin = state.faults.foreign_next_link().value_or(origin);
        std::string query;
        for (const auto& [name, given] : request.query)
            if (name != "$skiptoken")
                query += web::uri::encode_data_string(name) + "=" + web::uri::encode_data_string(given) + "&";
        page["@odata.nextLink"] =
            value::string(link_origin + request.path + "?" + query + "$skiptoken=" + std::to_string(end));
    }
    page["value"] = value::array(
        std::vector<value>(rows.begin() + static_cast<long>(offset), rows.begin() + static_cast<long>(end)));
    return graph_success(state, request, page);
}

}  // namespace

EntraData EntraData::parse(const value& document, const Tenant& tenant) {
    if (!document.is_object()) refuse_entra("", "must be an object");
    EntraData data;
    for (const auto& [key, ignored] : document.as_object()) {
        if (key != "security_defaults" && key != "premium" && key != "page_size" && key != "policies" &&
            key != "groups" && key != "roles")
            refuse_entra(key, "is not a member authgate's sandbox knows");
    }
    for (const auto& [key, flag] :
         {std::pair{"security_defaults", &data.security_defaults}, std::pair{"premium", &data.premium}}) {
        if (!document.has_field(key)) continue;
        if (!document.at(key).is_boolean()) refuse_entra(key, "must be true or false");
        *flag = document.at(key).as_bool();
    }
    if (document.has_field("page_size")) {
        const value& size = document.at("page_size");
        if (!size.is_integer() || size.as_integer() < 1 || size.as_integer() > 999)
            refuse_entra("page_size", "must be an integer from 1 to 999");
        data.page_size = static_cast<size_t>(size.as_integer());
    }
    const auto list = [&](const char* key) {
        std::vector<value> items;
        if (!document.has_field(key)) return items;
        if (!document.at(key).is_array()) refuse_entra(key, "must be a list");
        for (const value& item : document.at(key).as_array()) items.push_back(item);
        return items;
    };
    size_t at = 0;
    for (const value& entry : list("groups")) {
        const std::string member = "groups[" + std::to_string(at++) + "]";
        if (!entry.is_object()) refuse_entra(member, "must be an object");
        EntraGroup group{entra_string_member(entry, "id", member), "", entra_members_of(entry, tenant, member)};
        group.display_name = entry.has_string_field("display_name") ? entry.at("display_name").as_string() : group.id;
        data.groups.push_back(std::move(group));
    }
    at = 0;
    for (const value& entry : list("roles")) {
        const std::string member = "roles[" + std::to_string(at++) + "]";
        if (!entry.is_object()) refuse_entra(member, "must be an object");
        EntraRole role{entra_string_member(entry, "template_id", member), "", entra_members_of(entry, tenant, member)};
        role.display_name = entry.has_string_field("display_name") ? entry.at("display_name").as_string()
                                                                   : role.template_id;
        data.roles.push_back(std::move(role));
    }
    at = 0;
    for (value policy : list("policies")) {
        const std::string member = "policies[" + std::to_string(at++) + "]";
        if (!policy.is_object()) refuse_entra(member, "must be a conditionalAccessPolicy object");
        if (!policy.has_field("id")) policy["id"] = value::string(guid_from_digest(sha256(member)));
        if (policy.has_object_field("conditions") && policy.at("conditions").has_object_field("users")) {
            value& users = policy["conditions"]["users"];
            for (const char* key : {"includeUsers", "excludeUsers"}) {
                if (!users.has_array_field(key)) continue;
                for (value& item : users[key].as_array())
                    if (item.is_string())
                        item = value::string(
                            entra_directory_id(item.as_string(), tenant, member + ".conditions.users." + key));
            }
        }
        data.policies.push_back(std::move(policy));
    }
    data.document = document;
    return data;
}

bool is_entra_policy_path(const std::string& lower_path) { return !entra_endpoint(lower_path).empty(); }

std::string entra_endpoint(const std::string& lower_path) {
    if (lower_path == kEntraSecurityDefaultsPath) return "securityDefaults";
    if (lower_path == kEntraPoliciesPath) return "conditionalAccessPolicies";
    if (lower_path.starts_with("/v1.0/users/") && lower_path.ends_with("/transitivememberof") &&
        std::count(lower_path.begin(), lower_path.end(), '/') == 4)
        return "transitiveMemberOf";
    return "";
}

HttpResponse handle_entra_policy(SandboxState& state, const HttpRequest& request,
                                 const std::vector<std::string>& roles) {
    if (request.method != "GET")
        return graph_error(state, request, 405, "Request_BadRequest",
                           "Specified HTTP method is not allowed for the request target.");
    const std::string path = to_lower(request.path);
    const std::string endpoint = entra_endpoint(path);
    const EntraData& data = state.graph.entra;
    const std::string origin = state.origin_for(request.headers.get("Host"));
    if (endpoint == "securityDefaults") {
        if (!holds_role(roles, "Policy.Read.All"))
            return graph_error(state, request, 403, "Authorization_RequestDenied", kEntraInsufficientPrivileges);
        value body = value::object(true);
        body["@odata.context"] =
            value::string(origin + "/v1.0/$metadata#policies/identitySecurityDefaultsEnforcementPolicy/$entity");
        body["id"] = value::string("00000000-0000-0000-0000-000000000005");
        body["displayName"] = value::string("Security Defaults");
        body["description"] =
            value::string("Security defaults is a set of basic identity security mechanisms recommended by Microsoft.");
        body["isEnabled"] = value::boolean(data.security_defaults);
        return graph_success(state, request, body);
    }
    if (endpoint == "conditionalAccessPolicies") {
        if (!holds_role(roles, "Policy.Read.All"))
            return graph_error(state, request, 403, "AccessDenied",
                               "You cannot perform the requested operation, required scopes are missing in the token.");
        if (!data.premium)
            return graph_error(state, request, 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                               "Neither tenant is B2C or tenant doesn't have premium license");
        return entra_list_page(state, request, "identity/conditionalAccess/policies", data.policies);
    }
    // transitiveMemberOf
    if (!holds_role(roles, "GroupMember.Read.All") && !holds_role(roles, "Directory.Read.All"))
        return graph_error(state, request, 403, "Authorization_RequestDenied", kEntraInsufficientPrivileges);
    const std::string user = percent_decode(split(request.path, '/')[3], false);
    const bool known = std::any_of(state.tenant.mailboxes().begin(), state.tenant.mailboxes().end(),
                                   [&](const auto& mailbox) {
                                       return iequals(text_property(*mailbox, "ExternalDirectoryObjectId"), user);
                                   });
    if (!known)
        return graph_error(state, request, 404, "Request_ResourceNotFound",
                           "Resource '" + user +
                               "' does not exist or one of its queried reference-property objects "
                               "are not present.");
    const auto [groups, held] = entra_transitive(data, user);
    std::vector<value> rows;
    for (const EntraGroup* group : groups) {
        value row = value::object(true);
        row["@odata.type"] = value::string("#microsoft.graph.group");
        row["id"] = value::string(group->id);
        row["displayName"] = value::string(group->display_name);
        rows.push_back(row);
    }
    for (const EntraRole* role : held) {
        value row = value::object(true);
        row["@odata.type"] = value::string("#microsoft.graph.directoryRole");
        row["id"] = value::string(guid_from_digest(sha256("role:" + role->template_id)));
        row["displayName"] = value::string(role->display_name);
        row["roleTemplateId"] = value::string(role->template_id);
        rows.push_back(row);
    }
    return entra_list_page(state, request, "directoryObjects", rows);
}

HttpResponse handle_entra_control(SandboxState& state, const HttpRequest& request) {
    const auto problem = [](int status, const std::string& message) {
        value body = value::object(true);
        body["error"] = value::string(message);
        return HttpResponse::json(status, body);
    };
    if (request.method == "DELETE") {
        state.graph.entra = EntraData{};
    } else if (request.method == "POST") {
        try {
            state.graph.entra = EntraData::parse(value::parse(request.body), state.tenant);
        } catch (const web::json::json_exception& error) {
            return problem(400, std::string("the entra document is not JSON: ") + error.what());
        } catch (const std::invalid_argument& error) {
            return problem(400, error.what());
        }
    } else if (request.method != "GET") {
        return problem(405, "use GET, POST or DELETE on /_sandbox/entra");
    }
    value summary = value::object(true);
    summary["security_defaults"] = value::boolean(state.graph.entra.security_defaults);
    summary["premium"] = value::boolean(state.graph.entra.premium);
    summary["policies"] = value::number(static_cast<int64_t>(state.graph.entra.policies.size()));
    summary["groups"] = value::number(static_cast<int64_t>(state.graph.entra.groups.size()));
    summary["roles"] = value::number(static_cast<int64_t>(state.graph.entra.roles.size()));
    summary["document"] = state.graph.entra.document;
    return HttpResponse::json(200, summary);
}

}  // namespace sandbox
