// The platform endpoints that hand out identity tokens, as GitHub Actions and Azure DevOps answer
// a job: GET {ACTIONS_ID_TOKEN_REQUEST_URL}&audience=… and POST {SYSTEM_OIDCREQUESTURI}?…
// &serviceConnectionId=…, each with the job's bearer. The job each plays is set by
// /_sandbox/platforms; /_sandbox/oidc/token mints any token a test wants (a Kubernetes token file).
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.h"
#include "http_message.h"
#include "oidc_issuer.h"

namespace sandbox {

struct SandboxState;

// The GitHub Actions job the sandbox plays: its token's subject follows GitHub's rule (an
// environment first, then a pull request, then the ref).
struct GithubJob {
    std::string request_token = "sandbox-github-request-token";  // ACTIONS_ID_TOKEN_REQUEST_TOKEN
    std::string repository = "contoso/policies";
    std::string repository_id = "821093847";
    std::string repository_owner_id = "5544123";
    std::optional<std::string> environment = "exchange-online";
    std::string event_name = "push";
    std::string ref = "refs/heads/main";
};

struct ServiceConnection {
    std::string id;
    std::string name;
};

// The Azure DevOps pipeline the sandbox plays, with its service connections.
struct AzureDevOpsPipeline {
    std::string access_token = "sandbox-system-accesstoken";  // SYSTEM_ACCESSTOKEN
    std::string organization = "contoso";
    std::string organization_id = "a2d0a2d0-0000-4000-8000-000000000001";
    std::string project = "policies";
    std::string project_id = "a2d0a2d0-0000-4000-8000-000000000002";
    std::string pipeline = "authgate-apply";
    std::vector<ServiceConnection> service_connections = {{"a2d0a2d0-0000-4000-8000-000000000003", "exchange-online"}};
};

// The service account of the Kubernetes pod whose projected token a test writes to a file.
struct KubernetesWorkload {
    std::string namespace_name = "authgate";
    std::string service_account = "authgate";
};

struct PlatformSettings {
    GithubJob github;
    AzureDevOpsPipeline azure_devops;
    KubernetesWorkload kubernetes;

    // The document of POST /_sandbox/platforms: absent members keep their defaults. Throws
    // std::invalid_argument naming the member that is wrong.
    static PlatformSettings parse(const web::json::value& document);
    web::json::value to_json() const;
};

// The subject GitHub gives the job's tokens.
std::string github_subject(const GithubJob& job);
std::string azure_devops_subject(const AzureDevOpsPipeline& pipeline, const ServiceConnection& connection);
std::string kubernetes_subject(const KubernetesWorkload& workload);

inline constexpr const char* kTokenExchangeAudience = "api://AzureADTokenExchange";
inline constexpr const char* kGithubTokenPath = "/_github/idtoken";
inline constexpr const char* kAzureDevOpsTokenPath = "/_azure-devops/oidctoken";

HttpResponse handle_github_token(SandboxState& state, const HttpRequest& request);
HttpResponse handle_azure_devops_token(SandboxState& state, const HttpRequest& request);
// POST /_sandbox/oidc/token and GET/POST/DELETE /_sandbox/platforms.
HttpResponse handle_oidc_token_control(SandboxState& state, const HttpRequest& request);
HttpResponse handle_platforms_control(SandboxState& state, const HttpRequest& request);

}  // namespace sandbox
