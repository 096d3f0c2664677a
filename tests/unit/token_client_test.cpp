#include <catch2/catch.hpp>

#include <deque>

#include <cpprest/json.h>
#include <openssl/evp.h>

#include "connectors/token_client.h"
#include "test_certificates.h"

using namespace authgate;
using namespace authgate::testing;

namespace {

// Answers from a script and records what was asked.
class ScriptedTransport : public HttpTransport {
public:
    std::deque<HttpResponse> answers;
    std::vector<HttpRequest> requests;

    HttpResponse post(const HttpRequest& request) override {
        requests.push_back(request);
        REQUIRE_FALSE(answers.empty());
        HttpResponse answer = answers.front();
        answers.pop_front();
        return answer;
    }
};

HttpResponse token(const std::string& value, int lifetime = 3599) {
    return {200,
            {},
            R"({"token_type":"Bearer","expires_in":)" + std::to_string(lifetime) +
                R"(,"ext_expires_in":3599,"access_token":")" + value + "\"}"};
}

HttpResponse entra_error(long code, const std::string& text) {
    return {401,
            {},
            R"({"error":"invalid_client","error_description":"AADSTS)" + std::to_string(code) + ": " + text +
                R"(\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[)" + std::to_string(code) + "]}"};
}

std::string form_field(const std::string& body, const std::string& name) {
    const std::size_t start = body.find(name + "=");
    if (start == std::string::npos) return "";
    const std::size_t from = start + name.size() + 1;
    return body.substr(from, body.find('&', from) - from);
}

std::string assertion_alg(const HttpRequest& request) {
    std::string header = form_field(request.body, "client_assertion");
    header = header.substr(0, header.find('.'));
    for (char& c : header) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (header.size() % 4) header += '=';
    std::string json(header.size(), '\0');
    json.resize(static_cast<std::size_t>(EVP_DecodeBlock(reinterpret_cast<unsigned char*>(json.data()),
                                                         reinterpret_cast<const unsigned char*>(header.data()),
                                                         static_cast<int>(header.size()))));
    while (!json.empty() && json.back() == '\0') json.pop_back();
    return web::json::value::parse(json).at("alg").as_string();
}

struct Fixture {
    TestCertificate certificate = make_certificate();
    Credential credential = Credential::load(
        write_temp_file("app.pem", certificate.certificate_pem + certificate.key_pem), std::nullopt, now_utc());
    ScriptedTransport http;
    Instant now = *parse_instant("2026-11-22T10:00:00Z");
    TokenSettings settings{"https://login.microsoftonline.com", "https://outlook.office365.com/",
                           "contoso.onmicrosoft.com", "6f1c0e2a-0000-4000-8000-000000000001"};
    TokenClient client{http, credential, settings, [this] { return now; }};
};

}  // namespace

