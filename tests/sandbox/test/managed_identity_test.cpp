// Managed identities: IMDS, App Service's IDENTITY_ENDPOINT and Azure Arc's challenge, the tokens
// they answer (accepted by Exchange and Graph as a certificate sign-in's), the Exchange role, and
// their faults.
#include <unistd.h>
#include <catch2/catch.hpp>
#include <filesystem>

#include "files.h"
#include "jwt.h"
#include "sandbox_fixture.h"

namespace sandbox::test {
namespace {

using web::json::value;

constexpr const char* kSystemClientId = "5a5a0000-0000-4000-8000-000000000001";
constexpr const char* kSystemObjectId = "5a5a0000-0000-4000-8000-000000000002";
constexpr const char* kUserClientId = "a55e0000-0000-4000-8000-000000000011";
constexpr const char* kUserObjectId = "a55e0000-0000-4000-8000-000000000012";
constexpr const char* kUserResourceId =
    "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/authgate/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/authgate-identity";
constexpr const char* kIdentityHeader = "sandbox-identity-header";

value identity_token_claims(const std::string& token) {
    std::string problem;
    const auto decoded = decode_jwt(token, problem);
    REQUIRE(decoded.has_value());
    return decoded->payload;
}

HttpResponse imds(SandboxFixture& fixture, QueryParameters extra = {}, bool metadata = true,
                  const std::string& resource = kOrigin) {
    QueryParameters query = {{"api-version", "2018-02-01"}, {"resource", resource}};
    for (auto& parameter : extra) query.push_back(std::move(parameter));
    std::map<std::string, std::string> headers;
    if (metadata) headers["Metadata"] = "true";
    return fixture.send("GET", "/metadata/identity/oauth2/token", query, headers);
}

HttpResponse app_service(SandboxFixture& fixture, QueryParameters extra = {},
                         const std::optional<std::string>& header = kIdentityHeader,
                         const std::string& resource = kOrigin) {
    QueryParameters query = {{"resource", resource}, {"api-version", "2019-08-01"}};
    for (auto& parameter : extra) query.push_back(std::move(parameter));
    std::map<std::string, std::string> headers;
    if (header) headers["X-IDENTITY-HEADER"] = *header;
    return fixture.send("GET", "/_appservice/msi/token", query, headers);
}

HttpResponse arc(SandboxFixture& fixture, const std::optional<std::string>& secret, QueryParameters extra = {}) {
    QueryParameters query = {{"api-version", "2020-06-01"}, {"resource", kOrigin}};
    for (auto& parameter : extra) query.push_back(std::move(parameter));
    std::map<std::string, std::string> headers = {{"Metadata", "true"}};
    if (secret) headers["Authorization"] = "Basic " + *secret;
    return fixture.send("GET", "/_arc/metadata/identity/oauth2/token", query, headers);
}

std::string arc_key_directory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sandbox-arc-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    return pattern;
}

void configure(SandboxFixture& fixture, const std::string& document) {
    const HttpResponse response = fixture.control("POST", "/_sandbox/managed-identities", document);
    INFO(response.body);
    REQUIRE(response.status == 200);
}

HttpResponse invoke_as(SandboxFixture& fixture, const std::string& token) {
    return fixture.invoke("Get-TransportConfig", value::object(), {{"Authorization", "Bearer " + token}});
}

}  // namespace

TEST_CASE("IMDS answers the system-assigned identity's token with every number a string") {
    SandboxFixture fixture;
    const HttpResponse response = imds(fixture);
    INFO(response.body);
    REQUIRE(response.status == 200);
    const value body = body_of(response);
    for (const char* name : {"access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before",
                             "resource", "token_type"}) {
        INFO(name);
        CHECK(body.at(name).is_string());
    }
    CHECK(body.at("refresh_token").as_string().empty());
    CHECK(body.at("expires_in").as_string() == "3599");
    CHECK(body.at("expires_on").as_string() == std::to_string(unix_seconds(fixture.now()) + 3599));
    CHECK(body.at("resource").as_string() == kOrigin);
    CHECK(body.at("client_id").as_string() == kSystemClientId);
    const value claims = identity_token_claims(body.at("access_token").as_string());
    CHECK(claims.at("appid").as_string() == kSystemClientId);
    CHECK(claims.at("oid").as_string() == kSystemObjectId);
    CHECK(claims.at("aud").as_string() == kOrigin);
    CHECK(claims.at("tid").as_string() == "72f988bf-0000-4000-8000-0000000000aa");
    CHECK(claims.at("roles").at(0).as_string() == "Exchange.ManageAsApp");
    // Exchange and Graph take it as they take a certificate sign-in's.
    CHECK(invoke_as(fixture, body.at("access_token").as_string()).status == 200);
    const value sign_in = fixture.state().at("credentials").at("sign_ins").at(0);
    CHECK(sign_in.at("via").as_string() == "managed_identity");
    CHECK(sign_in.at("endpoint").as_string() == "imds");
}

