// Sign-in without a stored certificate through a platform: the sandbox's OIDC issuers (discovery,
// JWKS, signatures), GitHub's and Azure DevOps' token endpoints, and the token endpoint's
// federation checks with Entra's codes.
#include <cpprest/base_uri.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <unistd.h>
#include <catch2/catch.hpp>
#include <filesystem>

#include "files.h"
#include "jwt.h"
#include "sandbox_fixture.h"

namespace sandbox::test {
namespace {

using web::json::value;

constexpr const char* kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr const char* kGithubRequestToken = "sandbox-github-request-token";
constexpr const char* kDevOpsAccessToken = "sandbox-system-accesstoken";
constexpr const char* kServiceConnection = "a2d0a2d0-0000-4000-8000-000000000003";
const std::string kGithubIssuer = kOrigin + "/_oidc/github";
const std::string kKubernetesIssuer = kOrigin + "/_oidc/kubernetes";
const std::string kDevOpsIssuer = "https://vstoken.dev.azure.com/a2d0a2d0-0000-4000-8000-000000000001";

value payload_of(const std::string& token) {
    std::string problem;
    const auto decoded = decode_jwt(token, problem);
    INFO(problem);
    REQUIRE(decoded.has_value());
    return decoded->payload;
}

value header_of(const std::string& token) {
    std::string problem;
    const auto decoded = decode_jwt(token, problem);
    REQUIRE(decoded.has_value());
    return decoded->header;
}

int code_of(const HttpResponse& response) { return body_of(response).at("error_codes").at(0).as_integer(); }

// GitHub's endpoint, as the toolkit calls it.
HttpResponse github_token(SandboxFixture& fixture, const std::string& request_token = kGithubRequestToken,
                          const std::optional<std::string>& audience = "api://AzureADTokenExchange") {
    QueryParameters query = {{"api-version", "2.0"}};
    if (audience) query.emplace_back("audience", *audience);
    return fixture.send("GET", "/_github/idtoken", query,
                        {{"Authorization", "Bearer " + request_token}, {"Accept", "application/json"}});
}

std::string github_jwt(SandboxFixture& fixture) {
    const HttpResponse response = github_token(fixture);
    INFO(response.body);
    REQUIRE(response.status == 200);
    return body_of(response).at("value").as_string();
}

HttpResponse devops_token(SandboxFixture& fixture, const std::string& access_token = kDevOpsAccessToken,
                          const std::optional<std::string>& connection = kServiceConnection,
                          bool suppress_redirect = true) {
    QueryParameters query = {{"api-version", "7.1"}};
    if (connection) query.emplace_back("serviceConnectionId", *connection);
    std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + access_token},
                                                  {"Content-Type", "application/json"}};
    if (suppress_redirect) headers["X-TFS-FedAuthRedirect"] = "Suppress";
    return fixture.send("POST", "/_azure-devops/oidctoken", query, headers, "");
}

// POST /_sandbox/oidc/token with this document; the token it answers.
std::string minted(SandboxFixture& fixture, const std::string& document) {
    const HttpResponse response = fixture.control("POST", "/_sandbox/oidc/token", document);
    INFO(response.body);
    REQUIRE(response.status == 200);
    return body_of(response).at("token").as_string();
}

// The token endpoint with a platform's token as the client assertion.
HttpResponse sign_in_with(SandboxFixture& fixture, const std::string& assertion,
                          const std::string& scope = kOrigin + "/.default") {
    return fixture.post_token({{"grant_type", "client_credentials"},
                               {"client_id", kAppId},
                               {"scope", scope},
                               {"client_assertion_type", kAssertionType},
                               {"client_assertion", assertion}});
}

