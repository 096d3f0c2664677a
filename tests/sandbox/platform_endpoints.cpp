#include "platform_endpoints.h"

#include <cstdlib>
#include <set>

#include "files.h"
#include "jwt.h"
#include "sandbox_state.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr std::chrono::seconds kPlatformTokenLifetime{300};     // GitHub and Azure DevOps: 5 minutes
constexpr std::chrono::seconds kPlatformNotBeforeLead{600};     // their nbf is 10 minutes before iat
constexpr std::chrono::seconds kKubernetesTokenLifetime{3600};  // a projected service-account token

// A token to mint: the claims are made from these, then `extra` is laid over them.
struct TokenOrder {
    IssuerName issuer = IssuerName::kubernetes;
    std::string subject;
    value audience;  // a string, or a list of strings
    Instant issued{};
    std::chrono::seconds lifetime{kPlatformTokenLifetime};
    value extra = value::object();
    TokenSigning signing = TokenSigning::issuer_key;
    std::optional<GithubJob> github_job;  // the job a GitHub token is for, when not the configured one
};

value text(const std::string& content) { return value::string(content); }

std::string repository_owner(const GithubJob& job) { return job.repository.substr(0, job.repository.find('/')); }

// The claims GitHub Actions puts in a job's token, in its order.
value github_claims(const SandboxState& state, const GithubJob& job, const TokenOrder& order) {
    const bool pull_request = job.event_name == "pull_request" || job.event_name == "pull_request_target";
    const bool tag = job.ref.starts_with("refs/tags/");
    value claims = value::object(true);
    claims["jti"] = text(random_guid());
    claims["sub"] = text(order.subject);
    if (job.environment) claims["environment"] = text(*job.environment);
    claims["aud"] = order.audience;
    claims["ref"] = text(job.ref);
    claims["sha"] = text(to_lower(hex_upper(sha1(job.repository + job.ref))));
    claims["repository"] = text(job.repository);
    claims["repository_owner"] = text(repository_owner(job));
    claims["repository_owner_id"] = text(job.repository_owner_id);
    claims["run_id"] = text("9000000001");
    claims["run_number"] = text("42");
    claims["run_attempt"] = text("1");
    claims["repository_visibility"] = text("private");
    claims["repository_id"] = text(job.repository_id);
    claims["actor_id"] = text("1000001");
    claims["actor"] = text("authgate-bot");
    claims["workflow"] = text("policies");
    claims["head_ref"] = text(pull_request ? "policy-change" : "");
    claims["base_ref"] = text(pull_request ? "main" : "");
    claims["event_name"] = text(job.event_name);
    claims["ref_protected"] = text(pull_request ? "false" : "true");
    claims["ref_type"] = text(tag ? "tag" : "branch");
    const std::string workflow_ref = job.repository + "/.github/workflows/policies.yml@" + job.ref;
    claims["workflow_ref"] = text(workflow_ref);
    claims["workflow_sha"] = claims["sha"];
    claims["job_workflow_ref"] = text(workflow_ref);
    claims["job_workflow_sha"] = claims["sha"];
    claims["runner_environment"] = text("github-hosted");
    claims["iss"] = text(issuer_url(state, IssuerName::github));
    return claims;
}

value azure_devops_claims(const SandboxState& state, const AzureDevOpsPipeline& pipeline, const TokenOrder& order,
                          const ServiceConnection* connection) {
    value claims = value::object(true);
    claims["jti"] = text(random_guid());
    claims["sub"] = text(order.subject);
    claims["aud"] = order.audience;
    claims["org_id"] = text(pipeline.organization_id);
    claims["prj_id"] = text(pipeline.project_id);
    if (connection) claims["sc_id"] = text(connection->id);
    claims["def_id"] = text("1");
    claims["run_id"] = text("4711");
    claims["iss"] = text(issuer_url(state, IssuerName::azure_devops));
    return claims;
}

