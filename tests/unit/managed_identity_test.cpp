// Managed identity: each host's identity endpoint (IMDS, App Service, Azure Arc and its challenge),
// the answers' string numbers, retries, and the rule that plain http goes only to this machine or
// the metadata address.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

#include "connectors/managed_identity.h"
#include "connectors/trace.h"
#include "fake_http.h"
#include "policies/files.h"
#include "temp_dir.h"

using namespace authgate;
using namespace authgate::testing;

namespace {

Environment variables(std::map<std::string, std::string> values) {
    return [values](const std::string& name) -> std::optional<std::string> {
        const auto it = values.find(name);
        if (it == values.end() || it->second.empty()) return std::nullopt;
        return it->second;
    };
}

std::string jwt(const std::string& claims) {
    return base64url(R"({"alg":"RS256","typ":"JWT"})") + "." + base64url(claims) + "." + base64url("signature");
}

const std::string tenant_guid = "8d3e6a5c-0000-4000-8000-0000000000aa";
const std::string mi_token =
    jwt(R"({"aud":"https://outlook.office365.com","tid":")" + tenant_guid + R"(","roles":["Exchange.ManageAsApp"]})");

const Instant now = *parse_instant("2026-11-22T10:00:00Z");
const long long now_seconds = now.time_since_epoch().count();

// IMDS's answer: every number a string.
HttpResponse imds_token(const std::string& token = mi_token, long long lifetime = 3599) {
    return {200,
            {{"content-type", "application/json"}},
            R"({"access_token":")" + token + R"(","refresh_token":"","expires_in":")" + std::to_string(lifetime) +
                R"(","expires_on":")" + std::to_string(now_seconds + lifetime) + R"(","not_before":")" +
                std::to_string(now_seconds) + R"(","resource":"https://outlook.office365.com","token_type":"Bearer"})"};
}

const TokenSettings exchange{"https://login.microsoftonline.com", "https://outlook.office365.com/", tenant_guid, ""};

struct Identity {
    ScriptedTransport http;
    std::vector<std::chrono::milliseconds> waits;
    Instant clock = now;
    ManagedIdentity source;
    TokenClient tokens;

    explicit Identity(const Environment& environment, std::optional<UserAssignedIdentity> identity = {},
                      TokenSettings settings = exchange)
        : source(http, environment, std::move(identity),
                 [this](std::chrono::milliseconds wait) { waits.push_back(wait); }),
          tokens(source, std::move(settings), [this] { return clock; }) {}
};

std::string message_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const std::exception& error) {
        return error.what();
    }
    FAIL("no error");
    return "";
}

}  // namespace

TEST_CASE("IMDS: a GET with Metadata: true for the Exchange resource, no Entra request", "[managed-identity]") {
    Identity f(variables({}));
    CHECK(f.source.host() == IdentityHost::imds);
    f.http.answer(imds_token());
    CHECK(f.tokens.bearer() == mi_token);
    REQUIRE(f.http.requests.size() == 1);
    const HttpRequest& request = f.http.requests[0];
    CHECK(request.method == "GET");
    CHECK(request.url == "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
                         "&resource=https%3A%2F%2Foutlook.office365.com");
    CHECK(request.headers == std::map<std::string, std::string>{{"Metadata", "true"}});
    CHECK(request.identity_endpoint);
    CHECK(f.tokens.tenant_id() == std::optional<std::string>(tenant_guid));  // the tenant comes from tid
    CHECK(f.tokens.roles() == std::vector<std::string>{"Exchange.ManageAsApp"});
    CHECK(f.source.description() ==
          "the system-assigned managed identity (the instance metadata service (IMDS) at http://169.254.169.254)");
}

