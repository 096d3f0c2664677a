// Workload identity federation: the platform token sources (GitHub Actions, Azure DevOps, a token
// file), the order they are looked for in, the exchange at Entra's token endpoint, its advice, and
// that a platform token never reaches a trace.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <cpprest/json.h>

#include "connectors/trace.h"
#include "connectors/workload_identity.h"
#include "fake_http.h"
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

// An unsigned compact JWT with these claims: all the exchange needs to read.
std::string jwt(const std::string& claims) {
    return base64url(R"({"alg":"RS256","typ":"JWT"})") + "." + base64url(claims) + "." + base64url("signature");
}

const std::string github_token = jwt(
    R"({"iss":"https://token.actions.githubusercontent.com","sub":"repo:contoso/policies:environment:production",)"
    R"("aud":"api://AzureADTokenExchange","exp":1795000000})");

HttpResponse entra_token(const std::string& value = "exchange-token") {
    return {200, {}, R"({"token_type":"Bearer","expires_in":3599,"access_token":")" + value + "\"}"};
}

HttpResponse entra_error(long code, const std::string& text) {
    return {400,
            {},
            R"({"error":"invalid_request","error_description":"AADSTS)" + std::to_string(code) + ": " + text +
                R"(\r\nTrace ID: 1","error_codes":[)" + std::to_string(code) + "]}"};
}

std::string form_field(const std::string& body, const std::string& name) {
    const std::size_t start = body.find(name + "=");
    if (start == std::string::npos) return "";
    const std::size_t from = start + name.size() + 1;
    return body.substr(from, body.find('&', from) - from);
}

const TokenSettings exchange{"https://login.microsoftonline.com", "https://outlook.office365.com",
                             "contoso.onmicrosoft.com", "6f1c0e2a-0000-4000-8000-000000000001"};

const std::map<std::string, std::string> github{
    {"ACTIONS_ID_TOKEN_REQUEST_URL", "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0"},
    {"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-request-token"}};