// The public key a JWK describes, as a relying party builds it.
KeyPtr key_of(const value& jwk) {
    const auto modulus = base64url_decode(jwk.at("n").as_string());
    const auto exponent = base64url_decode(jwk.at("e").as_string());
    REQUIRE(modulus.has_value());
    REQUIRE(exponent.has_value());
    BIGNUM* n = BN_bin2bn(reinterpret_cast<const unsigned char*>(modulus->data()), static_cast<int>(modulus->size()),
                          nullptr);
    BIGNUM* e = BN_bin2bn(reinterpret_cast<const unsigned char*>(exponent->data()), static_cast<int>(exponent->size()),
                          nullptr);
    OSSL_PARAM_BLD* builder = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_E, e);
    OSSL_PARAM* parameters = OSSL_PARAM_BLD_to_param(builder);
    EVP_PKEY_CTX* context = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
    EVP_PKEY* key = nullptr;
    const bool made = EVP_PKEY_fromdata_init(context) == 1 &&
                      EVP_PKEY_fromdata(context, &key, EVP_PKEY_PUBLIC_KEY, parameters) == 1;
    EVP_PKEY_CTX_free(context);
    OSSL_PARAM_free(parameters);
    OSSL_PARAM_BLD_free(builder);
    BN_free(n);
    BN_free(e);
    REQUIRE(made);
    return KeyPtr(key);
}

std::string token_file_directory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sandbox-federation-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    return pattern;
}

}  // namespace

TEST_CASE("each issuer publishes a discovery document and a JWKS whose key verifies the tokens it signs") {
    SandboxFixture fixture;
    for (const auto& [name, issuer] : {std::pair<std::string, std::string>{"github", kGithubIssuer},
                                       std::pair<std::string, std::string>{"azure-devops", kDevOpsIssuer},
                                       std::pair<std::string, std::string>{"kubernetes", kKubernetesIssuer}}) {
        SECTION(name) {
            const HttpResponse discovery = fixture.send("GET", "/_oidc/" + name + "/.well-known/openid-configuration");
            REQUIRE(discovery.status == 200);
            const value document = body_of(discovery);
            CHECK(document.at("issuer").as_string() == issuer);
            CHECK(document.at("id_token_signing_alg_values_supported").at(0).as_string() == "RS256");
            const std::string jwks_uri = document.at("jwks_uri").as_string();
            REQUIRE(jwks_uri.starts_with(kOrigin + "/_oidc/" + name + "/"));
            const HttpResponse jwks = fixture.send("GET", jwks_uri.substr(kOrigin.size()));
            REQUIRE(jwks.status == 200);
            const value key = body_of(jwks).at("keys").at(0);
            CHECK(key.at("kty").as_string() == "RSA");
            CHECK(key.at("alg").as_string() == "RS256");

            const std::string token = minted(fixture, R"({"issuer":")" + name + R"("})");
            CHECK(header_of(token).at("kid").as_string() == key.at("kid").as_string());
            CHECK(header_of(token).at("alg").as_string() == "RS256");
            CHECK(payload_of(token).at("iss").as_string() == issuer);
            std::string problem;
            const auto decoded = decode_jwt(token, problem);
            const KeyPtr public_key = key_of(key);
            CHECK(verify_rs256(public_key.get(), *decoded));
            auto spoilt = *decoded;
            spoilt.signing_input += "x";
            CHECK_FALSE(verify_rs256(public_key.get(), spoilt));
        }
    }
    CHECK(fixture.send("GET", "/_oidc/gitlab/.well-known/openid-configuration").status == 404);
    CHECK(fixture.send("POST", "/_oidc/github/.well-known/jwks").status == 405);
}

TEST_CASE("GitHub's endpoint answers the job's token for the audience asked, as GitHub Actions issues it") {
    SandboxFixture fixture;
    const std::string token = github_jwt(fixture);
    const value claims = payload_of(token);
    CHECK(claims.at("iss").as_string() == kGithubIssuer);
    CHECK(claims.at("sub").as_string() == "repo:contoso/policies:environment:exchange-online");
    CHECK(claims.at("aud").as_string() == "api://AzureADTokenExchange");
    CHECK(claims.at("repository").as_string() == "contoso/policies");
    CHECK(claims.at("environment").as_string() == "exchange-online");
    CHECK(claims.at("ref").as_string() == "refs/heads/main");
    CHECK(claims.at("jti").as_string().size() == 36);
    const auto now = unix_seconds(fixture.now());
    CHECK(claims.at("iat").as_number().to_int64() == now);
    CHECK(claims.at("nbf").as_number().to_int64() == now - 600);
    CHECK(claims.at("exp").as_number().to_int64() == now + 300);
    CHECK(header_of(token).has_field("x5t"));

    SECTION("without an audience the token is for the repository's owner") {
        const HttpResponse response = github_token(fixture, kGithubRequestToken, std::nullopt);
        CHECK(payload_of(body_of(response).at("value").as_string()).at("aud").as_string() ==
              "https://github.com/contoso");
    }
    SECTION("a wrong request token is 401") {
        const HttpResponse refused = github_token(fixture, "not-the-job-token");
        CHECK(refused.status == 401);
        CHECK_THAT(body_of(refused).at("message").as_string(), Catch::StartsWith("TF400813"));
    }
    SECTION("POST is 405") {
        CHECK(fixture
                  .send("POST", "/_github/idtoken", {{"api-version", "2.0"}},
                        {{"Authorization", std::string("Bearer ") + kGithubRequestToken}})
                  .status == 405);
    }
    const value platform_tokens = fixture.state().at("credentials").at("platform_tokens");
    CHECK(platform_tokens.at(0).at("via").as_string() == "github");
    CHECK(platform_tokens.at(0).at("sub").as_string() == "repo:contoso/policies:environment:exchange-online");
}