value kubernetes_claims(const SandboxState& state, const KubernetesWorkload& workload, const TokenOrder& order) {
    value service_account = value::object(true);
    service_account["name"] = text(workload.service_account);
    service_account["uid"] = text(to_lower(hex_upper(sha1(workload.service_account))).substr(0, 32));
    value pod = value::object(true);
    pod["name"] = text("authgate-7d9c5b6f4-x2k8q");
    pod["uid"] = text(random_guid());
    value kubernetes = value::object(true);
    kubernetes["namespace"] = text(workload.namespace_name);
    kubernetes["pod"] = pod;
    kubernetes["serviceaccount"] = service_account;
    value claims = value::object(true);
    claims["aud"] = order.audience;
    claims["iss"] = text(issuer_url(state, IssuerName::kubernetes));
    claims["jti"] = text(random_guid());
    claims["kubernetes.io"] = kubernetes;
    claims["sub"] = text(order.subject);
    return claims;
}

// Mints the token and records it (its claims that matter, never the token) in the state.
std::pair<std::string, value> mint(SandboxState& state, const TokenOrder& order, const char* via,
                                   const ServiceConnection* connection = nullptr) {
    value claims;
    switch (order.issuer) {
        case IssuerName::github:
            claims = github_claims(state, order.github_job.value_or(state.platforms.github), order);
            break;
        case IssuerName::azure_devops:
            claims = azure_devops_claims(state, state.platforms.azure_devops, order, connection);
            break;
        case IssuerName::kubernetes: claims = kubernetes_claims(state, state.platforms.kubernetes, order); break;
    }
    const bool kubernetes = order.issuer == IssuerName::kubernetes;
    claims["nbf"] =
        value::number(unix_seconds(order.issued - (kubernetes ? std::chrono::seconds(0) : kPlatformNotBeforeLead)));
    claims["exp"] = value::number(unix_seconds(order.issued + order.lifetime));
    claims["iat"] = value::number(unix_seconds(order.issued));
    for (const auto& [name, content] : order.extra.as_object()) claims[name] = content;
    std::string token = mint_platform_token(order.issuer, claims, order.signing);
    value record = value::object(true);
    record["via"] = text(via);
    for (const char* name : {"iss", "sub", "aud", "jti", "exp"}) {
        if (claims.has_field(name)) record[name] = claims.at(name);
    }
    state.platform_tokens.push_back(record);
    return {std::move(token), std::move(claims)};
}

// Azure DevOps' error body (GitHub's token service, built on it, answers the same).
HttpResponse vss_error(int status, const std::string& message, const std::string& type_key) {
    value body = value::object(true);
    body["$id"] = text("1");
    body["innerException"] = value::null();
    body["message"] = text(message);
    body["typeName"] =
        text("Microsoft.VisualStudio.Services.Common." + type_key + ", Microsoft.VisualStudio.Services.Common");
    body["typeKey"] = text(type_key);
    body["errorCode"] = value::number(0);
    body["eventId"] = value::number(3000);
    return HttpResponse::json(status, body);
}

HttpResponse not_authorized(const std::string& bearer_of) {
    HttpResponse response =
        vss_error(401, "TF400813: The user '' is not authorized to access this resource. (" + bearer_of + " expected)",
                  "UnauthorizedRequestException");
    response.headers.set("WWW-Authenticate", "Bearer");
    return response;
}

HttpResponse method_not_allowed(const std::string& method) {
    value body = value::object(true);
    body["message"] = text("The requested resource does not support http method '" + method + "'.");
    return HttpResponse::json(405, body);
}

// The platform_error fault's answer.
HttpResponse platform_failure(int status) {
    return vss_error(status, "The service is unavailable (the sandbox's platform_error fault).",
                     status >= 500 ? "ServiceUnavailableException" : "VssServiceException");
}

bool bearer_is(const HttpRequest& request, const std::string& expected) {
    const auto authorization = request.headers.get("Authorization");
    return authorization && istarts_with(*authorization, "Bearer ") &&
           trim(std::string_view(*authorization).substr(7)) == expected;
}

