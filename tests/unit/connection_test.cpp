#include <catch2/catch.hpp>

#include <map>

#include "agent/connection.h"
#include "connection_inputs.h"
#include "policies/loader.h"

using namespace authgate;
using namespace authgate::testing;

namespace {

DesiredState desired(const std::string& connection) {
    LoadResult loaded = load_desired_state_text(
        "/repo/desired.toml",
        "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\ncloud = \"gcc-high\"\n" + connection);
    REQUIRE_FALSE(loaded.diagnostics.has_errors());
    return loaded.state;
}

const std::string file_connection =
    "[connection]\napp_id = \"6f1c0e2a-0000-4000-8000-000000000001\"\ncertificate = \"secrets/app.pem\"\n"
    "certificate_password_env = \"MY_PASSWORD\"\nexchange_endpoint = \"https://file.example\"\n"
    "ca_bundle = \"ca.pem\"\n";

}  // namespace

TEST_CASE("connection settings: flag over environment over the desired state over the cloud default", "[connection]") {
    const DesiredState state = desired(file_connection);
    SECTION("from the desired state, paths relative to its file, defaults by cloud") {
        const ConnectionSettings s = resolve_connection(connection_flags({}), state, environment_of({}));
        CHECK(s.tenant == "contoso.onmicrosoft.com");
        CHECK(s.app_id == "6f1c0e2a-0000-4000-8000-000000000001");
        CHECK(s.certificate == "/repo/secrets/app.pem");
        CHECK(s.certificate_password_env == "MY_PASSWORD");
        CHECK(s.login_endpoint == "https://login.microsoftonline.us");
        CHECK(s.exchange_endpoint == "https://file.example");
        CHECK(s.ca_bundle == std::optional<std::string>("/repo/ca.pem"));
    }
    SECTION("the environment overrides the file") {
        const ConnectionSettings s =
            resolve_connection(connection_flags({}), state,
                               environment_of({{"AUTHGATE_APP_ID", "env-app"},
                                               {"AUTHGATE_EXCHANGE_ENDPOINT", "https://env.example"},
                                               {"AUTHGATE_LOGIN_ENDPOINT", "https://login.env.example"},
                                               {"AUTHGATE_CERTIFICATE", "/env.pem"},
                                               {"AUTHGATE_TENANT", "env.onmicrosoft.com"},
                                               {"AUTHGATE_CA_BUNDLE", "/env-ca.pem"}}));
        CHECK(s.tenant == "env.onmicrosoft.com");
        CHECK(s.app_id == "env-app");
        CHECK(s.certificate == "/env.pem");
        CHECK(s.login_endpoint == "https://login.env.example");
        CHECK(s.exchange_endpoint == "https://env.example");
        CHECK(s.ca_bundle == std::optional<std::string>("/env-ca.pem"));
    }
    SECTION("flags override the environment") {
        const ConnectionSettings s = resolve_connection(
            connection_flags({"--app-id", "flag-app", "--exchange-endpoint", "https://flag.example", "--certificate",
                              "/flag.pem", "--tenant", "flag.onmicrosoft.com", "--ca-bundle", "/flag-ca.pem",
                              "--login-endpoint", "https://login.flag.example"}),
            state,
            environment_of({{"AUTHGATE_APP_ID", "env-app"}, {"AUTHGATE_EXCHANGE_ENDPOINT", "https://env.example"}}));
        CHECK(s.tenant == "flag.onmicrosoft.com");
        CHECK(s.app_id == "flag-app");
        CHECK(s.certificate == "/flag.pem");
        CHECK(s.login_endpoint == "https://login.flag.example");
        CHECK(s.exchange_endpoint == "https://flag.example");
        CHECK(s.ca_bundle == std::optional<std::string>("/flag-ca.pem"));
    }
}

TEST_CASE("missing connection settings are named together", "[connection]") {
    CHECK_THROWS_WITH(resolve_connection(connection_flags({}), desired(""), environment_of({})),
                      "reading the tenant needs these settings (plan can read a --snapshot FILE instead):\n"
                      "  application id: --app-id, AUTHGATE_APP_ID or [connection] app_id\n"
                      "  certificate: --certificate, AUTHGATE_CERTIFICATE or [connection] certificate");
}

TEST_CASE("an endpoint that is not https is refused: TLS cannot be turned off", "[connection][safety]") {
    CHECK_THROWS_WITH(resolve_connection(connection_flags({"--exchange-endpoint", "http://127.0.0.1:8443"}),
                                         desired(file_connection), environment_of({})),
                      "endpoints must be https:// URLs without a user name or password (TLS is always verified), "
                      "not 'http://127.0.0.1:8443'");
    // A password in an endpoint URL is never sent, nor printed back.
    CHECK_THROWS_WITH(
        resolve_connection(connection_flags({"--login-endpoint", "https://admin:s3cret@login.example.com/x"}),
                           desired(file_connection), environment_of({})),
        "endpoints must be https:// URLs without a user name or password (TLS is always verified), "
        "not 'https://login.example.com'");
}

TEST_CASE("every cloud has its own default endpoints", "[connection]") {
    const std::vector<std::tuple<std::string, std::string, std::string>> rows{
        {"global", "https://login.microsoftonline.com", "https://outlook.office365.com"},
        {"gcc-high", "https://login.microsoftonline.us", "https://outlook.office365.us"},
        {"dod", "https://login.microsoftonline.us", "https://outlook-dod.office365.us"},
        {"china", "https://login.chinacloudapi.cn", "https://partner.outlook.cn"},
    };
    for (const auto& [cloud, login, exchange] : rows) {
        LoadResult loaded = load_desired_state_text(
            "d.toml",
            "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\ncloud = \"" + cloud +
                "\"\n[connection]\napp_id = \"6f1c0e2a-0000-4000-8000-000000000001\"\ncertificate = \"a.pem\"\n");
        const ConnectionSettings s = resolve_connection(connection_flags({}), loaded.state, environment_of({}));
        CHECK(s.login_endpoint == login);
        CHECK(s.exchange_endpoint == exchange);
    }
}

TEST_CASE("the HTTP timeout (--http-timeout): flag over environment, the module's by default, a positive duration or a "
          "usage error",
          "[connection]") {
    const DesiredState state = desired(file_connection);
    CHECK_FALSE(
        resolve_connection(connection_flags({}), state, environment_of({})).http_timeout);  // the module's defaults
    CHECK(resolve_connection(connection_flags({}), state, environment_of({{"AUTHGATE_HTTP_TIMEOUT", "2m"}}))
              .http_timeout == std::chrono::minutes{2});
    CHECK(resolve_connection(connection_flags({"--http-timeout", "30s"}), state,
                             environment_of({{"AUTHGATE_HTTP_TIMEOUT", "2m"}}))
              .http_timeout == std::chrono::seconds{30});
    CHECK_THROWS_WITH(resolve_connection(connection_flags({"--http-timeout", "soon"}), state, environment_of({})),
                      "--http-timeout (AUTHGATE_HTTP_TIMEOUT) must be a duration such as 30s or 2m, not 'soon'");
    CHECK_THROWS_AS(resolve_connection(connection_flags({}), state, environment_of({{"AUTHGATE_HTTP_TIMEOUT", "0s"}})),
                    UsageError);
}