const std::map<std::string, std::string> devops{{"SYSTEM_OIDCREQUESTURI", "https://dev.azure.com/contoso/oidc"},
                                                {"SYSTEM_ACCESSTOKEN", "pipeline-access-token"},
                                                {"AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "from-azure-cli-task"}};

struct Federation {
    ScriptedTransport http;
    std::vector<std::chrono::milliseconds> waits;
    std::unique_ptr<FederatedAssertion> source;
    std::unique_ptr<TokenClient> tokens;

    explicit Federation(const Environment& environment, TokenSettings settings = exchange) {
        const RetrySleep sleep = [this](std::chrono::milliseconds wait) { waits.push_back(wait); };
        source = std::make_unique<FederatedAssertion>(http, find_platform_token(http, environment, sleep), sleep);
        tokens = std::make_unique<TokenClient>(*source, std::move(settings));
    }
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

TEST_CASE("GitHub Actions: the OIDC token is asked for with the exchange audience, then sent as the assertion",
          "[workload-identity]") {
    Federation f(variables(github));
    f.http.answer({200, {{"content-type", "application/json"}}, R"({"count":1,"value":")" + github_token + "\"}"});
    f.http.answer(entra_token());
    CHECK(f.tokens->bearer() == "exchange-token");
    REQUIRE(f.http.requests.size() == 2);

    const HttpRequest& oidc = f.http.requests[0];
    CHECK(oidc.method == "GET");
    CHECK(oidc.url == "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0"
                      "&audience=api%3A%2F%2FAzureADTokenExchange");
    CHECK(oidc.headers.at("Authorization") == "Bearer runner-request-token");
    CHECK_FALSE(oidc.identity_endpoint);

    const HttpRequest& exchange_request = f.http.requests[1];
    CHECK(exchange_request.url == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    CHECK(exchange_request.headers.at("Content-Type") == "application/x-www-form-urlencoded");
    CHECK(form_field(exchange_request.body, "grant_type") == "client_credentials");
    CHECK(form_field(exchange_request.body, "client_id") == "6f1c0e2a-0000-4000-8000-000000000001");
    CHECK(form_field(exchange_request.body, "scope") == "https%3A%2F%2Foutlook.office365.com%2F.default");
    CHECK(form_field(exchange_request.body, "client_assertion_type") ==
          "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer");
    CHECK(form_field(exchange_request.body, "client_assertion") == github_token);  // unchanged (base64url, dots)
    CHECK(f.tokens->requests_made() == 2);
    CHECK(f.source->description() == "workload identity (the OIDC token of GitHub Actions)");
}

TEST_CASE("a URL without a query gets the audience after '?', and Graph is asked for its own scope",
          "[workload-identity]") {
    auto values = github;
    values["ACTIONS_ID_TOKEN_REQUEST_URL"] = "https://token.example/idtoken";
    TokenSettings graph = exchange;
    graph.resource = "https://graph.microsoft.com/";
    Federation f(variables(values), graph);
    f.http.answer({200, {}, R"({"value":")" + github_token + "\"}"});
    f.http.answer(entra_token("graph-token"));
    CHECK(f.tokens->bearer() == "graph-token");
    CHECK(f.http.requests[0].url == "https://token.example/idtoken?audience=api%3A%2F%2FAzureADTokenExchange");
    CHECK(form_field(f.http.requests[1].body, "scope") == "https%3A%2F%2Fgraph.microsoft.com%2F.default");
}

TEST_CASE("a fresh platform token for every exchange, and the access token cached as with a certificate",
          "[workload-identity]") {
    Federation f(variables(github));
    for (const std::string name : {"first", "second"}) {
        f.http.answer({200, {}, R"({"value":")" + jwt(R"({"sub":")" + name + "\"}") + "\"}"});
        f.http.answer(entra_token(name));
    }
    CHECK(f.tokens->bearer() == "first");
    CHECK(f.tokens->bearer() == "first");  // cached
    f.tokens->invalidate();
    CHECK(f.tokens->bearer() == "second");
    REQUIRE(f.http.requests.size() == 4);
    CHECK(f.http.requests[2].url == f.http.requests[0].url);
}

TEST_CASE("Azure DevOps: POST to the OIDC request URI with the service connection", "[workload-identity]") {
    SECTION("the connection from the AzureCLI task's variable") {
        Federation f(variables(devops));
        f.http.answer({200, {}, R"({"oidcToken":")" + github_token + "\"}"});
        f.http.answer(entra_token());
        CHECK(f.tokens->bearer() == "exchange-token");
        const HttpRequest& oidc = f.http.requests.at(0);
        CHECK(oidc.method == "POST");
        CHECK(oidc.url == "https://dev.azure.com/contoso/oidc?api-version=7.1&serviceConnectionId=from-azure-cli-task");
        CHECK(oidc.headers.at("Authorization") == "Bearer pipeline-access-token");
        CHECK(oidc.headers.at("Content-Type") == "application/json");
        CHECK(oidc.headers.at("X-TFS-FedAuthRedirect") == "Suppress");
        CHECK(oidc.body.empty());
        CHECK(form_field(f.http.requests.at(1).body, "client_assertion") == github_token);
    }
    SECTION("AUTHGATE_SERVICE_CONNECTION_ID wins over the task's variable") {
        auto values = devops;
        values["AUTHGATE_SERVICE_CONNECTION_ID"] = "0a1b2c3d-0000-4000-8000-000000000009";
        Federation f(variables(values));
        f.http.answer({200, {}, R"({"oidcToken":")" + github_token + "\"}"});
        f.http.answer(entra_token());
        f.tokens->bearer();
        CHECK_THAT(f.http.requests.at(0).url,
                   Catch::EndsWith("&serviceConnectionId=0a1b2c3d-0000-4000-8000-000000000009"));
    }
    SECTION("a refused access token says how to map it") {
        Federation f(variables(devops));
        f.http.answer({401, {}, R"({"message":"TF400813: not authorized"})"});
        const std::string message = message_of([&] { f.tokens->bearer(); });
        CHECK_THAT(message, Catch::StartsWith("workload identity: the OIDC token of Azure DevOps could not be had from "
                                              "https://dev.azure.com: HTTP 401: TF400813: not authorized") &&
                                Catch::Contains("`env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)`"));
        CHECK(message.find("pipeline-access-token") == std::string::npos);
    }
}