TEST_CASE("IMDS checks the Metadata header, the query and the identity as IMDS does") {
    SandboxFixture fixture;
    SECTION("without Metadata: true it is 400 bad_request_102") {
        const HttpResponse refused = imds(fixture, {}, false);
        CHECK(refused.status == 400);
        CHECK(body_of(refused).at("error").as_string() == "bad_request_102");
        CHECK(body_of(refused).at("error_description").as_string() == "Required metadata header not specified");
        const HttpResponse upper = fixture.send("GET", "/metadata/identity/oauth2/token",
                                                {{"api-version", "2018-02-01"}, {"resource", kOrigin}},
                                                {{"Metadata", "True"}});
        CHECK(upper.status == 400);
    }
    SECTION("a user-assigned identity by client_id, object_id or msi_res_id") {
        for (const auto& [selector, value_given] :
             {std::pair{"client_id", kUserClientId}, std::pair{"object_id", kUserObjectId},
              std::pair{"msi_res_id", kUserResourceId}}) {
            const HttpResponse response = imds(fixture, {{selector, value_given}});
            INFO(selector);
            REQUIRE(response.status == 200);
            CHECK(identity_token_claims(body_of(response).at("access_token").as_string()).at("oid").as_string() ==
                  kUserObjectId);
            CHECK(body_of(response).at("client_id").as_string() == kUserClientId);
        }
    }
    SECTION("an identity the VM does not have is 400 Identity not found") {
        const HttpResponse refused = imds(fixture, {{"client_id", "00000000-0000-0000-0000-000000000000"}});
        CHECK(refused.status == 400);
        CHECK(body_of(refused).at("error").as_string() == "invalid_request");
        CHECK(body_of(refused).at("error_description").as_string() == "Identity not found");
    }
    SECTION("without a selector and no system-assigned identity: the only user-assigned one, or 400 if several") {
        configure(fixture, R"({"system_assigned":null})");
        CHECK(body_of(imds(fixture)).at("client_id").as_string() == kUserClientId);
        configure(fixture, R"({"system_assigned":null,"user_assigned":[
            {"client_id":"c1","object_id":"o1","resource_id":"/r/1"},{"client_id":"c2","object_id":"o2","resource_id":"/r/2"}]})");
        const HttpResponse refused = imds(fixture);
        CHECK(refused.status == 400);
        CHECK_THAT(body_of(refused).at("error_description").as_string(),
                   Catch::StartsWith("Multiple user assigned identities exist"));
        CHECK(imds(fixture, {{"client_id", "C2"}}).status == 200);
    }
    SECTION("a resource the tenant does not know is 400 invalid_resource") {
        const HttpResponse refused = imds(fixture, {}, true, "https://outlook.office365.com/");
        CHECK(refused.status == 400);
        CHECK(body_of(refused).at("error").as_string() == "invalid_resource");
        CHECK_THAT(body_of(refused).at("error_description").as_string(), Catch::StartsWith("AADSTS50001: "));
    }
    SECTION("Graph's resource, with or without the slash, earns a Graph token Graph accepts") {
        for (const std::string resource : {"https://graph.microsoft.com", "https://graph.microsoft.com/"}) {
            const HttpResponse response = imds(fixture, {}, true, resource);
            REQUIRE(response.status == 200);
            CHECK(body_of(response).at("resource").as_string() == resource);
            const std::string token = body_of(response).at("access_token").as_string();
            CHECK(identity_token_claims(token).at("aud").as_string() == "https://graph.microsoft.com");
            CHECK(
                fixture.send("GET", "/v1.0/admin/reportSettings", {}, {{"Authorization", "Bearer " + token}}).status ==
                200);
            CHECK(invoke_as(fixture, token).status == 401);
        }
    }
    SECTION("the trailing slash of the sandbox's origin is accepted too") {
        CHECK(imds(fixture, {}, true, kOrigin + "/").status == 200);
    }
    SECTION("no resource or api-version is 400, POST is 405") {
        CHECK(
            fixture
                .send("GET", "/metadata/identity/oauth2/token", {{"api-version", "2018-02-01"}}, {{"Metadata", "true"}})
                .status == 400);
        CHECK(fixture.send("GET", "/metadata/identity/oauth2/token", {{"resource", kOrigin}}, {{"Metadata", "true"}})
                  .status == 400);
        CHECK(fixture.send("POST", "/metadata/identity/oauth2/token", {}, {{"Metadata", "true"}}).status == 405);
    }
}

