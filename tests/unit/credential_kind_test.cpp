// The credential kind among the connection settings: where it comes from, what each kind needs,
// and that the session's token source is the kind chosen, never another.
#include <catch2/catch.hpp>

#include <map>

#include "agent/connection.h"
#include "connection_inputs.h"
#include "connectors/managed_identity.h"
#include "connectors/workload_identity.h"
#include "fake_http.h"
#include "policies/loader.h"

using namespace authgate;
using namespace authgate::testing;

namespace {

DesiredState desired(const std::string& connection) {
    LoadResult loaded = load_desired_state_text(
        "/repo/desired.toml", "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n" + connection);
    REQUIRE_FALSE(loaded.diagnostics.has_errors());
    return loaded.state;
}

const std::string app = "[connection]\napp_id = \"6f1c0e2a-0000-4000-8000-000000000001\"\n";

class FixedClock : public Clock {
public:
    Instant now() const override { return *parse_instant("2026-11-22T10:00:00Z"); }
};

}  // namespace

TEST_CASE("the credential kind: flag over environment over [connection] credential, certificate by default",
          "[connection][credential]") {
    CHECK(resolve_connection(connection_flags({}), desired(app + "certificate = \"a.pem\"\n"), environment_of({}))
              .credential == CredentialKind::certificate);
    const DesiredState file = desired(app + "credential = \"managed-identity\"\n");
    CHECK(resolve_connection(connection_flags({}), file, environment_of({})).credential ==
          CredentialKind::managed_identity);
    CHECK(resolve_connection(connection_flags({}), file, environment_of({{"AUTHGATE_CREDENTIAL", "workload-identity"}}))
              .credential == CredentialKind::workload_identity);
    CHECK(resolve_connection(connection_flags({"--credential", "managed-identity"}), desired(app),
                             environment_of({{"AUTHGATE_CREDENTIAL", "workload-identity"}}))
              .credential == CredentialKind::managed_identity);
    CHECK_THROWS_WITH(resolve_connection(connection_flags({"--credential", "client-secret"}), file, environment_of({})),
                      "--credential (AUTHGATE_CREDENTIAL) must be certificate, workload-identity or managed-identity, "
                      "not 'client-secret'");
}

TEST_CASE("without a certificate: what workload identity and a managed identity need", "[connection][credential]") {
    SECTION("workload identity needs the app id, not a certificate") {
        const ConnectionSettings s = resolve_connection(connection_flags({"--credential", "workload-identity"}),
                                                        desired(app), environment_of({}));
        CHECK(s.certificate.empty());
        CHECK_THROWS_WITH(resolve_connection(connection_flags({"--credential", "workload-identity"}), desired(""),
                                             environment_of({})),
                          "reading the tenant needs these settings (plan can read a --snapshot FILE instead):\n"
                          "  application id: --app-id, AUTHGATE_APP_ID or [connection] app_id (or AZURE_CLIENT_ID); "
                          "the app registration whose federated credential trusts the platform's token");
    }
    SECTION("the workload identity webhook's AZURE_CLIENT_ID and AZURE_TENANT_ID come last") {
        const auto webhook =
            environment_of({{"AZURE_CLIENT_ID", "webhook-app"}, {"AZURE_TENANT_ID", "webhook-tenant"}});
        const DesiredState no_tenant = load_desired_state_text("/repo/d.toml", "version = 1\n").state;
        ConnectionSettings s = resolve_connection(connection_flags({"--credential", "workload-identity"}), no_tenant,
                                                  webhook);
        CHECK(s.app_id == "webhook-app");
        CHECK(s.tenant == "webhook-tenant");
        s = resolve_connection(connection_flags({"--credential", "workload-identity"}), desired(app), webhook);
        CHECK(s.app_id == "6f1c0e2a-0000-4000-8000-000000000001");
        CHECK(s.tenant == "contoso.onmicrosoft.com");
        // Only for workload identity.
        CHECK_THROWS_WITH(resolve_connection(connection_flags({}), no_tenant, webhook),
                          Catch::Contains("tenant: --tenant, AUTHGATE_TENANT or [tenant] id\n"));
    }
    SECTION("a managed identity needs neither app id nor certificate") {
        const ConnectionSettings s = resolve_connection(connection_flags({"--credential", "managed-identity"}),
                                                        desired(""), environment_of({}));
        CHECK(s.app_id.empty());
        CHECK_FALSE(s.managed_identity);
    }
}