TEST_CASE("GitHub's subject follows the job: an environment first, then a pull request, then the ref") {
    SandboxFixture fixture;
    const auto subject_for = [&](const std::string& job) {
        const HttpResponse set = fixture.control("POST", "/_sandbox/platforms", R"({"github":)" + job + "}");
        INFO(set.body);
        REQUIRE(set.status == 200);
        const HttpResponse answered = github_token(fixture, body_of(set).at("github").at("request_token").as_string());
        REQUIRE(answered.status == 200);
        return payload_of(body_of(answered).at("value").as_string()).at("sub").as_string();
    };
    CHECK(subject_for(R"({"environment":"production","event_name":"pull_request"})") ==
          "repo:contoso/policies:environment:production");
    CHECK(subject_for(R"({"environment":null,"event_name":"pull_request"})") == "repo:contoso/policies:pull_request");
    CHECK(subject_for(R"({"environment":null,"ref":"refs/tags/v2"})") == "repo:contoso/policies:ref:refs/tags/v2");
    CHECK(subject_for(R"({"environment":null,"repository":"fabrikam/exo","request_token":"t2"})") ==
          "repo:fabrikam/exo:ref:refs/heads/main");
    CHECK(github_token(fixture).status == 401);  // the request token changed with the job
    CHECK(fixture.control("POST", "/_sandbox/platforms", R"({"github":{"environment":5}})").status == 400);
    CHECK(fixture.control("POST", "/_sandbox/platforms", R"({"gitlab":{}})").status == 400);
    CHECK(fixture.control("DELETE", "/_sandbox/platforms").status == 200);
    CHECK(payload_of(github_jwt(fixture)).at("sub").as_string() == "repo:contoso/policies:environment:exchange-online");
}

TEST_CASE("Azure DevOps' endpoint answers oidcToken for a service connection, as Azure DevOps issues it") {
    SandboxFixture fixture;
    const HttpResponse answered = devops_token(fixture);
    INFO(answered.body);
    REQUIRE(answered.status == 200);
    const value claims = payload_of(body_of(answered).at("oidcToken").as_string());
    CHECK(claims.at("iss").as_string() == kDevOpsIssuer);
    CHECK(claims.at("sub").as_string() == "sc://contoso/policies/exchange-online");
    CHECK(claims.at("aud").as_string() == "api://AzureADTokenExchange");

    SECTION("without a service connection the token is the pipeline's own") {
        const HttpResponse own = devops_token(fixture, kDevOpsAccessToken, std::nullopt);
        REQUIRE(own.status == 200);
        CHECK(payload_of(body_of(own).at("oidcToken").as_string()).at("sub").as_string() ==
              "p://contoso/policies/authgate-apply");
    }
    SECTION("an unknown service connection is 404") {
        CHECK(devops_token(fixture, kDevOpsAccessToken, "00000000-0000-0000-0000-000000000000").status == 404);
    }
    SECTION("a wrong access token is 401 with X-TFS-FedAuthRedirect: Suppress, else the sign-in page") {
        CHECK(devops_token(fixture, "wrong").status == 401);
        const HttpResponse page = devops_token(fixture, "wrong", kServiceConnection, false);
        CHECK(page.status == 203);
        CHECK_THAT(*page.headers.get("Content-Type"), Catch::StartsWith("text/html"));
    }
    SECTION("no api-version is 400") {
        const HttpResponse refused = fixture.send("POST", "/_azure-devops/oidctoken",
                                                  {{"serviceConnectionId", kServiceConnection}},
                                                  {{"Authorization", std::string("Bearer ") + kDevOpsAccessToken}});
        CHECK(refused.status == 400);
        CHECK(body_of(refused).at("typeKey").as_string() == "VssVersionNotSpecifiedException");
    }
    SECTION("GET is 405") {
        CHECK(fixture
                  .send("GET", "/_azure-devops/oidctoken", {{"api-version", "7.1"}},
                        {{"Authorization", std::string("Bearer ") + kDevOpsAccessToken}})
                  .status == 405);
    }
}