TEST_CASE("IMDS: string numbers, cached until five minutes before expiry, Graph as its own resource",
          "[managed-identity]") {
    TokenSettings graph = exchange;
    graph.resource = "https://graph.microsoft.com";
    Identity f(variables({}), {}, graph);
    f.http.answer(imds_token(jwt(R"({"n":1})"), 3600));
    f.http.answer(imds_token(jwt(R"({"n":2})"), 3600));
    const std::string first = f.tokens.bearer();
    f.clock += std::chrono::minutes{54};
    CHECK(f.tokens.bearer() == first);
    f.clock += std::chrono::minutes{2};
    CHECK(f.tokens.bearer() != first);
    CHECK_THAT(f.http.requests[0].url, Catch::EndsWith("&resource=https%3A%2F%2Fgraph.microsoft.com"));
}

TEST_CASE("the answer's expiry: expires_in or expires_on, numbers or strings, and nothing absurd",
          "[managed-identity]") {
    const auto expiry_after = [](const std::string& members) {
        Identity f(variables({}));
        f.http.answer({200, {}, R"({"access_token":"t")" + members + "}"});
        f.http.answer({200, {}, R"({"access_token":"t2","expires_in":3599})"});
        f.tokens.bearer();
        // The token is reused while more than five minutes are left.
        long long minutes = 0;
        while (f.tokens.bearer() == "t" && minutes < 48 * 60) {
            f.clock += std::chrono::minutes{1};
            ++minutes;
        }
        return minutes;
    };
    CHECK(expiry_after(R"(,"expires_in":"3599")") == 55);
    CHECK(expiry_after(R"(,"expires_in":1200)") == 15);
    CHECK(expiry_after(R"(,"expires_on":")" + std::to_string(now_seconds + 86400) + "\"") == 24 * 60 - 5);
    CHECK(expiry_after(R"(,"expires_on":)" + std::to_string(now_seconds + 7200)) == 115);
    CHECK(expiry_after(R"(,"expires_on":"2026-11-22T11:00:00Z")") == 55);
    CHECK(expiry_after(R"(,"expires_in":"7200","expires_on":")" + std::to_string(now_seconds + 3600) + "\"") == 55);
    CHECK(expiry_after("") == 55);  // neither: an hour, as Entra's default

    for (const std::string members :
         {R"(,"expires_in":"soon")", R"(,"expires_in":"-5")", R"(,"expires_in":"99999999999")",
          R"(,"expires_on":"09/14/2017 00:00:00 PM")", R"(,"expires_on":"1")", R"(,"expires_on":true)"}) {
        INFO(members);
        Identity f(variables({}));
        f.http.answer({200, {}, R"({"access_token":"t")" + members + "}"});
        CHECK_THAT(message_of([&] { f.tokens.bearer(); }),
                   Catch::StartsWith("managed identity: the token request to the instance metadata service (IMDS) "
                                     "at http://169.254.169.254/metadata/identity/oauth2/token failed: the answer's "
                                     "expires_"));
    }
}

TEST_CASE("IMDS: AZURE_POD_IDENTITY_AUTHORITY_HOST replaces the base, and a user-assigned identity is named",
          "[managed-identity]") {
    const auto [by, parameter] =
        GENERATE(table<UserAssignedIdentity::By, std::string>({{UserAssignedIdentity::By::client_id, "client_id"},
                                                               {UserAssignedIdentity::By::object_id, "object_id"},
                                                               {UserAssignedIdentity::By::resource_id, "msi_res_id"}}));
    Identity f(variables({{"AZURE_POD_IDENTITY_AUTHORITY_HOST", "https://sandbox.test:8443/"}}),
               UserAssignedIdentity{by, "/subscriptions/s/x y"});
    f.http.answer(imds_token());
    f.tokens.bearer();
    CHECK(f.http.requests.at(0).url == "https://sandbox.test:8443/metadata/identity/oauth2/token?api-version=2018-02-01"
                                       "&resource=https%3A%2F%2Foutlook.office365.com&" +
                                           parameter + "=%2Fsubscriptions%2Fs%2Fx%20y");
}

