#include "connectors/workload_identity.h"

#include <cctype>
#include <filesystem>
#include <system_error>

#include <cpprest/json.h>

#include "policies/files.h"
#include "policies/printable.h"

namespace authgate {
namespace {

constexpr const char* github_url_variable = "ACTIONS_ID_TOKEN_REQUEST_URL";
constexpr const char* github_token_variable = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
constexpr const char* devops_uri_variable = "SYSTEM_OIDCREQUESTURI";
constexpr const char* devops_token_variable = "SYSTEM_ACCESSTOKEN";
constexpr const char* connection_variable = "AUTHGATE_SERVICE_CONNECTION_ID";
constexpr const char* devops_connection_variable = "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID";
constexpr const char* token_file_variable = "AZURE_FEDERATED_TOKEN_FILE";

constexpr const char* github_permission = "add `permissions: id-token: write` to the workflow's job";
constexpr const char* devops_token_mapping = "map it in the step: `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)`";

// The largest platform token file read: a JWT is a few kilobytes.
constexpr std::uintmax_t token_file_limit = 64 * 1024;

std::string with_query(const std::string& url, const std::string& query) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

std::string trimmed(const std::string& text) {
    std::size_t start = 0, end = text.size();
    while (start < end && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
    while (end > start && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
    return text.substr(start, end - start);
}

// A platform token fetched over HTTPS: retried after a failed connection, 429 and 5xx (4 attempts,
// 1, 2 and 4 s apart); the token is the string member `member` of a 200 JSON answer.
class HttpPlatformToken : public PlatformToken {
public:
    HttpPlatformToken(HttpTransport& http, Environment environment, RetrySleep sleep)
        : http_(http), environment_(std::move(environment)), sleep_(std::move(sleep)) {}

    std::string fetch(int& requests) override {
        const HttpRequest request = make_request();
        const std::string failed = "workload identity: the OIDC token of " + name() + " could not be had from " +
                                   host_part(request.url) + ": ";
        constexpr int attempts = 4;
        for (int attempt = 1;; ++attempt) {
            const auto wait = std::chrono::milliseconds{1000 << (attempt - 1)};
            HttpResponse response;
            ++requests;
            try {
                response = http_.post(request);
            } catch (const TransportError& error) {
                if (attempt < attempts) {
                    if (sleep_) sleep_(wait);
                    continue;
                }
                throw ConnectorError(failed + error.what());
            }
            if ((response.status == 429 || response.status >= 500) && attempt < attempts) {
                if (sleep_) sleep_(wait);
                continue;
            }
            return read_answer(response, failed);
        }
    }

protected:
    virtual HttpRequest make_request() const = 0;
    virtual const char* member() const = 0;
    // What to check for a refusal with `status`; empty for none.
    virtual std::string refusal_advice(int status) const = 0;

    std::string variable(const char* name) const { return environment_(name).value_or(""); }

private:
    std::string read_answer(const HttpResponse& response, const std::string& failed) const {
        if (const std::string redirect = response.redirect(); !redirect.empty())
            throw ConnectorError(failed + "the answer was " + redirect + ", which authgate never follows" +
                                 advice_line(response.status));
        web::json::value body;
        try {
            body = web::json::value::parse(response.body);
        } catch (const web::json::json_exception&) {
            const std::string type = response.header("content-type");
            throw ConnectorError(failed + "HTTP " + std::to_string(response.status) + " with a body that is not JSON" +
                                 (type.empty() ? "" : " (" + printable(type) + ")") + advice_line(response.status));
        }
        if (response.status == 200 && body.has_string_field(member()) && !body.at(member()).as_string().empty())
            return body.at(member()).as_string();
        if (response.status == 200)
            throw ConnectorError(failed + "HTTP 200 without a token in the answer's \"" + member() + "\" member");
        // The platform's own words, when it gives them; never the body as it is.
        std::string said;
        for (const char* field : {"message", "error_description", "error", "typeKey"})
            if (body.has_string_field(field)) {
                said = ": " + printable(body.at(field).as_string());
                if (said.size() > 200) said = said.substr(0, 200) + "…";
                break;
            }
        throw ConnectorError(failed + "HTTP " + std::to_string(response.status) + said + advice_line(response.status));
    }

    std::string advice_line(int status) const {
        const std::string advice = refusal_advice(status);
        return advice.empty() ? "" : "\n  what to check: " + advice;
    }

    HttpTransport& http_;
    Environment environment_;
    RetrySleep sleep_;
};

// GitHub Actions: GET {ACTIONS_ID_TOKEN_REQUEST_URL}&audience=… with the request token as bearer.
class GitHubActionsToken : public HttpPlatformToken {
public:
    using HttpPlatformToken::HttpPlatformToken;
    std::string name() const override { return "GitHub Actions"; }

protected:
    HttpRequest make_request() const override {
        HttpRequest request{
            with_query(variable(github_url_variable), "audience=" + percent_encode(federation_audience)),
            {{"Authorization", "Bearer " + variable(github_token_variable)}, {"Accept", "application/json"}},
            ""};
        request.method = "GET";
        return request;
    }
    const char* member() const override { return "value"; }
    std::string refusal_advice(int status) const override {
        if (status == 401 || status == 403)
            return std::string(github_permission) + "; " + github_token_variable +
                   " is good only within its own job, while it runs";
        return "";
    }
};

// Azure DevOps: POST {SYSTEM_OIDCREQUESTURI}?api-version=7.1&serviceConnectionId={id} with
// SYSTEM_ACCESSTOKEN as bearer.
class AzureDevOpsToken : public HttpPlatformToken {
public:
    AzureDevOpsToken(HttpTransport& http, Environment environment, RetrySleep sleep, std::string connection,
                     std::string connection_from)
        : HttpPlatformToken(http, std::move(environment), std::move(sleep)),
          connection_(std::move(connection)),
          connection_from_(std::move(connection_from)) {}
    std::string name() const override { return "Azure DevOps"; }

protected:
    HttpRequest make_request() const override {
        return {with_query(variable(devops_uri_variable),
                           "api-version=7.1&serviceConnectionId=" + percent_encode(connection_)),
                {{"Authorization", "Bearer " + variable(devops_token_variable)},
                 {"Content-Type", "application/json"},
                 {"X-TFS-FedAuthRedirect", "Suppress"}},
                ""};
    }
    const char* member() const override { return "oidcToken"; }
    std::string refusal_advice(int status) const override {
        if (status == 401 || status == 203 || (status >= 300 && status < 400))
            return std::string(devops_token_variable) + " was not accepted: " + devops_token_mapping;
        if (status == 403)
            return "this pipeline may not use service connection " + connection_ + " (" + connection_from_ +
                   "): authorise the pipeline under the service connection's security";
        if (status == 404 || status == 400)
            return "service connection " + connection_ + " (" + connection_from_ +
                   ") was not found in this project: its id is the resourceId in the URL of its page under "
                   "Project settings → Service connections, and it must use workload identity federation";
        return "";
    }

private:
    std::string connection_;
    std::string connection_from_;
};

// AZURE_FEDERATED_TOKEN_FILE: read at every fetch, as the kubelet rotates it.
class TokenFile : public PlatformToken {
public:
    explicit TokenFile(std::string path) : path_(std::move(path)) {}
    std::string name() const override { return "the token file " + path_ + " (" + token_file_variable + ")"; }

    std::string fetch(int&) override {
        const std::string failed = "workload identity: cannot read the token file " + path_ + " (" +
                                   token_file_variable + "): ";
        std::error_code error;
        const auto status = std::filesystem::status(path_, error);
        if (!error && std::filesystem::is_regular_file(status)) {
            const std::uintmax_t size = std::filesystem::file_size(path_, error);
            if (!error && size > token_file_limit)
                throw ConnectorError(failed + "it holds " + std::to_string(size) +
                                     " bytes, more than a platform token (at most " + std::to_string(token_file_limit) +
                                     ")");
        } else if (!error && std::filesystem::exists(status)) {
            throw ConnectorError(failed + "it is not a regular file");
        }
        std::string token;
        try {
            token = trimmed(read_file(path_));
        } catch (const FileError& file) {
            throw ConnectorError(failed + file.reason() +
                                 "\n  what to check: on Kubernetes the pod needs the label "
                                 "azure.workload.identity/use: \"true\" and a service account annotated with "
                                 "azure.workload.identity/client-id");
        }
        if (token.empty()) throw ConnectorError(failed + "it is empty");
        return token;
    }

private:
    std::string path_;
};

std::string claim_or_none(const std::string& claim) { return claim.empty() ? "(none)" : "'" + printable(claim) + "'"; }

}  // namespace

std::unique_ptr<PlatformToken> find_platform_token(HttpTransport& http, const Environment& environment,
                                                   RetrySleep sleep) {
    const auto has = [&](const char* name) { return environment(name).has_value(); };
    // 1. GitHub Actions
    if (has(github_url_variable) || has(github_token_variable)) {
        const char* missing = has(github_url_variable) ? github_token_variable : github_url_variable;
        if (!has(missing))
            throw ConnectorError(std::string("workload identity: GitHub Actions sets ") +
                                 (has(github_url_variable) ? github_url_variable : github_token_variable) +
                                 " but not " + missing + ": " + github_permission);
        return std::make_unique<GitHubActionsToken>(http, environment, std::move(sleep));
    }
    // 2. Azure DevOps
    if (has(devops_uri_variable)) {
        if (!has(devops_token_variable))
            throw ConnectorError(std::string("workload identity: Azure DevOps sets ") + devops_uri_variable + ", but " +
                                 devops_token_variable + " is not set: " + devops_token_mapping);
        std::string connection_from = connection_variable;
        std::optional<std::string> connection = environment(connection_variable);
        if (!connection) {
            connection = environment(devops_connection_variable);
            connection_from = devops_connection_variable;
        }
        if (!connection)
            throw ConnectorError(std::string("workload identity: Azure DevOps needs the id of the service "
                                             "connection whose federated credential to use: set ") +
                                 connection_variable +
                                 " (the resourceId in the URL of the service connection's page), or run in an "
                                 "AzureCLI@2 task, which sets " +
                                 devops_connection_variable);
        return std::make_unique<AzureDevOpsToken>(http, environment, std::move(sleep), *connection, connection_from);
    }
    // 3. A token file
    if (const auto file = environment(token_file_variable)) return std::make_unique<TokenFile>(*file);

    std::string message = "workload identity: this environment provides no platform token. Looked for, in order:";
    message += std::string("\n  1. GitHub Actions: ") + github_url_variable + " and " + github_token_variable +
               " are not set (" + github_permission + ")";
    message += std::string("\n  2. Azure DevOps: ") + devops_uri_variable +
               " is not set (a pipeline step using a service connection with workload identity federation; " +
               devops_token_variable + " mapped, and " + connection_variable + " or " + devops_connection_variable +
               ")";
    message += std::string("\n  3. a token file: ") + token_file_variable +
               " is not set (Azure Workload Identity on Kubernetes sets it in a pod labelled "
               "azure.workload.identity/use: \"true\")";
    if (environment("GITHUB_ACTIONS") == std::optional<std::string>("true"))
        message += std::string("\n  what to check: this is a GitHub Actions job without an OIDC token: ") +
                   github_permission;
    else if (has("TF_BUILD"))
        message += "\n  what to check: this is an Azure DevOps pipeline: run authgate in a step of a task that "
                   "uses the service connection (AzureCLI@2), with SYSTEM_ACCESSTOKEN mapped";
    throw ConnectorError(message);
}

FederatedAssertion::FederatedAssertion(HttpTransport& http, std::unique_ptr<PlatformToken> platform, RetrySleep sleep)
    : http_(http), platform_(std::move(platform)), sleep_(std::move(sleep)) {}

std::string FederatedAssertion::endpoint(const TokenSettings& settings) const { return entra_token_url(settings); }

std::string FederatedAssertion::description() const {
    return "workload identity (the OIDC token of " + platform_->name() + ")";
}

IssuedToken FederatedAssertion::issue(const TokenSettings& settings, Instant now, int& requests) {
    static constexpr std::chrono::seconds waits[] = {std::chrono::seconds{5}, std::chrono::seconds{10},
                                                     std::chrono::seconds{15}};
    const std::string platform = platform_->name();
    for (std::size_t retry = 0;; ++retry) {
        // A fresh platform token for every exchange: they are short-lived, and a file rotates.
        const std::string assertion = platform_->fetch(requests);
        const TokenClaims claims = read_claims(assertion);
        try {
            return post_client_assertion(
                http_, settings, assertion, now,
                [&](long code) { return federation_advice(code, settings, platform, claims); },
                " (workload identity, with the OIDC token of " + platform + ")", requests);
        } catch (const AuthenticationError& error) {
            if (error.code() != 70021 || retry >= std::size(waits)) throw;
            if (sleep_) sleep_(std::chrono::duration_cast<std::chrono::milliseconds>(waits[retry]));
        }
    }
}

std::string federation_advice(long code, const TokenSettings& settings, const std::string& platform,
                              const TokenClaims& claims) {
    const std::string app = "app registration " + settings.app_id;
    const std::string where = " (Certificates & secrets → Federated credentials)";
    switch (code) {
        case 70021:
            return "no federated credential of " + app + " matches the token of " + platform + ": issuer " +
                   claim_or_none(claims.issuer) + ", subject " + claim_or_none(claims.subject) + ", audience " +
                   claim_or_none(claims.audience) + ". Add one" + where +
                   " with exactly this issuer and subject and the audience " + federation_audience +
                   "; one added in the last few minutes may not have spread yet: retry then";
        case 700211:
            return "no federated credential of " + app + " has the issuer " + claim_or_none(claims.issuer) +
                   " of the token of " + platform + ": the credential's issuer must equal it exactly" + where;
        case 700212:
            return "no federated credential of " + app + " has the audience " + claim_or_none(claims.audience) +
                   " of the token of " + platform + ": the token must be asked for with the audience " +
                   federation_audience +
                   " (on Kubernetes: the workload identity webhook's projected token, not the service account's "
                   "default one), and the credential must name that audience";
        case 700213: {
            std::string advice = "no federated credential of " + app + " has the subject " +
                                 claim_or_none(claims.subject) + " of the token of " + platform +
                                 " (compared case-sensitively): add one with exactly this subject" + where;
            if (claims.issuer.rfind("https://token.actions.githubusercontent.com", 0) == 0)
                advice += "; a repository with immutable subjects sends repo:owner@id/repo@id:…, which a "
                          "credential registered with the names does not match";
            return advice;
        }
        case 7002138:
            return "the subject " + claim_or_none(claims.subject) + " of the token of " + platform +
                   " differs from a federated credential's of " + app +
                   " only in letter case: subjects are compared case-sensitively; register it exactly" + where;
        case 7000272:
            return "Entra did not find the key that signed the token of " + platform +
                   " in the metadata of its issuer " + claim_or_none(claims.issuer) +
                   " (its .well-known/openid-configuration and the keys it names): the federated credential's issuer "
                   "must be the platform's, publicly reachable";
        case 50013:
            return "the signature of the token of " + platform + " did not verify with the keys its issuer " +
                   claim_or_none(claims.issuer) + " publishes";
        case 700024:
            return "the token of " + platform + " was refused as expired or not yet valid" +
                   (claims.expires ? " (it expires " + format_instant(*claims.expires) + ")" : std::string()) +
                   ": authgate fetches a new one for every sign-in, so check this machine's clock (NTP)" +
                   (platform.find(token_file_variable) != std::string::npos
                        ? std::string(", and that the file is being rotated")
                        : std::string());
        case 700222:
            return "an Entra-issued token (issuer " + claim_or_none(claims.issuer) + ") was sent where " + platform +
                   "'s own OIDC token belongs";
        case 50027: return "the token of " + platform + " is not a valid JWT";
        case 70011:
        case 700016:
        case 90002: return aadsts_advice(code, settings, nullptr);
        default: return "";
    }
}

}  // namespace authgate