TEST_CASE("a platform's token earns the access token a certificate sign-in gets, for Exchange and for Graph") {
    SandboxFixture fixture;
    const value certificate_claims = payload_of(fixture.token());
    for (const std::string platform : {"github", "azure-devops", "kubernetes"}) {
        SECTION(platform) {
            const std::string assertion = platform == "github" ? github_jwt(fixture)
                                          : platform == "azure-devops"
                                              ? body_of(devops_token(fixture)).at("oidcToken").as_string()
                                              : minted(fixture, R"({"issuer":"kubernetes"})");
            const HttpResponse response = sign_in_with(fixture, assertion);
            INFO(response.body);
            REQUIRE(response.status == 200);
            const value body = body_of(response);
            CHECK(body.at("token_type").as_string() == "Bearer");
            CHECK(body.at("expires_in").as_integer() == 3599);
            const std::string token = body.at("access_token").as_string();
            const value claims = payload_of(token);
            for (const char* name : {"aud", "iss", "appid", "app_displayname", "roles", "tid"})
                CHECK(claims.at(name) == certificate_claims.at(name));
            CHECK(
                fixture.invoke("Get-TransportConfig", value::object(), {{"Authorization", "Bearer " + token}}).status ==
                200);

            const HttpResponse graph = sign_in_with(fixture, assertion, "https://graph.microsoft.com/.default");
            REQUIRE(graph.status == 200);
            const value graph_claims = payload_of(body_of(graph).at("access_token").as_string());
            CHECK(graph_claims.at("aud").as_string() == "https://graph.microsoft.com");
            CHECK(graph_claims.at("roles").size() == 7);

            const value sign_ins = fixture.state().at("credentials").at("sign_ins");
            CHECK(sign_ins.at(0).at("via").as_string() == "certificate");  // fixture.token()'s
            const value sign_in = sign_ins.at(1);
            CHECK(sign_in.at("via").as_string() == "federated");
            CHECK(sign_in.at("subject").as_string() == payload_of(assertion).at("sub").as_string());
            CHECK(sign_in.at("audience").as_string() == kOrigin);
        }
    }
}

TEST_CASE("a Kubernetes token written to a file is accepted at every sign-in until it expires") {
    SandboxFixture fixture;
    const std::string directory = token_file_directory();
    const std::string file = directory + "/azure-identity-token";
    const HttpResponse written = fixture.control("POST", "/_sandbox/oidc/token",
                                                 R"({"issuer":"kubernetes","file":")" + file + R"("})");
    REQUIRE(written.status == 200);
    const std::string token = read_file(file);
    CHECK(token == body_of(written).at("token").as_string());
    CHECK(payload_of(token).at("aud").at(0).as_string() == "api://AzureADTokenExchange");
    CHECK(payload_of(token).at("sub").as_string() == "system:serviceaccount:authgate:authgate");
    CHECK(sign_in_with(fixture, token).status == 200);
    CHECK(sign_in_with(fixture, token).status == 200);  // no jti is remembered for a federated assertion
    fixture.advance(std::chrono::seconds(3601));
    const HttpResponse expired = sign_in_with(fixture, token);
    CHECK(expired.status == 401);
    CHECK(code_of(expired) == 700024);
    std::filesystem::remove_all(directory);
}