TEST_CASE("IMDS: 404, 410, 429 and 5xx are retried on the documented schedule, other refusals are not",
          "[managed-identity]") {
    using std::chrono::milliseconds;
    SECTION("busy, then the token") {
        Identity f(variables({}));
        for (const int status : {404, 429, 500, 503}) f.http.answer({status, {}, R"({"error":"busy"})"});
        f.http.answer(imds_token());
        CHECK(f.tokens.bearer() == mi_token);
        CHECK(f.waits == std::vector<milliseconds>{milliseconds{2000}, milliseconds{6000}, milliseconds{14000},
                                                   milliseconds{30000}});
        CHECK(f.tokens.requests_made() == 5);
    }
    SECTION("five busy answers: it gives up") {
        Identity f(variables({}));
        for (int i = 0; i < 5; ++i) f.http.answer({503, {}, R"({"error":"unavailable"})"});
        CHECK_THAT(message_of([&] { f.tokens.bearer(); }), Catch::Contains("failed: HTTP 503: unavailable"));
        CHECK(f.http.requests.size() == 5);
    }
    SECTION("410 is waited out past 70 seconds") {
        Identity f(variables({}));
        for (int i = 0; i < 5; ++i) f.http.answer({410, {}, "{}"});
        f.http.answer(imds_token());
        CHECK(f.tokens.bearer() == mi_token);
        CHECK(f.waits.size() == 5);
    }
    SECTION("400: the identity is not there, said at once") {
        Identity f(variables({}));
        f.http.answer({400, {}, R"({"error":"invalid_request","error_description":"Identity not found"})"});
        CHECK(message_of([&] { f.tokens.bearer(); }) ==
              "managed identity: the token request to the instance metadata service (IMDS) at "
              "http://169.254.169.254/metadata/identity/oauth2/token failed: HTTP 400: invalid_request: Identity not "
              "found\n  what to check: this resource needs a system-assigned identity (Identity → System assigned → "
              "On), or name a user-assigned one with --managed-identity-client-id");
        CHECK(f.waits.empty());
    }
    SECTION("400 invalid_resource names the resource") {
        Identity f(variables({}));
        f.http.answer({400, {}, R"({"error":"invalid_resource","error_description":"AADSTS50001: not found\r\nx"})"});
        CHECK_THAT(message_of([&] { f.tokens.bearer(); }),
                   Catch::EndsWith("HTTP 400: invalid_resource: AADSTS50001: not found\n  what to check: the "
                                   "resource https://outlook.office365.com is not known in the identity's tenant: "
                                   "check the Exchange and Graph endpoints and [tenant] cloud"));
    }
    SECTION("no IMDS on this machine") {
        Identity f(variables({}));
        f.http.fail("cannot reach http://169.254.169.254: Connection timed out", true);
        CHECK_THAT(message_of([&] { f.tokens.bearer(); }),
                   Catch::Contains("failed: cannot reach http://169.254.169.254: Connection timed out\n  what to "
                                   "check: IMDS answers on Azure virtual machines and scale sets only"));
        CHECK(f.http.requests.size() == 1);
    }
}