TEST_CASE("the token request is the form Entra expects", "[token]") {
    Fixture f;
    f.http.answers.push_back(token("t1"));
    CHECK(f.client.bearer() == "t1");
    REQUIRE(f.http.requests.size() == 1);
    const HttpRequest& request = f.http.requests[0];
    CHECK(request.url == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    CHECK(request.headers.at("Content-Type") == "application/x-www-form-urlencoded");
    CHECK(form_field(request.body, "grant_type") == "client_credentials");
    CHECK(form_field(request.body, "client_id") == "6f1c0e2a-0000-4000-8000-000000000001");
    CHECK(form_field(request.body, "scope") == "https%3A%2F%2Foutlook.office365.com%2F.default");
    CHECK(form_field(request.body, "client_assertion_type") ==
          "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer");
    CHECK(assertion_alg(request) == "PS256");
}

TEST_CASE("a token is reused until five minutes before it expires", "[token]") {
    Fixture f;
    f.http.answers = {token("t1", 3600), token("t2", 3600), token("t3", 3600)};
    CHECK(f.client.bearer() == "t1");
    f.now += std::chrono::minutes{54};
    CHECK(f.client.bearer() == "t1");
    f.now += std::chrono::minutes{2};  // 56 minutes: less than five left
    CHECK(f.client.bearer() == "t2");
    f.client.invalidate();  // Exchange said 401
    CHECK(f.client.bearer() == "t3");
    CHECK(f.client.requests_made() == 3);
}

TEST_CASE("PS256 refused as AADSTS700027 or 50012 falls back to RS256 once, and stays there", "[token]") {
    for (const long code : {700027L, 50012L}) {
        Fixture f;
        f.http.answers = {entra_error(code, "Client assertion contains an invalid signature."), token("t1", 60),
                          token("t2")};
        CHECK(f.client.bearer() == "t1");
        CHECK(f.client.bearer() == "t2");  // 60 s lifetime: refreshed at once
        REQUIRE(f.http.requests.size() == 3);
        CHECK(assertion_alg(f.http.requests[0]) == "PS256");
        CHECK(assertion_alg(f.http.requests[1]) == "RS256");
        CHECK(assertion_alg(f.http.requests[2]) == "RS256");
    }
}

TEST_CASE("Entra's refusals say what to check", "[token]") {
    Fixture f;
    SECTION("an unknown application") {
        f.http.answers = {entra_error(700016, "Application with identifier 'x' was not found in the directory 'y'.")};
        try {
            f.client.bearer();
            FAIL("no error");
        } catch (const AuthenticationError& error) {
            CHECK(error.code() == 700016);
            CHECK(
                std::string(error.what()) ==
                "token request to https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token failed: "
                "HTTP 401: AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.\n"
                "  what to check: application 6f1c0e2a-0000-4000-8000-000000000001 is not in tenant "
                "contoso.onmicrosoft.com: check the app id, and that an admin consented Exchange.ManageAsApp in this "
                "tenant");
        }
    }
    SECTION("a key not registered, after the RS256 retry too") {
        f.http.answers = {entra_error(700027, "Key was not found."), entra_error(700027, "Key was not found.")};
        CHECK_THROWS_WITH(f.client.bearer(), Catch::Contains("what to check: upload this certificate (thumbprint " +
                                                             f.credential.portal_thumbprint() + ")"));
        CHECK(f.http.requests.size() == 2);
    }
    SECTION("an answer that is not JSON") {
        f.http.answers = {{502, {}, "<html>bad gateway</html>"}};
        CHECK_THROWS_WITH(f.client.bearer(), Catch::EndsWith("failed: HTTP 502 with a body that is not JSON"));
    }
}

TEST_CASE("a token lifetime that is not a number of seconds is a ConnectorError that says so", "[token][errors]") {
    const std::string url = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
    const auto answer = [](const std::string& expires_in) {
        return HttpResponse{
            200, {}, R"({"token_type":"Bearer","expires_in":)" + expires_in + R"(,"access_token":"t1"})"};
    };
    const std::vector<std::pair<std::string, std::string>> rows{
        {R"("abc")", R"("abc")"},
        {R"("99999999999999999999")", R"("99999999999999999999")"},  // past a long: std::stol threw out_of_range
        {"99999999999999999999", "1e+20"},                           // past an int64: a double
        {R"("3599 ")", R"("3599 ")"},
        {R"("")", R"("")"},
        {"-1", "-1"},
        {"3599.5", "3599.5"},
        {"true", "true"},
        {R"("\u001b[31m")", R"("\u001B[31m")"},  // escaped, never written to a terminal as it is
    };
    for (const auto& [expires_in, shown] : rows) {
        INFO(expires_in);
        Fixture f;
        f.http.answers = {answer(expires_in)};
        CHECK_THROWS_MATCHES(
            f.client.bearer(), ConnectorError,
            Catch::Message("token request to " + url + " failed: the answer's expires_in is " + shown +
                           ", not a whole number of seconds from 0 to a year; check --login-endpoint"));
    }
}

TEST_CASE("a token lifetime is a number, or digits in a string, and 3599 when not given", "[token]") {
    for (const std::string expires_in : {R"(,"expires_in":"600")", R"(,"expires_in":600)"}) {
        Fixture f;
        f.http.answers = {{200, {}, R"({"access_token":"t1")" + expires_in + "}"}, token("t2")};
        CHECK(f.client.bearer() == "t1");
        f.now += std::chrono::seconds{299};
        CHECK(f.client.bearer() == "t1");
        f.now += std::chrono::seconds{2};  // less than five minutes left
        CHECK(f.client.bearer() == "t2");
    }
    for (const std::string expires_in : {"", R"(,"expires_in":null)"}) {
        Fixture f;
        f.http.answers = {{200, {}, R"({"access_token":"t1")" + expires_in + "}"}, token("t2")};
        CHECK(f.client.bearer() == "t1");
        f.now += std::chrono::seconds{3599 - 301};
        CHECK(f.client.bearer() == "t1");
        f.now += std::chrono::seconds{2};
        CHECK(f.client.bearer() == "t2");
    }
}

TEST_CASE("an AADSTS code that is not a whole number gives no advice, and no crash", "[token][errors]") {
    Fixture f;
    f.http.answers = {{400, {}, R"({"error":"invalid_request","error_codes":[1e300]})"}};
    try {
        f.client.bearer();
        FAIL("no error");
    } catch (const AuthenticationError& error) {
        CHECK(error.code() == 0);
        CHECK_THAT(error.what(), Catch::EndsWith("failed: HTTP 400: invalid_request"));
    }
}