TEST_CASE("a user-assigned managed identity: one id, from a flag or the environment", "[connection][credential]") {
    const auto mi = [](std::vector<std::string> args, std::map<std::string, std::string> variables = {}) {
        args.insert(args.begin(), {"--credential", "managed-identity"});
        return resolve_connection(connection_flags(args), desired(""), environment_of(variables)).managed_identity;
    };
    const auto client = mi({"--managed-identity-client-id", "c1"}, {{"AUTHGATE_MANAGED_IDENTITY_OBJECT_ID", "o1"}});
    REQUIRE(client);
    CHECK(client->by == UserAssignedIdentity::By::client_id);
    CHECK(client->id == "c1");
    const auto object = mi({}, {{"AUTHGATE_MANAGED_IDENTITY_OBJECT_ID", "o1"}});
    REQUIRE(object);
    CHECK(object->by == UserAssignedIdentity::By::object_id);
    const auto resource = mi({"--managed-identity-resource-id", "/subscriptions/s/r"});
    REQUIRE(resource);
    CHECK(resource->by == UserAssignedIdentity::By::resource_id);
    CHECK_THROWS_WITH(mi({"--managed-identity-client-id", "c1", "--managed-identity-object-id", "o1"}),
                      "a managed identity is named by one id, not by --managed-identity-client-id and "
                      "--managed-identity-object-id");
    CHECK_THROWS_WITH(resolve_connection(connection_flags({"--managed-identity-client-id", "c1"}),
                                         desired(app + "certificate = \"a.pem\"\n"), environment_of({})),
                      "--managed-identity-client-id names a managed identity: it needs --credential managed-identity");
    // The environment's id is for a managed identity only; it does not stop another kind.
    CHECK_FALSE(resolve_connection(connection_flags({}), desired(app + "certificate = \"a.pem\"\n"),
                                   environment_of({{"AUTHGATE_MANAGED_IDENTITY_CLIENT_ID", "c1"}}))
                    .managed_identity);
}

TEST_CASE("the token source is the kind chosen: no certificate read, no other kind tried", "[connection][credential]") {
    ScriptedTransport http;
    const FixedClock clock;
    ConnectionSettings settings;
    settings.tenant = "contoso.onmicrosoft.com";
    settings.app_id = "6f1c0e2a-0000-4000-8000-000000000001";
    settings.certificate = "/nonexistent/never-read.pem";

    settings.credential = CredentialKind::managed_identity;
    auto source = make_token_source(settings, http, environment_of({}), clock);
    REQUIRE(dynamic_cast<ManagedIdentity*>(source.get()));
    CHECK(dynamic_cast<ManagedIdentity&>(*source).host() == IdentityHost::imds);

    settings.credential = CredentialKind::workload_identity;
    source = make_token_source(settings, http,
                               environment_of({{"AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/token"},
                                               {"IDENTITY_ENDPOINT", "http://localhost:1/t"},
                                               {"IDENTITY_HEADER", "h"}}),
                               clock);
    REQUIRE(dynamic_cast<FederatedAssertion*>(source.get()));
    // Nothing of the platform's: an error naming what was looked for, not a managed identity instead.
    CHECK_THROWS_WITH(
        make_token_source(settings, http,
                          environment_of({{"IDENTITY_ENDPOINT", "http://localhost:1/t"}, {"IDENTITY_HEADER", "h"}}),
                          clock),
        Catch::StartsWith("workload identity: this environment provides no platform token."));

    settings.credential = CredentialKind::certificate;
    CHECK_THROWS_WITH(make_token_source(settings, http, environment_of({}), clock),
                      Catch::Contains("/nonexistent/never-read.pem"));
    CHECK(http.requests.empty());
}

TEST_CASE("the Exchange and Graph token clients share one source", "[connection][credential]") {
    ScriptedTransport http;
    ConnectionSettings settings;
    settings.tenant = "contoso.onmicrosoft.com";
    settings.exchange_endpoint = "https://outlook.office365.com";
    settings.graph_endpoint = "https://graph.microsoft.com";
    settings.credential = CredentialKind::managed_identity;
    ManagedIdentity source(http, environment_of({}));
    TokenClient exchange(source, token_settings_of(settings));
    TokenClient graph(source, graph_token_settings(settings));
    http.answer({200, {}, R"({"access_token":"exchange","expires_in":"3599"})"});
    http.answer({200, {}, R"({"access_token":"graph","expires_in":"3599"})"});
    CHECK(exchange.bearer() == "exchange");
    CHECK(graph.bearer() == "graph");
    CHECK_THAT(http.requests.at(0).url, Catch::EndsWith("resource=https%3A%2F%2Foutlook.office365.com"));
    CHECK_THAT(http.requests.at(1).url, Catch::EndsWith("resource=https%3A%2F%2Fgraph.microsoft.com"));
}
