// Entra's policies through Graph (connectors/graph_access.cpp), against scripted answers: what is
// asked, how policies and memberships are read, and that each failure is a part not read.
#include <catch2/catch.hpp>

#include "connectors/graph_usage.h"
#include "fake_http.h"

using namespace authgate;
using namespace authgate::testing;
using Catch::Contains;
using Catch::StartsWith;

namespace {

const std::string graph = "https://graph.microsoft.com";

HttpResponse ok(const std::string& body) { return {200, {{"content-type", "application/json"}}, body}; }

HttpResponse error(int status, const std::string& code, const std::string& message) {
    return {status, {}, R"({"error":{"code":")" + code + R"(","message":")" + message + R"("}})"};
}

const std::string defaults_on = R"({"id":"00000000-0000-0000-0000-000000000005","isEnabled":true})";

const std::string block_policy = R"({"id":"p1","displayName":"Block legacy","state":"enabled",
  "conditions":{"clientAppTypes":["exchangeActiveSync","other"],"applications":{"includeApplications":["All"],
  "excludeApplications":[]},"users":{"includeUsers":["All"],"excludeUsers":[],"includeGroups":[],
  "excludeGroups":["9F000000-0000-4000-8000-00000000000A"],"includeRoles":[],"excludeRoles":[]},
  "locations":{"includeLocations":["All"],"excludeLocations":["AllTrusted"]},"platforms":null,"signInRiskLevels":[],
  "userRiskLevels":[]},"grantControls":{"operator":"OR","builtInControls":["block"],"authenticationStrength":null},
  "sessionControls":null})";

struct Fixture : FakeSignIn {
    ScriptedTransport http;
    GraphUsageReader reader{
        http, tokens, graph, [] { return *parse_instant("2026-11-22T10:00:00Z"); }, [](std::chrono::milliseconds) {},
        7};
};

}  // namespace

TEST_CASE("graph access: security defaults and every page of Conditional Access, read as they are",
          "[graph][conditional-access]") {
    Fixture f;
    f.http.answer(ok(defaults_on));
    f.http.answer(ok(
        R"({"value":[)" + block_policy +
        R"(],"@odata.nextLink":"https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies?$skiptoken=x"})"));
    f.http.answer(ok(R"({"value":[{"id":"p2","displayName":"Off","state":"disabled","conditions":{"users":{},
      "applications":{}},"grantControls":null}]})"));
    const EntraPolicies entra = f.reader.entra_policies();
    REQUIRE(f.http.requests.size() == 3);
    CHECK(f.http.requests[0].url == graph + "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy");
    CHECK(f.http.requests[1].url == graph + "/v1.0/identity/conditionalAccess/policies");
    CHECK(f.http.requests[2].url == graph + "/v1.0/identity/conditionalAccess/policies?$skiptoken=x");
    CHECK(f.http.requests[0].headers.at("Authorization") == "Bearer token-1");
    REQUIRE(entra.security_defaults);
    CHECK(*entra.security_defaults);
    REQUIRE(entra.conditional_access);
    REQUIRE(entra.conditional_access->size() == 2);
    const ConditionalAccessPolicy& first = entra.conditional_access->front();
    CHECK(first.display_name == "Block legacy");
    CHECK(first.state == PolicyState::enabled);
    CHECK(first.client_app_types == std::vector<std::string>{"exchangeActiveSync", "other"});
    CHECK(first.exclude_groups == std::vector<std::string>{"9f000000-0000-4000-8000-00000000000a"});
    CHECK(first.sign_in_conditions == std::vector<std::string>{"locations"});
    CHECK(first.grant_controls == std::vector<std::string>{"block"});
    CHECK(entra.conditional_access->back().state == PolicyState::disabled);
}