TEST_CASE("App Service answers with X-IDENTITY-HEADER, expires_on as seconds, and selects by its own names") {
    SandboxFixture fixture;
    const HttpResponse response = app_service(fixture);
    INFO(response.body);
    REQUIRE(response.status == 200);
    const value body = body_of(response);
    CHECK(body.size() == 5);
    CHECK(body.at("expires_on").as_string() == std::to_string(unix_seconds(fixture.now()) + 3599));
    CHECK(body.at("resource").as_string() == kOrigin);
    CHECK(body.at("token_type").as_string() == "Bearer");
    CHECK(body.at("client_id").as_string() == kSystemClientId);
    CHECK(invoke_as(fixture, body.at("access_token").as_string()).status == 200);

    for (const auto& [selector, value_given] :
         {std::pair{"client_id", kUserClientId}, std::pair{"principal_id", kUserObjectId},
          std::pair{"object_id", kUserObjectId}, std::pair{"mi_res_id", kUserResourceId}}) {
        const HttpResponse selected = app_service(fixture, {{selector, value_given}});
        INFO(selector);
        REQUIRE(selected.status == 200);
        CHECK(body_of(selected).at("client_id").as_string() == kUserClientId);
    }
    const HttpResponse unknown = app_service(fixture, {{"client_id", "nobody"}});
    CHECK(unknown.status == 400);
    CHECK(body_of(unknown).at("message").as_string() == "Unable to load the proper Managed Identity.");
    CHECK(app_service(fixture, {}, std::nullopt).status == 401);
    CHECK(app_service(fixture, {}, "stale").status == 401);
    CHECK(fixture
              .send("GET", "/_appservice/msi/token", {{"resource", kOrigin}, {"api-version", "2017-09-01"}},
                    {{"X-IDENTITY-HEADER", kIdentityHeader}})
              .status == 400);
    // The header rotates: a client that sends the old one is refused.
    configure(fixture, R"({"identity_header":"rotated"})");
    CHECK(app_service(fixture).status == 401);
    CHECK(app_service(fixture, {}, "rotated").status == 200);
}

TEST_CASE("Azure Arc challenges with a key file in its directory and answers the request that carries its content") {
    SandboxFixture fixture;
    const std::string directory = arc_key_directory();
    configure(fixture, R"({"arc_key_directory":")" + directory + R"("})");

    const HttpResponse challenge = arc(fixture, std::nullopt);
    REQUIRE(challenge.status == 401);
    const std::string realm = *challenge.headers.get("WWW-Authenticate");
    REQUIRE_THAT(realm, Catch::StartsWith("Basic realm=" + directory + "/") && Catch::EndsWith(".key"));
    const std::filesystem::path file = realm.substr(std::string("Basic realm=").size());
    const std::string secret = read_file(file);
    CHECK(secret.size() >= 32);
    CHECK(secret.size() <= 4096);

    const HttpResponse answered = arc(fixture, secret);
    INFO(answered.body);
    REQUIRE(answered.status == 200);
    const value body = body_of(answered);
    CHECK(body.at("expires_in").as_string() == "3599");
    CHECK(identity_token_claims(body.at("access_token").as_string()).at("appid").as_string() == kSystemClientId);
    CHECK(invoke_as(fixture, body.at("access_token").as_string()).status == 200);

    SECTION("a wrong secret is challenged again") {
        const HttpResponse again = arc(fixture, "not-the-file-content");
        CHECK(again.status == 401);
        CHECK(*again.headers.get("WWW-Authenticate") != realm);
    }
    SECTION("a secret is good for five minutes") {
        fixture.advance(std::chrono::seconds(301));
        CHECK(arc(fixture, secret).status == 401);
        CHECK_FALSE(std::filesystem::exists(file));  // expired key files are removed at the next challenge
    }
    SECTION("without Metadata: true it is 400 bad_request_102") {
        const HttpResponse refused = fixture.send("GET", "/_arc/metadata/identity/oauth2/token",
                                                  {{"api-version", "2020-06-01"}, {"resource", kOrigin}});
        CHECK(body_of(refused).at("error").as_string() == "bad_request_102");
    }
    SECTION("a user-assigned identity is refused on Arc") {
        CHECK(arc(fixture, secret, {{"client_id", kUserClientId}}).status == 400);
    }
    std::filesystem::remove_all(directory);
}