TEST_CASE("App Service: IDENTITY_ENDPOINT with X-IDENTITY-HEADER, read afresh for every request",
          "[managed-identity]") {
    std::map<std::string, std::string> environment{{"IDENTITY_ENDPOINT", "http://localhost:42356/msi/token"},
                                                   {"IDENTITY_HEADER", "first-header"}};
    ScriptedTransport http;
    ManagedIdentity source(http, [&environment](const std::string& name) -> std::optional<std::string> {
        const auto it = environment.find(name);
        return it == environment.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
    CHECK(source.host() == IdentityHost::app_service);
    TokenClient tokens(source, exchange, [] { return now; });
    const std::string app_service_answer = R"({"access_token":")" + mi_token + R"(","expires_on":")" +
                                           std::to_string(now_seconds + 86400) +
                                           R"(","resource":"https://outlook.office365.com","token_type":"Bearer"})";
    http.answer({200, {}, app_service_answer});
    http.answer({200, {}, app_service_answer});
    tokens.bearer();
    environment["IDENTITY_HEADER"] = "rotated-header";
    tokens.invalidate();
    tokens.bearer();
    REQUIRE(http.requests.size() == 2);
    CHECK(http.requests[0].url ==
          "http://localhost:42356/msi/token?resource=https%3A%2F%2Foutlook.office365.com&api-version=2019-08-01");
    CHECK(http.requests[0].headers == std::map<std::string, std::string>{{"X-IDENTITY-HEADER", "first-header"}});
    CHECK(http.requests[1].headers.at("X-IDENTITY-HEADER") == "rotated-header");
    CHECK(http.requests[0].identity_endpoint);

    SECTION("user-assigned: client_id, principal_id, mi_res_id") {
        for (const auto& [by, parameter] : std::vector<std::pair<UserAssignedIdentity::By, std::string>>{
                 {UserAssignedIdentity::By::client_id, "client_id"},
                 {UserAssignedIdentity::By::object_id, "principal_id"},
                 {UserAssignedIdentity::By::resource_id, "mi_res_id"}}) {
            Identity f(variables(environment), UserAssignedIdentity{by, "id-1"});
            f.http.answer({200, {}, app_service_answer});
            f.tokens.bearer();
            CHECK_THAT(f.http.requests.at(0).url, Catch::EndsWith("&api-version=2019-08-01&" + parameter + "=id-1"));
        }
    }
    SECTION("a refused header") {
        Identity f(variables(environment));
        f.http.answer({401, {}, R"({"statusCode":401,"message":"Unauthorized"})"});
        CHECK_THAT(message_of([&] { f.tokens.bearer(); }),
                   Catch::Contains("identity endpoint at http://localhost:42356/msi/token failed: HTTP 401: "
                                   "Unauthorized\n  what to check: the endpoint refused X-IDENTITY-HEADER"));
    }
}