TEST_CASE("graph access: each failure is a part not read, with its fix", "[graph][conditional-access]") {
    Fixture f;
    SECTION("no Policy.Read.All") {
        f.http.answer(error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."));
        f.http.answer(error(403, "AccessDenied", "required scopes are missing in the token."));
        const EntraPolicies entra = f.reader.entra_policies();
        CHECK_FALSE(entra.security_defaults);
        CHECK_FALSE(entra.conditional_access);
        CHECK_THAT(entra.security_defaults_why_not, StartsWith("reading the security defaults policy failed: HTTP 403 "
                                                               "Authorization_RequestDenied") &&
                                                        Contains("Policy.Read.All"));
        CHECK_THAT(entra.conditional_access_why_not, Contains("Policy.Read.All"));
    }
    SECTION("no Entra ID P1: asked twice, then said") {
        f.http.answer(ok(R"({"isEnabled":false})"));
        const HttpResponse licence = error(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                                           "Neither tenant is B2C or tenant doesn't have premium license");
        f.http.answer(licence);
        f.http.answer(licence);
        const EntraPolicies entra = f.reader.entra_policies();
        CHECK(entra.security_defaults == std::optional<bool>(false));
        CHECK_FALSE(entra.conditional_access);
        CHECK_THAT(entra.conditional_access_why_not, Contains("needs Entra ID P1 or P2"));
    }
    SECTION("a nextLink to another origin is not followed") {
        f.http.answer(ok(defaults_on));
        f.http.answer(ok(R"({"value":[],"@odata.nextLink":"https://graph.evil.example/v1.0/x?$skiptoken=1"})"));
        const EntraPolicies entra = f.reader.entra_policies();
        CHECK(f.http.requests.size() == 2);
        CHECK_FALSE(entra.conditional_access);
        CHECK_THAT(entra.conditional_access_why_not,
                   Contains("refusing to follow @odata.nextLink to another origin (https://graph.evil.example)"));
    }
    SECTION("a policy in a state authgate does not know fails the list, never guessed") {
        f.http.answer(ok(defaults_on));
        f.http.answer(ok(R"({"value":[{"id":"p","displayName":"New","state":"enabledSomehow","conditions":{}}]})"));
        const EntraPolicies entra = f.reader.entra_policies();
        CHECK_FALSE(entra.conditional_access);
        CHECK_THAT(entra.conditional_access_why_not, Contains("the policy 'New' has a state authgate does not know"));
    }
    SECTION("an answer without isEnabled") {
        f.http.answer(ok(R"({"id":"x"})"));
        f.http.answer(ok(R"({"value":[]})"));
        const EntraPolicies entra = f.reader.entra_policies();
        CHECK_FALSE(entra.security_defaults);
        CHECK(entra.conditional_access);
        CHECK_THAT(entra.security_defaults_why_not, Contains("has no isEnabled"));
    }
}

TEST_CASE("graph access: a user's groups and roles, every page, and a 403 says which permission",
          "[graph][conditional-access]") {
    Fixture f;
    const std::string user = "42e92028-ed7b-5c0f-beaf-771a500077de";
    f.http.answer(ok(R"({"value":[{"@odata.type":"#microsoft.graph.group","id":"G-1"}],
      "@odata.nextLink":"https://graph.microsoft.com/v1.0/users/x/transitiveMemberOf?$skiptoken=2"})"));
    f.http.answer(ok(R"({"value":[{"@odata.type":"#microsoft.graph.directoryRole","id":"r","roleTemplateId":"T-1"},
      {"@odata.type":"#microsoft.graph.administrativeUnit","id":"au"}]})"));
    const DirectoryMembership membership = f.reader.membership(user);
    CHECK_THAT(f.http.requests.at(0).url,
               StartsWith(graph + "/v1.0/users/" + user + "/transitiveMemberOf?$select=id%2CroleTemplateId"));
    REQUIRE(membership.groups);
    CHECK(*membership.groups == std::set<std::string>{"g-1"});
    CHECK(*membership.roles == std::set<std::string>{"t-1"});

    Fixture g;
    g.http.answer(error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."));
    const DirectoryMembership refused = g.reader.membership(user);
    CHECK_FALSE(refused.groups);
    CHECK_THAT(refused.why_not, Contains("GroupMember.Read.All"));
    CHECK_FALSE(Fixture{}.reader.membership("").groups);
}
