#pragma once
// Fakes behind HttpTransport: a script of answers, and a token endpoint that always agrees.
#include <catch2/catch.hpp>

#include <deque>
#include <functional>

#include "connectors/http.h"

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
        return {200, {}, R"({"token_type":"Bearer","expires_in":3599,"access_token":"token-)" + std::to_string(issued) + "\"}"};
    }
};

}  // namespace authgate::testing
