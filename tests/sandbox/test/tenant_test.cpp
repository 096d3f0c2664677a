// Loading seeds: the project's example snapshot, PowerShell's shapes, and every problem of a bad
// seed reported at once; and the state document built from the tenant.
#include <catch2/catch.hpp>

#include "crypto.h"
#include "sandbox_fixture.h"
#include "serve.h"

namespace sandbox::test {
namespace {
using web::json::value;
}

TEST_CASE("the contoso example snapshot loads as a seed") {
    const value seed = read_json_file(std::string(AUTHGATE_EXAMPLES) + "/contoso/live.json");
    const Tenant tenant = Tenant::from_snapshot(seed, kTenant);
    CHECK(tenant.mailboxes().size() == seed.at("cas_mailboxes").size());
    CHECK(tenant.policies().size() == seed.at("authentication_policies").size());
    CHECK(tenant.users().size() >= tenant.mailboxes().size());
    CHECK(tenant.find_mailboxes("adele.brooks@contoso.com").size() == 1);
}

TEST_CASE("a seed's problems are all reported at once") {
    const value seed = params(R"({
    "transport_config": {"SmtpClientAuthenticationDisabled": "yes"},
    "cas_mailboxes": [{"Identity": "a", "PrimarySmtpAddress": "a@contoso.com"},
                      {"Identity": "b", "Guid": "1", "PrimarySmtpAddress": "A@contoso.com", "SmtpClientAuthenticationDisabled": 1}],
    "authentication_policies": [],
    "organization_config": {"DefaultAuthenticationPolicy": "Missing"}
  })");
    try {
        Tenant::from_snapshot(seed, kTenant);
        FAIL("the seed was accepted");
    } catch (const SnapshotError& error) {
        CHECK(error.problems() ==
              std::vector<std::string>{
                  "transport_config: 'SmtpClientAuthenticationDisabled' must be true or false",
                  "organization_config: 'DefaultAuthenticationPolicy' names no authentication policy of the snapshot "
                  "('Missing')",
                  "cas_mailboxes[0]: 'Guid' must be a non-empty string",
                  "cas_mailboxes[1]: 'SmtpClientAuthenticationDisabled' must be true, false or null",
                  "cas_mailboxes[1]: PrimarySmtpAddress 'A@contoso.com' is also used by cas_mailboxes[0]",
              });
    }
}

TEST_CASE("PowerShell's shapes load: a single object for a list, annotations, a policy reference as an object") {
    const value seed = params(R"({
    "transport_config": {"SmtpClientAuthenticationDisabled": true},
    "cas_mailboxes": {"Identity": "solo", "Guid@odata.type": "#Guid", "Guid": "g-1", "PrimarySmtpAddress": "solo@contoso.com"},
    "authentication_policies": {"Name": "Only"},
    "organization_config": {"DefaultAuthenticationPolicy": {"Name": "Only"}},
    "users": {"Identity": "solo", "AuthenticationPolicy": "Only"}
  })");
    const Tenant tenant = Tenant::from_snapshot(seed, kTenant);
    CHECK(
        tenant.mailboxes().at(0)->serialize() ==
        R"({"Identity":"solo","Guid":"g-1","PrimarySmtpAddress":"solo@contoso.com","SmtpClientAuthenticationDisabled":null})");
    CHECK(tenant.organization_config.at("DefaultAuthenticationPolicy").as_string() == "Only");
    CHECK(
        tenant.policies().at(0)->at("DistinguishedName").as_string() ==
        "CN=Only,CN=Auth "
        "Policies,CN=Configuration,CN=contoso.onmicrosoft.com,CN=ConfigurationUnits,DC=EURPR01A001,DC=prod,DC=outlook,"
        "DC=com");
    CHECK(tenant.users().size() == 1);
    CHECK(tenant.find_users("solo@contoso.com") == std::vector<size_t>{0});
}

TEST_CASE("the state document is the snapshot plus mutations, request counters, faults and TLS handshakes") {
    SandboxFixture fixture;
    fixture.invoke("Get-TransportConfig", value::object());
    const value state = fixture.state();
    std::vector<std::string> members;
    for (const auto& [name, ignored] : state.as_object()) members.push_back(name);
    CHECK(members == std::vector<std::string>{"transport_config", "cas_mailboxes", "authentication_policies",
                                              "organization_config", "users", "mutations", "requests", "faults", "tls",
                                              "webhooks", "tenant_id", "credentials"});
    CHECK(state.at("requests").serialize() ==
          R"({"token":1,"invoke":1,"batch":0,"by_cmdlet":{"Get-TransportConfig":1}})");
    // The token itself is never kept: only the digest of its signature, and the jti of the assertion
    // that earned it.
    const std::string token = fixture.token();
    const std::string signature = token.substr(token.rfind('.') + 1);
    CHECK(signature.size() == 64);
    CHECK(state.at("credentials").at("issued_token_sha256").serialize() ==
          "[\"" + hex_upper(sha256(signature)) + "\"]");
    CHECK(state.at("credentials").at("accepted_jtis").size() == 1);
    CHECK(state.serialize().find(fixture.token()) == std::string::npos);
    CHECK(Tenant::from_snapshot(state, kTenant).mailboxes().size() == 5);  // a state document is a valid seed
}

}  // namespace sandbox::test
