#pragma once
// Fakes behind HttpTransport: a script of answers, and a token endpoint that always agrees (and
// an app signed in through it).
#include <catch2/catch.hpp>

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "connectors/credentials.h"
#include "connectors/http.h"
#include "connectors/token_client.h"
#include "test_certificates.h"

namespace authgate::testing {

// Answers in the order they are scripted; answers scripted for a cmdlet go to the requests that
// name it (X-CmdletName), in their order, whatever else is asked for beside them (reads that run
// side by side). Safe to call from several threads.
class ScriptedTransport : public HttpTransport {
public:
    using Answer = std::function<HttpResponse(const HttpRequest&)>;
    std::deque<Answer> script;
    std::map<std::string, std::deque<Answer>> script_for;  // by cmdlet
    std::vector<HttpRequest> requests;

    void answer(HttpResponse response) {
        script.push_back([response](const HttpRequest&) { return response; });
    }
    void answer_for(const std::string& cmdlet, HttpResponse response) {
        script_for[cmdlet].push_back([response](const HttpRequest&) { return response; });
    }
    void fail(const std::string& message, bool before_sending) {
        script.push_back([=](const HttpRequest&) -> HttpResponse { throw TransportError(message, before_sending); });
    }

    HttpResponse post(const HttpRequest& request) override {
        Answer next;
        {
            std::lock_guard lock(mutex_);
            requests.push_back(request);
            const auto cmdlet = request.headers.find("X-CmdletName");
            auto* queue = &script;
            if (cmdlet != request.headers.end())
                if (const auto own = script_for.find(cmdlet->second); own != script_for.end() && !own->second.empty())
                    queue = &own->second;
            // Not scripted: the request fails (a read beside the one a test is about may ask it).
            if (queue->empty()) throw TransportError("unexpected request to " + request.url, true);
            next = queue->front();
            queue->pop_front();
        }
        return next(request);
    }

private:
    std::mutex mutex_;
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