TEST_CASE("the token file is read afresh for every token request", "[workload-identity]") {
    TempDir dir;
    dir.write("token", github_token + "\n");
    Federation f(variables({{"AZURE_FEDERATED_TOKEN_FILE", dir / "token"}}));
    f.http.answer(entra_token("t1"));
    f.http.answer(entra_token("t2"));
    CHECK(f.tokens->bearer() == "t1");
    const std::string rotated = jwt(R"({"sub":"system:serviceaccount:ops:authgate","n":2})");
    dir.write("token", rotated);  // the kubelet rotated it
    f.tokens->invalidate();
    CHECK(f.tokens->bearer() == "t2");
    REQUIRE(f.http.requests.size() == 2);                                            // no request for the file
    CHECK(form_field(f.http.requests[0].body, "client_assertion") == github_token);  // without its newline
    CHECK(form_field(f.http.requests[1].body, "client_assertion") == rotated);

    dir.write("token", "");
    f.tokens->invalidate();
    CHECK_THAT(message_of([&] { f.tokens->bearer(); }),
               Catch::Equals("workload identity: cannot read the token file " + (dir / "token") +
                             " (AZURE_FEDERATED_TOKEN_FILE): it is empty"));
    std::filesystem::remove(dir / "token");
    CHECK_THAT(message_of([&] { f.tokens->bearer(); }),
               Catch::StartsWith("workload identity: cannot read the token file " + (dir / "token") +
                                 " (AZURE_FEDERATED_TOKEN_FILE): No such file or directory"));
    dir.write("token", std::string(70 * 1024, 'a'));
    CHECK_THAT(message_of([&] { f.tokens->bearer(); }), Catch::Contains("more than a platform token"));
}

TEST_CASE("platform sources are looked for in a fixed order: GitHub Actions, Azure DevOps, a token file",
          "[workload-identity]") {
    ScriptedTransport http;
    std::map<std::string, std::string> all = github;
    all.insert(devops.begin(), devops.end());
    all["AZURE_FEDERATED_TOKEN_FILE"] = "/var/run/secrets/azure/tokens/azure-identity-token";
    CHECK(find_platform_token(http, variables(all))->name() == "GitHub Actions");
    all.erase("ACTIONS_ID_TOKEN_REQUEST_URL");
    all.erase("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    CHECK(find_platform_token(http, variables(all))->name() == "Azure DevOps");
    all.erase("SYSTEM_OIDCREQUESTURI");
    CHECK(find_platform_token(http, variables(all))->name() ==
          "the token file /var/run/secrets/azure/tokens/azure-identity-token (AZURE_FEDERATED_TOKEN_FILE)");
    CHECK(http.requests.empty());
}

TEST_CASE("what is missing is said, and no other source is tried in its place", "[workload-identity]") {
    ScriptedTransport http;
    const auto message = [&](std::map<std::string, std::string> values) {
        return message_of([&] { find_platform_token(http, variables(std::move(values))); });
    };
    SECTION("nothing at all") {
        CHECK(message({}) ==
              "workload identity: this environment provides no platform token. Looked for, in order:\n"
              "  1. GitHub Actions: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set "
              "(add `permissions: id-token: write` to the workflow's job)\n"
              "  2. Azure DevOps: SYSTEM_OIDCREQUESTURI is not set (a pipeline step using a service connection "
              "with workload identity federation; SYSTEM_ACCESSTOKEN mapped, and AUTHGATE_SERVICE_CONNECTION_ID or "
              "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID)\n"
              "  3. a token file: AZURE_FEDERATED_TOKEN_FILE is not set (Azure Workload Identity on Kubernetes sets "
              "it in a pod labelled azure.workload.identity/use: \"true\")");
    }
    SECTION("a GitHub Actions job without id-token: write") {
        CHECK_THAT(message({{"GITHUB_ACTIONS", "true"}}),
                   Catch::EndsWith("\n  what to check: this is a GitHub Actions job without an OIDC token: add "
                                   "`permissions: id-token: write` to the workflow's job"));
    }
    SECTION("half of GitHub's pair") {
        CHECK(message({{"ACTIONS_ID_TOKEN_REQUEST_URL", "https://x.example/t"},
                       {"AZURE_FEDERATED_TOKEN_FILE", "/tmp/token"}}) ==
              "workload identity: GitHub Actions sets ACTIONS_ID_TOKEN_REQUEST_URL but not "
              "ACTIONS_ID_TOKEN_REQUEST_TOKEN: add `permissions: id-token: write` to the workflow's job");
    }
    SECTION("Azure DevOps without the access token, or without a service connection") {
        CHECK(message({{"SYSTEM_OIDCREQUESTURI", "https://dev.azure.com/x/oidc"}}) ==
              "workload identity: Azure DevOps sets SYSTEM_OIDCREQUESTURI, but SYSTEM_ACCESSTOKEN is not set: map "
              "it in the step: `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)`");
        CHECK(message({{"SYSTEM_OIDCREQUESTURI", "https://dev.azure.com/x/oidc"}, {"SYSTEM_ACCESSTOKEN", "s"}}) ==
              "workload identity: Azure DevOps needs the id of the service connection whose federated credential "
              "to use: set AUTHGATE_SERVICE_CONNECTION_ID (the resourceId in the URL of the service connection's "
              "page), or run in an AzureCLI@2 task, which sets AZURESUBSCRIPTION_SERVICE_CONNECTION_ID");
    }
    CHECK(http.requests.empty());
}

TEST_CASE("GitHub's refusals and failures name what was tried, and busy answers are retried", "[workload-identity]") {
    SECTION("403: the job lacks the permission") {
        Federation f(variables(github));
        f.http.answer({403, {}, R"({"message":"Resource not accessible by integration"})"});
        const std::string message = message_of([&] { f.tokens->bearer(); });
        CHECK(message == "workload identity: the OIDC token of GitHub Actions could not be had from "
                         "https://pipelines.actions.githubusercontent.com: HTTP 403: Resource not accessible by "
                         "integration\n  what to check: add `permissions: id-token: write` to the workflow's job; "
                         "ACTIONS_ID_TOKEN_REQUEST_TOKEN is good only within its own job, while it runs");
        CHECK(message.find("runner-request-token") == std::string::npos);
        CHECK(f.http.requests.size() == 1);
    }
    SECTION("503 and a lost connection, then the token") {
        Federation f(variables(github));
        f.http.answer({503, {}, "{}"});
        f.http.fail("cannot reach https://pipelines.actions.githubusercontent.com: connection reset", false);
        f.http.answer({200, {}, R"({"value":")" + github_token + "\"}"});
        f.http.answer(entra_token());
        CHECK(f.tokens->bearer() == "exchange-token");
        CHECK(f.waits ==
              std::vector<std::chrono::milliseconds>{std::chrono::milliseconds{1000}, std::chrono::milliseconds{2000}});
        CHECK(f.tokens->requests_made() == 4);
    }
    SECTION("200 without a value") {
        Federation f(variables(github));
        f.http.answer({200, {}, R"({"count":0})"});
        CHECK_THAT(message_of([&] { f.tokens->bearer(); }),
                   Catch::EndsWith("HTTP 200 without a token in the answer's \"value\" member"));
    }
}