// What a platform_* fault makes of the token about to be minted.
void apply_platform_faults(SandboxState& state, Platform platform, TokenOrder& order) {
    if (state.faults.take_platform_token_expired(platform)) {
        order.issued = state.clock() - order.lifetime - std::chrono::seconds(60);
    }
    if (const auto wrong = state.faults.take_platform_wrong_audience(platform)) {
        order.audience = text(wrong->audience.value_or(
            platform == Platform::github ? "https://github.com/" + repository_owner(state.platforms.github)
                                         : std::string("api://AzureADTokenExchangeChina")));
    }
}

[[noreturn]] void refuse_member(const std::string& member, const std::string& expectation) {
    throw std::invalid_argument(member + ": " + expectation);
}

void allow_only(const value& object, const std::string& where, const std::set<std::string>& allowed) {
    if (!object.is_object()) refuse_member(where, "must be an object");
    for (const auto& [name, ignored] : object.as_object()) {
        if (!allowed.contains(name)) refuse_member(where, "has no member '" + name + "'");
    }
}

void read_text(const value& object, const std::string& where, const char* name, std::string& target) {
    if (!object.has_field(name)) return;
    if (!object.at(name).is_string() || object.at(name).as_string().empty())
        refuse_member(where + "." + name, "must be a non-empty string");
    target = object.at(name).as_string();
}

HttpResponse control_problem(int status, const std::string& message) {
    value body = value::object(true);
    body["error"] = text(message);
    return HttpResponse::json(status, body);
}

// The document of POST /_sandbox/oidc/token as an order; throws std::invalid_argument.
TokenOrder read_token_order(const SandboxState& state, const value& document) {
    allow_only(document, "the token request",
               {"issuer", "subject", "audience", "lifetime", "issued", "claims", "signing", "file"});
    TokenOrder order;
    order.issued = state.clock();
    if (document.has_field("issuer")) {
        const value& issuer = document.at("issuer");
        const auto named = issuer.is_string() ? issuer_by_name(issuer.as_string()) : std::nullopt;
        if (!named) refuse_member("issuer", "must be \"github\", \"azure-devops\" or \"kubernetes\"");
        order.issuer = *named;
    }
    const PlatformSettings& platforms = state.platforms;
    switch (order.issuer) {
        case IssuerName::github:
            order.subject = github_subject(platforms.github);
            order.audience = text(kTokenExchangeAudience);
            break;
        case IssuerName::azure_devops:
            order.subject = platforms.azure_devops.service_connections.empty()
                                ? "p://" + platforms.azure_devops.organization + "/" + platforms.azure_devops.project +
                                      "/" + platforms.azure_devops.pipeline
                                : azure_devops_subject(platforms.azure_devops,
                                                       platforms.azure_devops.service_connections.front());
            order.audience = text(kTokenExchangeAudience);
            break;
        case IssuerName::kubernetes:
            order.subject = kubernetes_subject(platforms.kubernetes);
            order.audience = value::array({text(kTokenExchangeAudience)});
            order.lifetime = kKubernetesTokenLifetime;
            break;
    }
    read_text(document, "the token request", "subject", order.subject);
    if (document.has_field("audience")) {
        const value& audience = document.at("audience");
        bool good = audience.is_string() || (audience.is_array() && audience.size() > 0);
        if (audience.is_array()) {
            for (const value& item : audience.as_array()) good = good && item.is_string();
        }
        if (!good) refuse_member("audience", "must be a string or a non-empty list of strings");
        order.audience = audience;
    }
    for (const char* name : {"lifetime", "issued"}) {
        if (!document.has_field(name)) continue;
        const value& number = document.at(name);
        if (!number.is_integer() || std::abs(number.as_integer()) > 10 * 86400 ||
            (std::string(name) == "lifetime" && number.as_integer() < 1)) {
            refuse_member(name, std::string("must be a whole number of seconds") +
                                    (std::string(name) == "lifetime" ? " from 1" : "") + " (at most ten days)");
        }
        if (std::string(name) == "lifetime") {
            order.lifetime = std::chrono::seconds(number.as_integer());
        } else {
            order.issued += std::chrono::seconds(number.as_integer());
        }
    }
    if (document.has_field("claims")) {
        if (!document.at("claims").is_object()) refuse_member("claims", "must be an object of claims");
        order.extra = document.at("claims");
    }
    if (document.has_field("signing")) {
        const value& signing = document.at("signing");
        const std::string chosen = signing.is_string() ? signing.as_string() : "";
        if (chosen == "issuer") order.signing = TokenSigning::issuer_key;
        else if (chosen == "unknown_key") order.signing = TokenSigning::unknown_key;
        else if (chosen == "bad_signature") order.signing = TokenSigning::bad_signature;
        else refuse_member("signing", "must be \"issuer\", \"unknown_key\" or \"bad_signature\"");
    }
    return order;
}