TEST_CASE("the federation checks answer Entra's codes") {
    struct Case {
        const char* behaviour;
        const char* document;
        int status;
        const char* error;
        int code;
    };
    const std::vector<Case> cases = {
        {"an issuer no credential has is AADSTS700211",
         R"({"issuer":"github","claims":{"iss":"https://token.actions.githubusercontent.com"}})", 401, "invalid_client",
         700211},
        {"a pull-request subject where the environment's is registered is AADSTS700213",
         R"({"issuer":"github","subject":"repo:contoso/policies:pull_request"})", 401, "invalid_client", 700213},
        {"a subject differing only in case is AADSTS7002138",
         R"({"issuer":"github","subject":"repo:Contoso/policies:environment:exchange-online"})", 401, "invalid_client",
         7002138},
        {"another audience is AADSTS700212", R"({"issuer":"kubernetes","audience":["https://kubernetes.default.svc"]})",
         401, "invalid_client", 700212},
        {"an expired token is AADSTS700024", R"({"issuer":"github","issued":-400,"lifetime":300})", 401,
         "invalid_client", 700024},
        {"a token not valid for another ten minutes is AADSTS700024",
         R"({"issuer":"kubernetes","issued":600,"lifetime":3600})", 401, "invalid_client", 700024},
        {"a key the issuer does not publish is AADSTS7000272", R"({"issuer":"github","signing":"unknown_key"})", 401,
         "invalid_client", 7000272},
        {"a spoilt signature is AADSTS50013", R"({"issuer":"azure-devops","signing":"bad_signature"})", 401,
         "invalid_client", 50013},
        {"aud as a number is AADSTS50027", R"({"issuer":"github","claims":{"aud":5}})", 401, "invalid_client", 50027},
        {"exp as a string is AADSTS50027", R"({"issuer":"github","claims":{"exp":"soon"}})", 401, "invalid_client",
         50027},
    };
    for (const auto& c : cases) {
        SECTION(c.behaviour) {
            SandboxFixture fixture;
            const HttpResponse response = sign_in_with(fixture, minted(fixture, c.document));
            INFO(response.body);
            CHECK(response.status == c.status);
            CHECK(body_of(response).at("error").as_string() == c.error);
            CHECK(code_of(response) == c.code);
            CHECK_THAT(body_of(response).at("error_description").as_string(),
                       Catch::StartsWith("AADSTS" + std::to_string(c.code) + ": ") &&
                           Catch::Contains("\r\nTrace ID: "));
        }
    }
    SECTION("the texts name what the assertion presented") {
        SandboxFixture fixture;
        const std::string description =
            body_of(
                sign_in_with(fixture,
                             minted(fixture, R"({"issuer":"github","subject":"repo:contoso/policies:pull_request"})")))
                .at("error_description")
                .as_string();
        CHECK_THAT(description, Catch::Contains("presented assertion subject 'repo:contoso/policies:pull_request'"));
    }
    SECTION("a credential for an issuer the sandbox cannot fetch keys of is AADSTS7000272") {
        SandboxFixture fixture;
        REQUIRE(
            fixture
                .control(
                    "POST", "/_sandbox/federated-credentials",
                    R"([{"issuer":"https://token.actions.githubusercontent.com","subject":"repo:contoso/policies:environment:exchange-online"}])")
                .status == 200);
        const HttpResponse response = sign_in_with(
            fixture,
            minted(fixture, R"({"issuer":"github","claims":{"iss":"https://token.actions.githubusercontent.com"}})"));
        CHECK(code_of(response) == 7000272);
    }
    SECTION("with --federation-errors generic every mismatch is AADSTS70021, 400 invalid_request") {
        // The flag lives in the configuration; the in-process fixture sets it through a fresh sandbox.
        SandboxConfig config;
        config.tenant = kTenant;
        config.app_id = kAppId;
        config.behaviours.generic_federation_errors = true;
        Sandbox sandbox(std::move(config), Tenant::from_snapshot(small_tenant_seed(), kTenant), {}, PssPolicy::accept);
        sandbox.set_port(kPort);
        const auto token_for = [&](const std::string& document) {
            HttpRequest request;
            request.method = "POST";
            request.path = "/_sandbox/oidc/token";
            request.body = document;
            return body_of(sandbox.handle(request)).at("token").as_string();
        };
        for (const char* document : {R"({"issuer":"github","subject":"repo:contoso/policies:pull_request"})",
                                     R"({"issuer":"github","claims":{"iss":"https://elsewhere.example"}})",
                                     R"({"issuer":"github","audience":"api://other"})"}) {
            HttpRequest request;
            request.method = "POST";
            request.path = std::string("/") + kTenant + "/oauth2/v2.0/token";
            request.headers.set("Content-Type", "application/x-www-form-urlencoded");
            request.body = std::string("grant_type=client_credentials&client_id=") + kAppId +
                           "&scope=" + web::uri::encode_data_string(kOrigin + "/.default") +
                           "&client_assertion_type=" + web::uri::encode_data_string(kAssertionType) +
                           "&client_assertion=" + token_for(document);
            const HttpResponse response = sandbox.handle(request);
            CHECK(response.status == 400);
            CHECK(body_of(response).at("error").as_string() == "invalid_request");
            CHECK(code_of(response) == 70021);
            CHECK_THAT(body_of(response).at("error_description").as_string(),
                       Catch::Contains("Assertion Issuer: '") && Catch::Contains("Assertion Subject: '"));
        }
    }
}

TEST_CASE("an assertion naming a registered certificate is the app's own, whatever its iss, and keeps its checks") {
    SandboxFixture fixture;
    value claims = standard_claims(kAppId, kTokenUrl, fixture.now());
    claims["iss"] = value::string("https://token.actions.githubusercontent.com");
    const std::string assertion = sign_assertion(standard_header(app_credential(), Algorithm::ps256), claims,
                                                 app_credential().key.get(), Algorithm::ps256);
    CHECK(code_of(sign_in_with(fixture, assertion)) == 700021);
}

TEST_CASE("the app's federated identity credentials: the defaults, and those set through the control API") {
    SandboxFixture fixture;
    const value defaults = body_of(fixture.control("GET", "/_sandbox/federated-credentials"));
    REQUIRE(defaults.size() == 3);
    CHECK(defaults.at(0).at("name").as_string() == "github-exchange-online");
    CHECK(defaults.at(0).at("issuer").as_string() == kGithubIssuer);
    CHECK(defaults.at(0).at("subject").as_string() == "repo:contoso/policies:environment:exchange-online");
    CHECK(defaults.at(0).at("audiences").at(0).as_string() == "api://AzureADTokenExchange");
    CHECK(defaults.at(1).at("issuer").as_string() == kDevOpsIssuer);
    CHECK(defaults.at(1).at("subject").as_string() == "sc://contoso/policies/exchange-online");
    CHECK(defaults.at(2).at("subject").as_string() == "system:serviceaccount:authgate:authgate");

    // A list replaces them; the sandbox's issuers may be named.
    const HttpResponse replaced = fixture.control(
        "POST", "/_sandbox/federated-credentials",
        R"([{"name":"pull-requests","issuer":"github","subject":"repo:contoso/policies:pull_request"}])");
    REQUIRE(replaced.status == 200);
    CHECK(body_of(replaced).at(0).at("issuer").as_string() == kGithubIssuer);
    CHECK(code_of(sign_in_with(fixture, github_jwt(fixture))) == 700213);
    CHECK(
        sign_in_with(fixture, minted(fixture, R"({"issuer":"github","subject":"repo:contoso/policies:pull_request"})"))
            .status == 200);
    // An object adds one.
    REQUIRE(fixture
                .control("POST", "/_sandbox/federated-credentials",
                         R"({"issuer":"github","subject":"repo:contoso/policies:environment:exchange-online"})")
                .status == 200);
    CHECK(sign_in_with(fixture, github_jwt(fixture)).status == 200);
    // DELETE leaves none; "defaults" brings them back.
    CHECK(body_of(fixture.control("DELETE", "/_sandbox/federated-credentials")).size() == 0);
    CHECK(code_of(sign_in_with(fixture, github_jwt(fixture))) == 700211);
    CHECK(body_of(fixture.control("POST", "/_sandbox/federated-credentials", R"("defaults")")).size() == 3);

    for (const char* refused : {R"([{"issuer":" https://x","subject":"s"}])", R"([{"issuer":"https://x"}])",
                                R"([{"issuer":"https://x","subject":"s","audiences":["a","b"]}])",
                                R"([{"issuer":"https://x","subject":"s"},{"issuer":"https://x","subject":"s"}])",
                                R"([{"name":"-x","issuer":"https://x","subject":"s"}])",
                                R"([{"issuer":"https://x","subject":"s","kind":1}])"}) {
        const HttpResponse response = fixture.control("POST", "/_sandbox/federated-credentials", refused);
        INFO(refused);
        CHECK(response.status == 400);
    }
}

TEST_CASE("POST /_sandbox/oidc/token refuses what it cannot mint") {
    SandboxFixture fixture;
    for (const char* refused : {R"({"issuer":"gitlab"})", R"({"lifetime":0})", R"({"audience":[]})",
                                R"({"signing":"none"})", R"({"claims":[]})", R"({"colour":"red"})", "not json"}) {
        INFO(refused);
        CHECK(fixture.control("POST", "/_sandbox/oidc/token", refused).status == 400);
    }
    CHECK(fixture.control("GET", "/_sandbox/oidc/token").status == 405);
}

TEST_CASE("platform faults: a failing endpoint, an expired token, another audience, a pull-request subject") {
    SandboxFixture fixture;
    SECTION("platform_error answers its status once, for its platform only") {
        fixture.set_faults(R"({"platform_error":{"count":1,"platform":"azure-devops","status":503}})");
        CHECK(github_token(fixture).status == 200);
        CHECK(devops_token(fixture).status == 503);
        CHECK(devops_token(fixture).status == 200);
        CHECK(fixture.state().at("faults").at("fired").at("platform_error").as_integer() == 1);
    }
    SECTION("platform_token_expired hands out a token Entra refuses with AADSTS700024") {
        fixture.set_faults(R"({"platform_token_expired":{"count":1}})");
        const std::string token = github_jwt(fixture);
        CHECK(payload_of(token).at("exp").as_number().to_int64() < unix_seconds(fixture.now()));
        CHECK(code_of(sign_in_with(fixture, token)) == 700024);
        CHECK(sign_in_with(fixture, github_jwt(fixture)).status == 200);
    }
    SECTION("platform_wrong_audience hands out a token Entra refuses with AADSTS700212") {
        fixture.set_faults(R"({"platform_wrong_audience":{"count":2}})");
        const std::string github = github_jwt(fixture);
        CHECK(payload_of(github).at("aud").as_string() == "https://github.com/contoso");
        CHECK(code_of(sign_in_with(fixture, github)) == 700212);
        const std::string devops = body_of(devops_token(fixture)).at("oidcToken").as_string();
        CHECK(payload_of(devops).at("aud").as_string() == "api://AzureADTokenExchangeChina");
        CHECK(code_of(sign_in_with(fixture, devops)) == 700212);
    }
    SECTION("github_pull_request_subject hands out the pull_request token, refused with AADSTS700213") {
        fixture.set_faults(R"({"github_pull_request_subject":{"count":1}})");
        const std::string token = github_jwt(fixture);
        CHECK(payload_of(token).at("sub").as_string() == "repo:contoso/policies:pull_request");
        CHECK(payload_of(token).at("event_name").as_string() == "pull_request");
        CHECK_FALSE(payload_of(token).has_field("environment"));
        CHECK(code_of(sign_in_with(fixture, token)) == 700213);
    }
    SECTION("federation_propagating answers AADSTS70021 to a matching assertion, then lets it through") {
        fixture.set_faults(R"({"federation_propagating":{"count":1}})");
        const std::string token = github_jwt(fixture);
        const HttpResponse refused = sign_in_with(fixture, token);
        CHECK(refused.status == 400);
        CHECK(code_of(refused) == 70021);
        CHECK(sign_in_with(fixture, token).status == 200);
    }
    SECTION("token_error injects a federation code with its catalogue text") {
        fixture.set_faults(R"({"token_error":{"count":1,"code":700213}})");
        const HttpResponse refused = sign_in_with(fixture, github_jwt(fixture));
        CHECK(code_of(refused) == 700213);
        CHECK_THAT(body_of(refused).at("error_description").as_string(),
                   Catch::Contains("No matching federated identity record found for presented assertion subject"));
    }
    SECTION("the fault documents are read strictly and reported back") {
        CHECK(fixture.control("POST", "/_sandbox/faults", R"({"platform_error":{"platform":"gitlab"}})").status == 400);
        CHECK(fixture.control("POST", "/_sandbox/faults", R"({"platform_error":{"status":302}})").status == 400);
        fixture.set_faults(R"({"platform_wrong_audience":{"count":1,"platform":"github","audience":"api://x"}})");
        const value active = fixture.state().at("faults").at("active").at("platform_wrong_audience");
        CHECK(active.at("platform").as_string() == "github");
        CHECK(active.at("audience").as_string() == "api://x");
    }
}

}  // namespace sandbox::test