TEST_CASE("a refused federation says what to register, with the token's issuer and subject", "[workload-identity]") {
    const auto refused = [](long code, const std::string& text) {
        Federation f(variables(github));
        for (int attempt = 0; attempt < (code == 70021 ? 4 : 1); ++attempt) {  // 70021 is retried
            f.http.answer({200, {}, R"({"value":")" + github_token + "\"}"});
            f.http.answer(entra_error(code, text));
        }
        try {
            f.tokens->bearer();
        } catch (const AuthenticationError& error) {
            CHECK(error.code() == code);
            const std::string message = error.what();
            CHECK(message.find(github_token) == std::string::npos);
            return message;
        }
        FAIL("no error");
        return std::string();
    };
    CHECK(refused(70021, "No matching federated identity record found for presented assertion.") ==
          "token request to https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token (workload "
          "identity, with the OIDC token of GitHub Actions) failed: HTTP 400: AADSTS70021: No matching federated "
          "identity record found for presented assertion.\n"
          "  what to check: no federated credential of app registration 6f1c0e2a-0000-4000-8000-000000000001 "
          "matches the token of GitHub Actions: issuer 'https://token.actions.githubusercontent.com', subject "
          "'repo:contoso/policies:environment:production', audience 'api://AzureADTokenExchange'. Add one "
          "(Certificates & secrets → Federated credentials) with exactly this issuer and subject and the audience "
          "api://AzureADTokenExchange; one added in the last few minutes may not have spread yet: retry then");
    CHECK_THAT(refused(700213, "No matching federated identity record found for presented assertion subject."),
               Catch::Contains("has the subject 'repo:contoso/policies:environment:production' of the token of "
                               "GitHub Actions (compared case-sensitively)") &&
                   Catch::Contains("repo:owner@id/repo@id:"));
    CHECK_THAT(refused(7002138, "No matching federated identity record found for presented assertion subject."),
               Catch::Contains("differs from a federated credential's of app registration "
                               "6f1c0e2a-0000-4000-8000-000000000001 only in letter case"));
    CHECK_THAT(refused(7000272, "The certificate with identifier k used to sign the federated credential could not "
                                "be found."),
               Catch::Contains("in the metadata of its issuer 'https://token.actions.githubusercontent.com'"));
    CHECK_THAT(refused(700212, "No matching federated identity record found for presented assertion audience."),
               Catch::Contains("has the audience 'api://AzureADTokenExchange'"));
    CHECK_THAT(refused(700211, "No matching federated identity record found for presented assertion issuer."),
               Catch::Contains("has the issuer 'https://token.actions.githubusercontent.com'"));
    CHECK_THAT(refused(700024, "Client assertion is not within its valid time range."),
               Catch::Contains("was refused as expired or not yet valid (it expires 2026-11-18T") &&
                   Catch::Contains("check this machine's clock (NTP)"));
    CHECK_THAT(refused(700016, "Application not found."),
               Catch::EndsWith("is not in tenant contoso.onmicrosoft.com: check the app id, and that an admin "
                               "consented Exchange.ManageAsApp in this tenant"));
}