value connections_json(const std::vector<ServiceConnection>& connections) {
    std::vector<value> list;
    for (const auto& connection : connections) {
        value item = value::object(true);
        item["id"] = text(connection.id);
        item["name"] = text(connection.name);
        list.push_back(item);
    }
    return value::array(list);
}

}  // namespace

std::string github_subject(const GithubJob& job) {
    const std::string prefix = "repo:" + job.repository + ":";
    if (job.environment) return prefix + "environment:" + *job.environment;
    if (job.event_name == "pull_request" || job.event_name == "pull_request_target") return prefix + "pull_request";
    return prefix + "ref:" + job.ref;
}

std::string azure_devops_subject(const AzureDevOpsPipeline& pipeline, const ServiceConnection& connection) {
    return "sc://" + pipeline.organization + "/" + pipeline.project + "/" + connection.name;
}

std::string kubernetes_subject(const KubernetesWorkload& workload) {
    return "system:serviceaccount:" + workload.namespace_name + ":" + workload.service_account;
}

PlatformSettings PlatformSettings::parse(const value& document) {
    PlatformSettings settings;
    allow_only(document, "the platforms document", {"github", "azure-devops", "kubernetes"});
    if (document.has_field("github")) {
        const value& github = document.at("github");
        allow_only(github, "github",
                   {"request_token", "repository", "repository_id", "repository_owner_id", "environment", "event_name",
                    "ref"});
        GithubJob& job = settings.github;
        for (const auto& [name, target] :
             {std::pair{"request_token", &job.request_token}, std::pair{"repository", &job.repository},
              std::pair{"repository_id", &job.repository_id},
              std::pair{"repository_owner_id", &job.repository_owner_id}, std::pair{"event_name", &job.event_name},
              std::pair{"ref", &job.ref}}) {
            read_text(github, "github", name, *target);
        }
        if (job.repository.find('/') == std::string::npos || job.repository.front() == '/' ||
            job.repository.back() == '/')
            refuse_member("github.repository", "must be owner/name");
        if (github.has_field("environment")) {
            const value& environment = github.at("environment");
            if (environment.is_null()) {
                job.environment.reset();
            } else if (environment.is_string() && !environment.as_string().empty()) {
                job.environment = environment.as_string();
            } else {
                refuse_member("github.environment", "must be an environment name or null (no environment)");
            }
        }
    }
    if (document.has_field("azure-devops")) {
        const value& devops = document.at("azure-devops");
        allow_only(devops, "azure-devops",
                   {"access_token", "organization", "organization_id", "project", "project_id", "pipeline",
                    "service_connections"});
        AzureDevOpsPipeline& pipeline = settings.azure_devops;
        for (const auto& [name, target] :
             {std::pair{"access_token", &pipeline.access_token}, std::pair{"organization", &pipeline.organization},
              std::pair{"organization_id", &pipeline.organization_id}, std::pair{"project", &pipeline.project},
              std::pair{"project_id", &pipeline.project_id}, std::pair{"pipeline", &pipeline.pipeline}}) {
            read_text(devops, "azure-devops", name, *target);
        }
        if (devops.has_field("service_connections")) {
            const value& list = devops.at("service_connections");
            if (!list.is_array()) refuse_member("azure-devops.service_connections", "must be a list");
            pipeline.service_connections.clear();
            for (size_t i = 0; i < list.size(); ++i) {
                const std::string where = "azure-devops.service_connections[" + std::to_string(i) + "]";
                allow_only(list.at(i), where, {"id", "name"});
                ServiceConnection connection;
                read_text(list.at(i), where, "id", connection.id);
                read_text(list.at(i), where, "name", connection.name);
                if (connection.id.empty() || connection.name.empty()) refuse_member(where, "needs an id and a name");
                pipeline.service_connections.push_back(connection);
            }
        }
    }
    if (document.has_field("kubernetes")) {
        const value& kubernetes = document.at("kubernetes");
        allow_only(kubernetes, "kubernetes", {"namespace", "service_account"});
        read_text(kubernetes, "kubernetes", "namespace", settings.kubernetes.namespace_name);
        read_text(kubernetes, "kubernetes", "service_account", settings.kubernetes.service_account);
    }
    return settings;
}

