// The token endpoint as a client meets it: form fields, Entra's error bodies, and tokens that
// open the admin API until they expire.
#include <cpprest/base_uri.h>

#include <catch2/catch.hpp>

#include "sandbox_fixture.h"

namespace sandbox::test {
namespace {

using web::json::value;

std::map<std::string, std::string> good_form(SandboxFixture& fixture, Algorithm algorithm = Algorithm::ps256) {
    return {{"grant_type", "client_credentials"},
            {"client_id", kAppId},
            {"scope", kOrigin + "/.default"},
            {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
            {"client_assertion",
             sign_assertion(standard_header(app_credential(), algorithm),
                            standard_claims(kAppId, kTokenUrl, fixture.now()), app_credential().key.get(), algorithm)}};
}

int code_of(const HttpResponse& response) { return body_of(response).at("error_codes").at(0).as_integer(); }

}  // namespace

TEST_CASE("a good request earns an opaque Bearer token") {
    SandboxFixture fixture;
    const HttpResponse response = fixture.post_token(good_form(fixture));
    REQUIRE(response.status == 200);
    const value body = body_of(response);
    CHECK(body.at("token_type").as_string() == "Bearer");
    CHECK(body.at("expires_in").as_integer() == 3599);
    CHECK(body.at("ext_expires_in").as_integer() == 3599);
    CHECK(body.at("access_token").as_string().size() >= 40);
    CHECK(body.size() == 4);
}

TEST_CASE("each parameter of the request is checked with Entra's code and status") {
    struct Case {
        const char* behaviour;
        std::function<void(std::map<std::string, std::string>&)> change;
        int status;
        const char* error;
        int code;
    };
    const std::vector<Case> cases = {
        {"a missing grant_type", [](auto& form) { form.erase("grant_type"); }, 400, "invalid_request", 900144},
        {"another grant type", [](auto& form) { form["grant_type"] = "password"; }, 400, "unsupported_grant_type",
         70003},
        {"an unknown application", [](auto& form) { form["client_id"] = "00000000-0000-0000-0000-000000000000"; }, 400,
         "unauthorized_client", 700016},
        {"a missing scope", [](auto& form) { form.erase("scope"); }, 400, "invalid_request", 900144},
        {"Exchange Online's real scope", [](auto& form) { form["scope"] = "https://outlook.office365.com/.default"; },
         400, "invalid_scope", 70011},
        {"a scope on another port", [](auto& form) { form["scope"] = "https://127.0.0.1:1/.default"; }, 400,
         "invalid_scope", 70011},
        {"no client assertion", [](auto& form) { form.erase("client_assertion"); }, 401, "invalid_client", 7000216},
        {"a wrong client_assertion_type", [](auto& form) { form["client_assertion_type"] = "jwt"; }, 401,
         "invalid_client", 7000216},
        {"a client secret", [](auto& form) { form["client_secret"] = "hunter2"; }, 401, "invalid_client", 7000215},
    };
    for (const auto& c : cases) {
        SECTION(c.behaviour) {
            SandboxFixture fixture;
            auto form = good_form(fixture);
            c.change(form);
            const HttpResponse response = fixture.post_token(form);
            CHECK(response.status == c.status);
            CHECK(body_of(response).at("error").as_string() == c.error);
            CHECK(code_of(response) == c.code);
        }
    }
}

TEST_CASE("the localhost spelling of the scope is accepted") {
    SandboxFixture fixture;
    auto form = good_form(fixture);
    form["scope"] = "https://localhost:8443/.default";
    CHECK(fixture.post_token(form).status == 200);
}

TEST_CASE("the tenant GUID is accepted in the path, and an unknown tenant is AADSTS90002") {
    SandboxFixture fixture;
    auto form = good_form(fixture);
    const std::string guid = "72f988bf-0000-4000-8000-0000000000aa";
    form["client_assertion"] =
        sign_assertion(standard_header(app_credential(), Algorithm::ps256),
                       standard_claims(kAppId, kOrigin + "/" + guid + "/oauth2/v2.0/token", fixture.now()),
                       app_credential().key.get(), Algorithm::ps256);
    CHECK(fixture.post_token(form, guid).status == 200);
    const HttpResponse unknown = fixture.post_token(good_form(fixture), "fabrikam.onmicrosoft.com");
    CHECK(unknown.status == 400);
    CHECK(code_of(unknown) == 90002);
}

TEST_CASE("the audience must name the tenant as the client posted it") {
    SandboxFixture fixture;
    // Signed for the domain, posted to the GUID: Entra compares with the URL that was called.
    const HttpResponse response = fixture.post_token(good_form(fixture), "72f988bf-0000-4000-8000-0000000000aa");
    CHECK(response.status == 401);
    CHECK(code_of(response) == 700023);
}

TEST_CASE("an Entra error body has the fields and trailer Entra sends") {
    SandboxFixture fixture;
    auto form = good_form(fixture);
    form["client_id"] = "00000000-0000-0000-0000-000000000000";
    const HttpResponse response = [&] {
        HttpRequest posted;
        posted.method = "POST";
        posted.path = std::string("/") + kTenant + "/oauth2/v2.0/token";
        posted.headers.set("Content-Type", "application/x-www-form-urlencoded");
        posted.headers.set("client-request-id", "0d6f2a8e-1111-4222-8333-444455556666");
        for (const auto& [name, content] : form)
            posted.body += (posted.body.empty() ? "" : "&") + name + "=" + web::uri::encode_data_string(content);
        return fixture.sandbox().handle(posted);
    }();
    const value body = body_of(response);
    std::vector<std::string> names;
    for (const auto& [name, ignored] : body.as_object()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"error", "error_description", "error_codes", "timestamp", "trace_id",
                                            "correlation_id", "error_uri"});
    const std::string description = body.at("error_description").as_string();
    CHECK(description.starts_with(
        "AADSTS700016: Application with identifier '00000000-0000-0000-0000-000000000000' was not found"));
    CHECK_THAT(description, Catch::Contains("\r\nTrace ID: " + body.at("trace_id").as_string() +
                                            "\r\nCorrelation ID: 0d6f2a8e-1111-4222-8333-444455556666\r\nTimestamp: "));
    CHECK(body.at("correlation_id").as_string() == "0d6f2a8e-1111-4222-8333-444455556666");
    CHECK(body.at("error_uri").as_string() == "https://login.microsoftonline.com/error?code=700016");
}

TEST_CASE("a GET of the token endpoint is AADSTS900561") {
    SandboxFixture fixture;
    HttpRequest request;
    request.method = "GET";
    request.path = std::string("/") + kTenant + "/oauth2/v2.0/token";
    const HttpResponse response = fixture.sandbox().handle(request);
    CHECK(response.status == 400);
    CHECK(code_of(response) == 900561);
}

TEST_CASE("a token opens the admin API until it expires, then the API answers 401 with WWW-Authenticate") {
    SandboxFixture fixture({.token_lifetime = std::chrono::seconds(60)});
    CHECK(fixture.invoke("Get-TransportConfig", value::object()).status == 200);
    fixture.advance(std::chrono::seconds(61));
    const HttpResponse expired = fixture.invoke("Get-TransportConfig", value::object());
    CHECK(expired.status == 401);
    CHECK(expired.headers.get("WWW-Authenticate")
              .value_or("")
              .starts_with("Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\""));
    CHECK_THAT(expired.headers.get("x-ms-diagnostics").value_or(""), Catch::Contains("The token has expired."));
}

TEST_CASE("a token the sandbox did not issue is refused with 401") {
    SandboxFixture fixture;
    const HttpResponse response = fixture.invoke("Get-TransportConfig", value::object(),
                                                 {{"Authorization", "Bearer made-up"}});
    CHECK(response.status == 401);
    CHECK(response.headers.get("WWW-Authenticate").has_value());
}

TEST_CASE("the token_error fault answers its code, then the endpoint works again") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"token_error": {"count": 1, "code": 700027}})");
    const HttpResponse refused = fixture.post_token(good_form(fixture));
    CHECK(refused.status == 401);
    CHECK(code_of(refused) == 700027);
    CHECK(fixture.post_token(good_form(fixture)).status == 200);
    CHECK(fixture.state().at("faults").at("fired").at("token_error").as_integer() == 1);
    CHECK(fixture.state().at("requests").at("token").as_integer() == 2);
}

}  // namespace sandbox::test
