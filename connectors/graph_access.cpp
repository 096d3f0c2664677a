// Entra's side of SMTP AUTH through Microsoft Graph, app-only: the security defaults policy, the
// Conditional Access policies and a user's transitive groups and roles (GraphUsageReader's
// requests: the same token, retries, origin check and error texts).
#include <string_view>

#include <simdjson.h>

#include "connectors/graph_usage.h"
#include "connectors/json_pages.h"
#include "policies/name.h"
#include "policies/printable.h"

namespace authgate {
namespace {

constexpr std::string_view premium_code = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";
constexpr int max_list_pages = 1000;

bool mentions_licence(const std::string& text) {
    const std::string folded = fold_case(text);
    return folded.find("premium") != std::string::npos || folded.find("licen") != std::string::npos;
}

std::string string_of(const simdjson::dom::element& object, std::string_view key) {
    std::string_view text;
    if (object[key].get_string().get(text) != simdjson::SUCCESS) return {};
    return std::string(text);
}

// A list of strings at `key`; absent or null is empty. False when it is something else.
bool strings_at(const simdjson::dom::element& object, std::string_view key, std::vector<std::string>& out) {
    simdjson::dom::element member;
    if (object[key].get(member) != simdjson::SUCCESS || member.is_null()) return true;
    simdjson::dom::array items;
    if (member.get_array().get(items) != simdjson::SUCCESS) return false;
    for (const simdjson::dom::element item : items) {
        std::string_view text;
        if (item.get_string().get(text) != simdjson::SUCCESS) return false;
        out.emplace_back(text);
    }
    return true;
}

// Whether `object[key]` holds something: not absent, not null, not an empty array or object.
bool present(const simdjson::dom::element& object, std::string_view key) {
    simdjson::dom::element member;
    if (object[key].get(member) != simdjson::SUCCESS || member.is_null()) return false;
    simdjson::dom::array items;
    if (member.get_array().get(items) == simdjson::SUCCESS) return items.size() > 0;
    simdjson::dom::object fields;
    if (member.get_object().get(fields) == simdjson::SUCCESS) return fields.size() > 0;
    return true;
}

// One conditionalAccessPolicy; the problem when it cannot be read as one.
std::string read_policy(const simdjson::dom::element& row, ConditionalAccessPolicy& policy) {
    policy.id = string_of(row, "id");
    policy.display_name = string_of(row, "displayName");
    const std::string name = "the policy '" + printable(policy.display_name.empty() ? policy.id : policy.display_name) +
                             "'";
    const std::string state = string_of(row, "state");
    const auto parsed = parse_name<PolicyState>(state);
    if (!parsed) return name + " has a state authgate does not know ('" + printable(state) + "')";
    policy.state = *parsed;
    simdjson::dom::element conditions;
    if (row["conditions"].get(conditions) != simdjson::SUCCESS || !conditions.is_object())
        return name + " has no conditions";
    simdjson::dom::element users, applications;
    if (conditions["users"].get(users) != simdjson::SUCCESS || !users.is_object())
        return name + " has no conditions.users";
    if (conditions["applications"].get(applications) != simdjson::SUCCESS || !applications.is_object())
        return name + " has no conditions.applications";
    const bool lists = strings_at(conditions, "clientAppTypes", policy.client_app_types) &&
                       strings_at(users, "includeUsers", policy.include_users) &&
                       strings_at(users, "excludeUsers", policy.exclude_users) &&
                       strings_at(users, "includeGroups", policy.include_groups) &&
                       strings_at(users, "excludeGroups", policy.exclude_groups) &&
                       strings_at(users, "includeRoles", policy.include_roles) &&
                       strings_at(users, "excludeRoles", policy.exclude_roles) &&
                       strings_at(applications, "includeApplications", policy.include_applications) &&
                       strings_at(applications, "excludeApplications", policy.exclude_applications);
    if (!lists) return name + " has a condition that is not a list of strings";
    for (auto& id : policy.include_groups) id = fold_case(id);
    for (auto& id : policy.exclude_groups) id = fold_case(id);
    for (auto& id : policy.include_roles) id = fold_case(id);
    for (auto& id : policy.exclude_roles) id = fold_case(id);
    // The conditions that depend on the sign-in rather than on the user.
    for (const auto& [key, said] :
         {std::pair{"locations", "locations"}, std::pair{"platforms", "platforms"}, std::pair{"devices", "devices"},
          std::pair{"signInRiskLevels", "sign-in risk"}, std::pair{"userRiskLevels", "user risk"},
          std::pair{"insiderRiskLevels", "insider risk"}, std::pair{"authenticationFlows", "authentication flows"}})
        if (present(conditions, key)) policy.sign_in_conditions.emplace_back(said);
    simdjson::dom::element grant;
    if (row["grantControls"].get(grant) == simdjson::SUCCESS && grant.is_object()) {
        if (!strings_at(grant, "builtInControls", policy.grant_controls))
            return name + " has grantControls.builtInControls that are not a list of strings";
        if (present(grant, "authenticationStrength")) policy.grant_controls.emplace_back("authenticationStrength");
        if (present(grant, "termsOfUse")) policy.grant_controls.emplace_back("termsOfUse");
        if (present(grant, "customAuthenticationFactors"))
            policy.grant_controls.emplace_back("customAuthenticationFactors");
    }
    return "";
}

}  // namespace

std::string GraphUsageReader::read_list(const std::string& url, const std::string& what,
                                        const std::function<void(const simdjson::dom::element&)>& each,
                                        Answer* failed) {
    PageParser pages;
    std::string next = url;
    for (int page_count = 1; !next.empty(); ++page_count) {
        Answer answer = get(next, what);
        if (!answer.ok()) {
            std::string failure = answer.failure;
            if (failed) *failed = std::move(answer);
            return failure;
        }
        const PageParser::Page page = pages.read(answer.response.body, each);
        if (!page.problem.empty())
            return what + " failed: " + page.problem + " (client-request-id " + answer.request_id + ")";
        next.clear();
        if (!page.next_link) break;
        // The bearer token goes to the Graph endpoint and nowhere else.
        if (origin_of(*page.next_link) != origin_)
            return what + " failed: refusing to follow @odata.nextLink to another origin (" +
                   (origin_of(*page.next_link).empty() ? host_part(*page.next_link) : origin_of(*page.next_link)) +
                   "); the token is only sent to " + origin_ + " (client-request-id " + answer.request_id + ")";
        if (page_count >= max_list_pages)
            return what + " failed: more than " + std::to_string(max_list_pages) +
                   " pages; the list is not read to its end (client-request-id " + answer.request_id + ")";
        next = *page.next_link;
    }
    return "";
}

EntraPolicies GraphUsageReader::entra_policies() {
    EntraPolicies entra;
    const std::string permission =
        "; grant the app the Graph application permission Policy.Read.All, with admin consent";

    // 1. Security defaults: one object.
    const std::string defaults_what = "reading the security defaults policy";
    const Answer defaults = get(graph_ + "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy", defaults_what);
    if (!defaults.ok()) {
        entra.security_defaults_why_not = defaults.failure + (defaults.status == 403 ? permission : "");
    } else {
        simdjson::dom::parser parser;
        simdjson::dom::element body;
        bool enabled = false;
        if (parser.parse(defaults.response.body).get(body) == simdjson::SUCCESS &&
            body["isEnabled"].get_bool().get(enabled) == simdjson::SUCCESS)
            entra.security_defaults = enabled;
        else
            entra.security_defaults_why_not =
                defaults_what + " failed: the answer has no isEnabled (client-request-id " + defaults.request_id + ")";
    }

    // 2. Conditional Access: every policy, every page.
    const std::string what = "reading the Conditional Access policies";
    std::vector<ConditionalAccessPolicy> policies;
    std::string problem;
    Answer failed;
    std::string failure = read_list(
        graph_ + "/v1.0/identity/conditionalAccess/policies", what,
        [&](const simdjson::dom::element& row) {
            if (!problem.empty()) return;
            ConditionalAccessPolicy policy;
            problem = read_policy(row, policy);
            if (problem.empty()) policies.push_back(std::move(policy));
        },
        &failed);
    if (failure.empty() && !problem.empty()) failure = what + " failed: " + problem;
    if (!failure.empty()) {
        if (failed.status == 403 && (failed.code == premium_code || mentions_licence(failed.response.body)))
            failure += "; Conditional Access needs Entra ID P1 or P2: without it the tenant enforces no Conditional "
                       "Access policy, but authgate cannot tell that from a refusal";
        else if (failed.status == 403) failure += permission;
        entra.conditional_access_why_not = failure;
        return entra;
    }
    entra.conditional_access = std::move(policies);
    return entra;
}

DirectoryMembership GraphUsageReader::membership(const std::string& user_id) {
    DirectoryMembership membership;
    const std::string what = "reading the groups and roles of user " + printable(user_id);
    if (user_id.empty()) {
        membership.why_not = "the mailbox has no directory object id (ExternalDirectoryObjectId)";
        return membership;
    }
    std::set<std::string> groups, roles;
    Answer failed;
    const std::string failure = read_list(
        graph_ + "/v1.0/users/" + percent_encode(user_id) +
            "/transitiveMemberOf?$select=" + percent_encode("id,roleTemplateId") + "&$top=999",
        what,
        [&](const simdjson::dom::element& row) {
            const std::string type = string_of(row, "@odata.type");
            if (type == "#microsoft.graph.group") groups.insert(fold_case(string_of(row, "id")));
            else if (type == "#microsoft.graph.directoryRole")
                roles.insert(fold_case(string_of(row, "roleTemplateId")));
        },
        &failed);
    if (!failure.empty()) {
        membership.why_not = failure;
        if (failed.status == 403)
            membership.why_not += "; grant the app the Graph application permission GroupMember.Read.All (or "
                                  "Directory.Read.All), with admin consent";
        return membership;
    }
    membership.groups = std::move(groups);
    membership.roles = std::move(roles);
    return membership;
}

}  // namespace authgate
