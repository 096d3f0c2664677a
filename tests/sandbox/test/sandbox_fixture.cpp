#include "sandbox_fixture.h"

#include <cpprest/base_uri.h>

#include <catch2/catch.hpp>

#include "serve.h"

namespace sandbox::test {

using web::json::value;

value small_tenant_seed() { return read_json_file(std::string(SANDBOX_TEST_DATA) + "/small_tenant.json"); }

SandboxFixture::SandboxFixture(FixtureOptions options)
    : now_(std::make_shared<Instant>(std::chrono::system_clock::now())) {
    SandboxConfig config;
    config.tenant = kTenant;
    config.tenant_id = "72f988bf-0000-4000-8000-0000000000aa";
    config.app_id = kAppId;
    config.page_size_max = options.page_size_max;
    config.link_expiry = options.link_expiry;
    config.token_lifetime = options.token_lifetime;
    std::vector<RegisteredCertificate> certificates;
    certificates.push_back(
        register_certificate(CertificatePtr(X509_dup(app_credential().certificate.get())), "test app"));
    sandbox_ = std::make_unique<Sandbox>(std::move(config), Tenant::from_snapshot(small_tenant_seed(), kTenant),
                                         std::move(certificates), options.pss, [now = now_] { return *now; });
    sandbox_->set_port(kPort);
}

HttpResponse SandboxFixture::post_token(const std::map<std::string, std::string>& form, const std::string& tenant) {
    HttpRequest request;
    request.method = "POST";
    request.path = "/" + tenant + "/oauth2/v2.0/token";
    request.headers.set("Content-Type", "application/x-www-form-urlencoded");
    for (const auto& [name, content] : form) {
        request.body += (request.body.empty() ? "" : "&") + name + "=" + web::uri::encode_data_string(content);
    }
    return sandbox_->handle(request);
}

const std::string& SandboxFixture::token() {
    if (!token_) token_ = token_for(kOrigin + "/.default");
    return *token_;
}

std::string SandboxFixture::token_for(const std::string& scope) {
    const std::string assertion = sign_assertion(standard_header(app_credential(), Algorithm::ps256),
                                                 standard_claims(kAppId, kTokenUrl, now()), app_credential().key.get(),
                                                 Algorithm::ps256);
    const HttpResponse response =
        post_token({{"grant_type", "client_credentials"},
                    {"client_id", kAppId},
                    {"scope", scope},
                    {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
                    {"client_assertion", assertion}});
    INFO(response.body);
    REQUIRE(response.status == 200);
    return body_of(response).at("access_token").as_string();
}

HttpResponse SandboxFixture::post(const std::string& path, const std::string& body,
                                  const std::map<std::string, std::string>& headers,
                                  const std::vector<std::pair<std::string, std::string>>& query) {
    HttpRequest request;
    request.method = "POST";
    request.path = path;
    request.query = query;
    request.body = body;
    request.headers.set("Host", "127.0.0.1:" + std::to_string(kPort));
    request.headers.set("Authorization", "Bearer " + token());
    request.headers.set("Content-Type", "application/json");
    request.headers.set("X-AnchorMailbox",
                        std::string("APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@") + kTenant);
    request.headers.set("X-ResponseFormat", "json");
    for (const auto& [name, content] : headers) {
        if (content.empty()) {
            request.headers.remove(name);  // an empty value in a test means "leave the header out"
        } else {
            request.headers.set(name, content);
        }
    }
    return sandbox_->handle(request);
}

HttpResponse SandboxFixture::invoke(const std::string& cmdlet, const value& parameters,
                                    const std::map<std::string, std::string>& headers,
                                    const std::vector<std::pair<std::string, std::string>>& query) {
    value input = value::object(true);
    input["CmdletName"] = value::string(cmdlet);
    input["Parameters"] = parameters;
    value body = value::object(true);
    body["CmdletInput"] = input;
    std::map<std::string, std::string> all_headers{{"X-CmdletName", cmdlet}};
    for (const auto& [name, content] : headers) all_headers[name] = content;
    return post(std::string("/adminapi/beta/") + kTenant + "/InvokeCommand", body.serialize(), all_headers, query);
}

HttpResponse SandboxFixture::batch(const value& requests, bool continue_on_error) {
    value body = value::object(true);
    body["requests"] = requests;
    std::map<std::string, std::string> headers;
    if (continue_on_error) headers["Prefer"] = "odata.continue-on-error";
    return post(std::string("/adminapi/beta/") + kTenant + "/$batch", body.serialize(), headers);
}

HttpResponse SandboxFixture::control(const std::string& method, const std::string& path, const std::string& body) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    return sandbox_->handle(request);
}

HttpResponse SandboxFixture::send(const std::string& method, const std::string& path, const QueryParameters& query,
                                  const std::map<std::string, std::string>& headers, const std::string& body) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = query;
    request.body = body;
    request.headers.set("Host", "127.0.0.1:" + std::to_string(kPort));
    for (const auto& [name, content] : headers) request.headers.set(name, content);
    return sandbox_->handle(request);
}

void SandboxFixture::set_faults(const std::string& document) {
    const HttpResponse response = control("POST", "/_sandbox/faults", document);
    INFO(response.body);
    REQUIRE(response.status == 200);
}

std::vector<std::string> identities(const value& values) {
    std::vector<std::string> found;
    for (const value& object : values.as_array()) found.push_back(object.at("Identity").as_string());
    return found;
}

value params(const std::string& json_text) { return value::parse(json_text); }

value body_of(const HttpResponse& response) {
    const auto body = response.json_body();
    INFO(response.body);
    REQUIRE(body.has_value());
    return *body;
}

value values_of(const HttpResponse& response) {
    INFO(response.body);
    REQUIRE(response.status == 200);
    return body_of(response).at("value");
}

std::string detail_of(const HttpResponse& response) {
    const value body = body_of(response);
    INFO(response.body);
    REQUIRE(body.at("error").has_field("details"));
    return body.at("error").at("details").at(0).at("message").as_string();
}

}  // namespace sandbox::test