value PlatformSettings::to_json() const {
    value job = value::object(true);
    job["request_token"] = text(github.request_token);
    job["repository"] = text(github.repository);
    job["repository_id"] = text(github.repository_id);
    job["repository_owner_id"] = text(github.repository_owner_id);
    job["environment"] = github.environment ? text(*github.environment) : value::null();
    job["event_name"] = text(github.event_name);
    job["ref"] = text(github.ref);
    job["subject"] = text(github_subject(github));
    value pipeline = value::object(true);
    pipeline["access_token"] = text(azure_devops.access_token);
    pipeline["organization"] = text(azure_devops.organization);
    pipeline["organization_id"] = text(azure_devops.organization_id);
    pipeline["project"] = text(azure_devops.project);
    pipeline["project_id"] = text(azure_devops.project_id);
    pipeline["pipeline"] = text(azure_devops.pipeline);
    pipeline["service_connections"] = connections_json(azure_devops.service_connections);
    value workload = value::object(true);
    workload["namespace"] = text(kubernetes.namespace_name);
    workload["service_account"] = text(kubernetes.service_account);
    workload["subject"] = text(kubernetes_subject(kubernetes));
    value document = value::object(true);
    document["github"] = job;
    document["azure-devops"] = pipeline;
    document["kubernetes"] = workload;
    return document;
}

