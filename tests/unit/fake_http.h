#pragma once
// Fakes behind HttpTransport: a script of answers, and a token endpoint that always agrees (and
// an app signed in through it).
#include <catch2/catch.hpp>

#include <deque>
#include <functional>

#include "connectors/credentials.h"
#include "connectors/http.h"
#include "connectors/token_client.h"
#include "test_certificates.h"

namespace authgate::testing {

class ScriptedTransport : public HttpTransport {
public:
    std::deque<std::function<HttpResponse(const HttpRequest&)>> script;
    std::vector<HttpRequest> requests;

    void answer(HttpResponse response) {
        script.push_back([response](const HttpRequest&) { return response; });
    }
    void fail(const std::string& message, bool before_sending) {
        script.push_back([=](const HttpRequest&) -> HttpResponse { throw TransportError(message, before_sending); });
    }

    HttpResponse post(const HttpRequest& request) override {
        requests.push_back(request);
        if (script.empty()) FAIL("unexpected request to " << request.url);
        auto next = script.front();
        script.pop_front();
        return next(request);
    }
};

class TokenEndpoint : public HttpTransport {
public:
    int issued = 0;
    HttpResponse post(const HttpRequest&) override {
        ++issued;
        return {200,
                {},
                R"({"token_type":"Bearer","expires_in":3599,"access_token":"token-)" + std::to_string(issued) + "\"}"};
    }
};

// An app registration signed in through TokenEndpoint: what a client under test needs for its bearer.
struct FakeSignIn {
    TestCertificate certificate = make_certificate();
    Credential credential = Credential::load(
        write_temp_file("app.pem", certificate.certificate_pem + certificate.key_pem), std::nullopt, now_utc());
    TokenEndpoint login;
    TokenClient tokens{login,
                       credential,
                       {"https://login.microsoftonline.com", "https://outlook.office365.com", "contoso.onmicrosoft.com",
                        "6f1c0e2a-0000-4000-8000-000000000001"}};
};

}  // namespace authgate::testing
