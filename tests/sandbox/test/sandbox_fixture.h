// A sandbox tenant in process, seeded with test/data/small_tenant.json and driven through its
// HTTP-shaped handlers, with a clock the test moves.
#pragma once

#include <cpprest/json.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "assertion_builder.h"
#include "sandbox.h"

namespace sandbox::test {

inline constexpr const char* kTenant = "contoso.onmicrosoft.com";
inline constexpr const char* kAppId = "6a1b2c3d-0000-4000-8000-00000000a99e";
inline constexpr int kPort = 8443;
inline const std::string kOrigin = "https://127.0.0.1:8443";
inline const std::string kTokenUrl = kOrigin + "/" + kTenant + "/oauth2/v2.0/token";
inline const std::string kInvokeUrl = kOrigin + "/adminapi/beta/" + kTenant + "/InvokeCommand";

web::json::value small_tenant_seed();

struct FixtureOptions {
    PssPolicy pss = PssPolicy::accept;
    size_t page_size_max = 1000;
    std::chrono::seconds link_expiry{1800};
    std::chrono::seconds token_lifetime{3599};
};

class SandboxFixture {
public:
    explicit SandboxFixture(FixtureOptions options = {});

    Instant now() const { return *now_; }
    void advance(std::chrono::seconds by) { *now_ += by; }

    Sandbox& sandbox() { return *sandbox_; }

    // The token endpoint with these form fields.
    HttpResponse post_token(const std::map<std::string, std::string>& form, const std::string& tenant = kTenant);
    // A token for the admin API, obtained the way a client does.
    const std::string& token();
    // A new token for `scope` ("https://graph.microsoft.com/.default", the origin's), obtained the same way.
    std::string token_for(const std::string& scope);

    // POST InvokeCommand with the headers a good client sends; `headers` adds or replaces them
    // (an empty value leaves the header out).
    HttpResponse invoke(const std::string& cmdlet, const web::json::value& parameters,
                        const std::map<std::string, std::string>& headers = {},
                        const std::vector<std::pair<std::string, std::string>>& query = {});
    HttpResponse post(const std::string& path, const std::string& body,
                      const std::map<std::string, std::string>& headers,
                      const std::vector<std::pair<std::string, std::string>>& query = {});
    HttpResponse batch(const web::json::value& requests, bool continue_on_error = true);
    HttpResponse control(const std::string& method, const std::string& path, const std::string& body = "");
    // Any request, with only the headers given (and Host: 127.0.0.1:8443).
    HttpResponse send(const std::string& method, const std::string& path, const QueryParameters& query = {},
                      const std::map<std::string, std::string>& headers = {}, const std::string& body = "");
    void set_faults(const std::string& document);

    web::json::value state() { return sandbox_->state_document(); }

private:
    std::shared_ptr<Instant> now_;
    std::unique_ptr<Sandbox> sandbox_;
    std::optional<std::string> token_;
};

// Parameters as JSON from text, for readable tests: params(R"({"Identity":"ceo"})").
web::json::value params(const std::string& json_text);
web::json::value body_of(const HttpResponse& response);
// The value array of an InvokeCommand answer.
web::json::value values_of(const HttpResponse& response);
// details[0].message of an error envelope.
std::string detail_of(const HttpResponse& response);
// The Identity of each object of a value array.
std::vector<std::string> identities(const web::json::value& values);

}  // namespace sandbox::test