TEST_CASE("Azure Arc: the 401 challenge names a key file, read only from the agent's directory", "[managed-identity]") {
    TempDir dir;
    dir.write("tokens/abc.key", "arc-secret\n");
    const std::string directory = dir / "tokens";
    const std::map<std::string, std::string> arc{{"IDENTITY_ENDPOINT",
                                                  "http://localhost:40342/metadata/identity/oauth2/token"},
                                                 {"IMDS_ENDPOINT", "http://localhost:40342"},
                                                 {"AUTHGATE_ARC_TOKEN_DIR", directory}};
    const auto challenge = [](const std::string& realm) {
        return HttpResponse{401, {{"www-authenticate", "Basic realm=" + realm}}, ""};
    };

    SECTION("the challenge answered with the file's content") {
        Identity f(variables(arc));
        CHECK(f.source.host() == IdentityHost::azure_arc);
        f.http.answer(challenge(directory + "/abc.key"));
        f.http.answer(imds_token());
        CHECK(f.tokens.bearer() == mi_token);
        REQUIRE(f.http.requests.size() == 2);
        CHECK(f.http.requests[0].url == "http://localhost:40342/metadata/identity/oauth2/token?api-version=2020-06-01"
                                        "&resource=https%3A%2F%2Foutlook.office365.com");
        CHECK(f.http.requests[0].headers == std::map<std::string, std::string>{{"Metadata", "true"}});
        CHECK(f.http.requests[1].url == f.http.requests[0].url);
        CHECK(f.http.requests[1].headers ==
              std::map<std::string, std::string>{{"Metadata", "true"}, {"Authorization", "Basic arc-secret"}});
    }
    SECTION("files that are not read") {
        dir.write("elsewhere/abc.key", "stolen");
        dir.write("tokens/abc.txt", "x");
        dir.write("tokens/big.key", std::string(4097, 'k'));
        std::filesystem::create_symlink(dir / "elsewhere/abc.key", dir / "tokens/link.key");
        const std::vector<std::pair<std::string, std::string>> rows{
            {dir / "elsewhere/abc.key", "it is not in the agent's key directory " + directory},
            {directory + "/../elsewhere/abc.key", "it is not in the agent's key directory " + directory},
            {dir / "tokens/link.key", "it is not in the agent's key directory " + directory},
            {dir / "tokens/abc.txt", "its name does not end in .key"},
            {dir / "tokens/big.key", "it is larger than 4096 bytes"},
            {"abc.key", "it is not an absolute path"},
        };
        for (const auto& [realm, reason] : rows) {
            INFO(realm);
            Identity f(variables(arc));
            f.http.answer(challenge(realm));
            CHECK(message_of([&] { f.tokens.bearer(); }) ==
                  "managed identity: the token request to the Azure Arc identity endpoint at "
                  "http://localhost:40342/metadata/identity/oauth2/token failed: the challenge names the key file " +
                      realm + ", which authgate does not read: " + reason);
            CHECK(f.http.requests.size() == 1);  // nothing sent back
        }
    }
    SECTION("a challenge without a realm, a missing file, the default directory") {
        Identity f(variables(arc));
        f.http.answer({401, {}, ""});
        CHECK_THAT(message_of([&] { f.tokens.bearer(); }),
                   Catch::EndsWith("failed: HTTP 401 without a WWW-Authenticate: Basic realm= naming the agent's key "
                                   "file"));
        f.http.answer(challenge(directory + "/gone.key"));
        CHECK_THAT(message_of([&] { f.tokens.bearer(); }),
                   Catch::EndsWith("cannot read the key file " + directory + "/gone.key: No such file or directory"));
        auto standard = arc;
        standard.erase("AUTHGATE_ARC_TOKEN_DIR");
        Identity g(variables(standard));
        g.http.answer(challenge(directory + "/abc.key"));
        CHECK_THAT(message_of([&] { g.tokens.bearer(); }), Catch::Contains("which authgate does not read: "));
    }
    SECTION("no user-assigned identity on Arc") {
        ScriptedTransport http;
        CHECK_THROWS_WITH(ManagedIdentity(http, variables(arc), UserAssignedIdentity{{}, "id-1"}),
                          "managed identity: Azure Arc gives a server only its system-assigned identity; the "
                          "user-assigned one with client id id-1 cannot be used here");
    }
}

TEST_CASE("an identity endpoint that cannot be told apart, or is plain http elsewhere, is refused",
          "[managed-identity][safety]") {
    ScriptedTransport http;
    CHECK_THROWS_WITH(ManagedIdentity(http, variables({{"IDENTITY_ENDPOINT", "http://localhost:1/token"}})),
                      "managed identity: IDENTITY_ENDPOINT is set (http://localhost:1), but neither IDENTITY_HEADER "
                      "(App Service, Functions, Container Apps) nor IMDS_ENDPOINT (Azure Arc): authgate cannot tell "
                      "which identity endpoint it is");
    CHECK_THROWS_WITH(
        ManagedIdentity(http,
                        variables({{"IDENTITY_ENDPOINT", "http://evil.example/token"}, {"IDENTITY_HEADER", "h"}})),
        "managed identity: refusing the App Service, Functions or Container Apps identity endpoint at "
        "http://evil.example: it must be https://, or http:// on this machine (127.0.0.0/8, ::1, localhost) or "
        "169.254.169.254, without a user name or password");
    CHECK_THROWS_WITH(ManagedIdentity(http, variables({{"AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://10.0.0.1"}})),
                      Catch::StartsWith("managed identity: refusing the instance metadata service (IMDS) at "
                                        "http://10.0.0.1: it must be https://"));
    CHECK(http.requests.empty());
}