HttpResponse handle_github_token(SandboxState& state, const HttpRequest& request) {
    ++state.identity_requests["github"];
    if (request.method != "GET") return method_not_allowed(request.method);
    if (!bearer_is(request, state.platforms.github.request_token))
        return not_authorized("the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    if (const auto failure = state.faults.take_platform_error(Platform::github))
        return platform_failure(failure->status);
    GithubJob job = state.platforms.github;
    if (state.faults.take_github_pull_request_subject()) {
        job.environment.reset();
        job.event_name = "pull_request";
        job.ref = "refs/pull/42/merge";
    }
    TokenOrder order;
    order.issuer = IssuerName::github;
    order.subject = github_subject(job);
    // Without an audience GitHub addresses the token to the repository's owner.
    order.audience =
        text(query_value(request.query, "audience").value_or("https://github.com/" + repository_owner(job)));
    order.issued = state.clock();
    order.github_job = job;
    apply_platform_faults(state, Platform::github, order);
    const auto minted = mint(state, order, "github");
    value body = value::object(true);
    body["value"] = text(minted.first);
    return HttpResponse::json(200, body);
}

HttpResponse handle_azure_devops_token(SandboxState& state, const HttpRequest& request) {
    ++state.identity_requests["azure-devops"];
    if (request.method != "POST") return method_not_allowed(request.method);
    const AzureDevOpsPipeline& pipeline = state.platforms.azure_devops;
    if (!bearer_is(request, pipeline.access_token)) {
        const auto redirect = request.headers.get("X-TFS-FedAuthRedirect");
        if (!redirect || !iequals(*redirect, "Suppress")) {
            // Without X-TFS-FedAuthRedirect: Suppress, Azure DevOps answers an unauthenticated call with
            // its sign-in page.
            HttpResponse page;
            page.status = 203;
            page.headers.set("Content-Type", "text/html; charset=utf-8");
            page.body = "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body>"
                        "<form action=\"https://spsprodweu5.vssps.visualstudio.com/_signin\">Sign in</form>"
                        "</body></html>";
            return page;
        }
        return not_authorized("the job's SYSTEM_ACCESSTOKEN");
    }
    if (!query_value(request.query, "api-version")) {
        return vss_error(400,
                         "No api-version was supplied for the \"POST\" request. The version must be supplied either as "
                         "part of the Accept header (e.g. \"application/json; api-version=1.0\") or as a query "
                         "parameter (e.g. '?api-version=1.0').",
                         "VssVersionNotSpecifiedException");
    }
    const ServiceConnection* connection = nullptr;
    if (const auto id = query_value(request.query, "serviceConnectionId")) {
        for (const auto& candidate : pipeline.service_connections) {
            if (iequals(candidate.id, *id)) connection = &candidate;
        }
        if (connection == nullptr) {
            return vss_error(404,
                             "Service connection '" + *id +
                                 "' could not be found, or the pipeline is not authorized to use it.",
                             "ServiceEndpointNotFoundException");
        }
    }
    if (const auto failure = state.faults.take_platform_error(Platform::azure_devops))
        return platform_failure(failure->status);
    TokenOrder order;
    order.issuer = IssuerName::azure_devops;
    // Without a service connection the token is the pipeline's own.
    order.subject = connection ? azure_devops_subject(pipeline, *connection)
                               : "p://" + pipeline.organization + "/" + pipeline.project + "/" + pipeline.pipeline;
    order.audience = text(kTokenExchangeAudience);
    order.issued = state.clock();
    apply_platform_faults(state, Platform::azure_devops, order);
    const auto minted = mint(state, order, "azure-devops", connection);
    value body = value::object(true);
    body["oidcToken"] = text(minted.first);
    return HttpResponse::json(200, body);
}

HttpResponse handle_oidc_token_control(SandboxState& state, const HttpRequest& request) {
    if (request.method != "POST") return control_problem(405, "use POST on /_sandbox/oidc/token");
    TokenOrder order;
    std::optional<std::string> file;
    try {
        const value document = request.body.empty() ? value::object() : value::parse(request.body);
        order = read_token_order(state, document);
        if (document.has_field("file")) {
            if (!document.at("file").is_string() || document.at("file").as_string().empty())
                throw std::invalid_argument("file: must be a path");
            file = document.at("file").as_string();
        }
    } catch (const web::json::json_exception& error) {
        return control_problem(400, std::string("the token request is not JSON: ") + error.what());
    } catch (const std::invalid_argument& error) {
        return control_problem(400, error.what());
    }
    auto [token, claims] = mint(state, order, "control");
    value body = value::object(true);
    body["token"] = text(token);
    body["claims"] = claims;
    if (file) {
        try {
            write_file_atomically(*file, token, 0600);
        } catch (const std::exception& error) {
            return control_problem(400, error.what());
        }
        body["file"] = text(*file);
    }
    return HttpResponse::json(200, body);
}

HttpResponse handle_platforms_control(SandboxState& state, const HttpRequest& request) {
    if (request.method == "DELETE") {
        state.platforms = PlatformSettings{};
    } else if (request.method == "POST") {
        try {
            state.platforms = PlatformSettings::parse(value::parse(request.body));
        } catch (const web::json::json_exception& error) {
            return control_problem(400, std::string("the platforms document is not JSON: ") + error.what());
        } catch (const std::invalid_argument& error) {
            return control_problem(400, error.what());
        }
    } else if (request.method != "GET") {
        return control_problem(405, "use GET, POST or DELETE on /_sandbox/platforms");
    }
    return HttpResponse::json(200, state.platforms.to_json());
}

}  // namespace sandbox