TEST_CASE("a platform token never reaches a trace", "[workload-identity][trace][safety]") {
    const std::string opaque = "opaque-platform-secret";  // not shaped like a JWT: removed by its member
    const auto [what, text, expected] = GENERATE_REF(table<std::string, std::string, std::string>({
        {"GitHub's answer", R"({"count":1,"value":")" + opaque + "\"}", R"({"count":1,"value":"[removed]"})"},
        {"GitHub's answer, spaced", R"({"value" : ")" + opaque + "\"}", R"({"value" : "[removed]"})"},
        {"Azure DevOps' answer", R"({"oidcToken":")" + opaque + "\"}", R"({"oidcToken":"[removed]"})"},
        {"the exchange's form", "client_id=x&client_assertion=" + opaque + "&scope=y",
         "client_id=x&client_assertion=[removed]&scope=y"},
        {"an escaped quote inside", R"({"value":"a\")" + opaque + R"(","n":1})", R"({"value":"[removed]","n":1})"},
        {"a list named value stays", R"({"value":[{"Name":"x"}]})", R"({"value":[{"Name":"x"}]})"},
    }));
    INFO(what);
    CHECK(remove_secrets(text) == expected);
}

TEST_CASE("a traced workload identity sign-in holds neither the platform token nor the request token",
          "[workload-identity][trace][safety]") {
    TempDir dir;
    const std::string folder = dir / "trace";
    auto inner = std::make_unique<ScriptedTransport>();
    ScriptedTransport& script = *inner;
    const std::string opaque = "opaque-platform-secret";
    script.answer({200, {{"content-type", "application/json"}}, R"({"count":1,"value":")" + opaque + "\"}"});
    script.answer(entra_token("opaque-access-token"));
    auto traced = make_tracing_transport(std::move(inner), folder);
    FederatedAssertion source(*traced, find_platform_token(*traced, variables(github)));
    TokenClient tokens(source, exchange);
    CHECK(tokens.bearer() == "opaque-access-token");
    CHECK(form_field(script.requests.at(1).body, "client_assertion") == opaque);  // sent as it was

    std::string all;
    for (const auto& file : std::filesystem::directory_iterator(folder)) {
        std::stringstream text;
        text << std::ifstream(file.path()).rdbuf();
        all += text.str();
    }
    CHECK_THAT(all, Catch::Contains("GET https://pipelines.actions.githubusercontent.com/abc/idtoken") &&
                        Catch::Contains("client_assertion=[removed]"));
    CHECK(all.find(opaque) == std::string::npos);
    CHECK(all.find("runner-request-token") == std::string::npos);
    CHECK(all.find("opaque-access-token") == std::string::npos);
}

TEST_CASE("AADSTS70021 is retried with a fresh platform token, as while a new federated credential spreads",
          "[workload-identity]") {
    using std::chrono::milliseconds;
    Federation f(variables(github));
    for (const std::string name : {"first", "second"}) {
        f.http.answer({200, {}, R"({"value":")" + jwt(R"({"sub":")" + name + "\"}") + "\"}"});
        f.http.answer(entra_error(70021, "No matching federated identity record found for presented assertion."));
    }
    f.http.answer({200, {}, R"({"value":")" + github_token + "\"}"});
    f.http.answer(entra_token());
    CHECK(f.tokens->bearer() == "exchange-token");
    CHECK(f.waits == std::vector<milliseconds>{milliseconds{5000}, milliseconds{10000}});
    REQUIRE(f.http.requests.size() == 6);
    CHECK(form_field(f.http.requests[1].body, "client_assertion") !=
          form_field(f.http.requests[3].body, "client_assertion"));
    CHECK(f.tokens->requests_made() == 6);

    // Other refusals are reported at once.
    Federation g(variables(github));
    g.http.answer({200, {}, R"({"value":")" + github_token + "\"}"});
    g.http.answer(entra_error(700213, "No matching federated identity record found for presented assertion subject."));
    CHECK_THROWS_AS(g.tokens->bearer(), AuthenticationError);
    CHECK(g.waits.empty());
}