TEST_CASE("plain http only to a loopback host or the metadata address, and only for an identity endpoint",
          "[managed-identity][http][safety]") {
    const auto [url, origin] = GENERATE(table<std::string, std::string>({
        {"http://169.254.169.254/metadata/identity/oauth2/token?x=1", "http://169.254.169.254"},
        {"http://127.0.0.1:41234/msi/token", "http://127.0.0.1:41234"},
        {"http://127.8.9.10/", "http://127.8.9.10"},
        {"HTTP://LocalHost:40342/metadata", "http://localhost:40342"},
        {"http://[::1]:8080/token", "http://[::1]:8080"},
        {"https://sandbox.test:8443/metadata", "https://sandbox.test:8443"},
        {"http://169.254.169.253/", ""},
        {"http://10.0.0.1/", ""},
        {"http://localhost.evil.example/", ""},
        {"http://127.0.0.1.evil.example/", ""},
        {"http://127.1/", ""},
        {"http://user:pass@127.0.0.1/", ""},
        {"http://127.0.0.1:port/", ""},
        {"http://[::2]/", ""},
        {"ftp://127.0.0.1/", ""},
    }));
    INFO(url);
    CHECK(identity_origin_of(url) == origin);
}

TEST_CASE("the transport refuses plain http before sending, unless an identity endpoint on this machine asks",
          "[managed-identity][http][safety]") {
    auto transport = make_https_transport({});
    HttpRequest elsewhere{"http://example.com/metadata/identity/oauth2/token", {}, ""};
    elsewhere.method = "GET";
    elsewhere.identity_endpoint = true;
    try {
        transport->post(elsewhere);
        FAIL("sent");
    } catch (const TransportError& error) {
        CHECK(error.before_sending());
        CHECK_THAT(error.what(), Catch::StartsWith("refusing http://example.com: a managed identity endpoint must be "
                                                   "https://, or http:// on this machine"));
    }
    HttpRequest not_identity{"http://127.0.0.1:9/token", {}, ""};
    CHECK_THROWS_WITH(transport->post(not_identity),
                      "refusing http://127.0.0.1:9: only https:// URLs without a user name or password are used");
}

TEST_CASE("a managed identity of another tenant than the one configured is refused", "[managed-identity]") {
    TokenSettings other = exchange;
    other.tenant = "11111111-0000-4000-8000-000000000000";
    Identity f(variables({}), {}, other);
    f.http.answer(imds_token());
    CHECK(message_of([&] { f.tokens.bearer(); }) ==
          "the system-assigned managed identity (the instance metadata service (IMDS) at http://169.254.169.254) "
          "belongs to tenant " +
              tenant_guid +
              ", not 11111111-0000-4000-8000-000000000000 (--tenant, AUTHGATE_TENANT or [tenant] id); a managed "
              "identity signs in to its own tenant only");
    TokenSettings domain = exchange;
    domain.tenant = "contoso.onmicrosoft.com";  // not comparable: the token's tid is used
    Identity g(variables({}), {}, domain);
    g.http.answer(imds_token());
    CHECK(g.tokens.bearer() == mi_token);
    CHECK(g.tokens.tenant_id() == std::optional<std::string>(tenant_guid));
}

TEST_CASE("a traced identity request shows neither X-IDENTITY-HEADER nor Arc's secret", "[managed-identity][trace]") {
    TempDir dir;
    auto inner = std::make_unique<ScriptedTransport>();
    ScriptedTransport& script = *inner;
    script.answer({200, {}, R"({"access_token":"opaque-mi-token","expires_in":"3599"})"});
    auto traced = make_tracing_transport(std::move(inner), dir / "trace");
    ManagedIdentity source(*traced, variables({{"IDENTITY_ENDPOINT", "http://127.0.0.1:5/msi/token"},
                                               {"IDENTITY_HEADER", "anti-forgery-secret"}}));
    TokenClient tokens(source, exchange, [] { return now; });
    CHECK(tokens.bearer() == "opaque-mi-token");
    std::string all;
    for (const auto& file : std::filesystem::directory_iterator(dir / "trace")) all += read_file(file.path().string());
    CHECK_THAT(all, Catch::Contains("X-IDENTITY-HEADER: [removed]"));
    CHECK(all.find("anti-forgery-secret") == std::string::npos);
    CHECK(all.find("opaque-mi-token") == std::string::npos);
}