TEST_CASE("a managed identity without the Exchange role is answered as such by Exchange, and Graph still serves it") {
    SandboxFixture fixture;
    SECTION("exchange_role false") {
        configure(fixture, R"({"system_assigned":{"exchange_role":false}})");
        const std::string token = body_of(imds(fixture)).at("access_token").as_string();
        CHECK(identity_token_claims(token).at("roles").size() == 7);  // the Graph roles only
        const HttpResponse refused = invoke_as(fixture, token);
        CHECK(refused.status == 403);
        CHECK(refused.body == std::string(4096, '\0'));
        CHECK_THAT(*refused.headers.get("x-ms-diagnostics"),
                   Catch::StartsWith(std::string("2000008;reason=\"The role assigned to application ") +
                                     kSystemClientId + " isn't supported in this scenario."));
        CHECK(fixture.send("GET", "/v1.0/admin/reportSettings", {}, {{"Authorization", "Bearer " + token}}).status ==
              200);
    }
    SECTION("the managed_identity_no_role fault, for managed identities only") {
        fixture.set_faults(R"({"managed_identity_no_role":true})");
        CHECK(invoke_as(fixture, body_of(imds(fixture)).at("access_token").as_string()).status == 403);
        CHECK(fixture.invoke("Get-TransportConfig", value::object()).status == 200);  // the app's certificate token
        fixture.set_faults("{}");
        CHECK(invoke_as(fixture, body_of(imds(fixture)).at("access_token").as_string()).status == 200);
        CHECK(fixture.state().at("faults").at("fired").at("managed_identity_no_role").as_integer() == 1);
    }
}

TEST_CASE("managed_identity_error answers its status in the endpoint's own shape, for its endpoint only") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"managed_identity_error":{"count":2,"status":429,"endpoint":"imds","retry_after":"2"}})");
    CHECK(app_service(fixture).status == 200);
    for (int i = 0; i < 2; ++i) {
        const HttpResponse throttled = imds(fixture);
        CHECK(throttled.status == 429);
        CHECK(throttled.headers.get("Retry-After") == "2");
        CHECK(body_of(throttled).at("error").as_string() == "too_many_requests");
    }
    CHECK(imds(fixture).status == 200);
    fixture.set_faults(R"({"managed_identity_error":{"count":1,"status":500,"endpoint":"app_service"}})");
    const HttpResponse failed = app_service(fixture);
    CHECK(failed.status == 500);
    CHECK(body_of(failed).at("statusCode").as_integer() == 500);
    for (const int status : {404, 410, 503}) {
        fixture.set_faults(R"({"managed_identity_error":{"status":)" + std::to_string(status) + "}}");
        CHECK(imds(fixture).status == status);
        CHECK(imds(fixture).status == 200);
    }
    CHECK(fixture.control("POST", "/_sandbox/faults", R"({"managed_identity_error":{"endpoint":"vm"}})").status == 400);
}

TEST_CASE("the managed identities document is read strictly and DELETE restores the defaults") {
    SandboxFixture fixture;
    const value defaults = body_of(fixture.control("GET", "/_sandbox/managed-identities"));
    CHECK(defaults.at("system_assigned").at("client_id").as_string() == kSystemClientId);
    CHECK(defaults.at("user_assigned").at(0).at("resource_id").as_string() == kUserResourceId);
    CHECK(defaults.at("identity_header").as_string() == kIdentityHeader);
    for (const char* refused :
         {R"({"user_assigned":[{"client_id":"c"}]})", R"({"identity_header":""})",
          R"({"arc_key_directory":"relative/path"})", R"({"system_assigned":{"exchange_role":1}})", R"({"vm":true})"}) {
        INFO(refused);
        CHECK(fixture.control("POST", "/_sandbox/managed-identities", refused).status == 400);
    }
    configure(fixture, R"({"system_assigned":null,"user_assigned":[]})");
    CHECK(body_of(imds(fixture)).at("error_description").as_string() == "Identity not found");
    CHECK(fixture.control("DELETE", "/_sandbox/managed-identities").status == 200);
    CHECK(imds(fixture).status == 200);
}

}  // namespace sandbox::test
