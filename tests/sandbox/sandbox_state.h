// Everything the sandbox's endpoints read and change. One mutex in Sandbox guards all of it
// (cpprest answers requests on a thread pool); handlers are called with that lock held.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client_assertion.h"
#include "clock.h"
#include "faults.h"
#include "federation.h"
#include "graph_api.h"
#include "journal.h"
#include "mail.h"
#include "managed_identity.h"
#include "paging.h"
#include "platform_endpoints.h"
#include "service_behaviours.h"
#include "tenant.h"
#include "token_endpoint.h"

namespace sandbox {

struct SandboxConfig {
    std::string tenant;                    // the onmicrosoft.com domain, e.g. contoso.onmicrosoft.com
    std::optional<std::string> tenant_id;  // the tenant GUID, accepted wherever the domain is
    std::string app_id;
    std::chrono::seconds token_lifetime{3599};
    size_t page_size_max = 1000;
    std::chrono::seconds link_expiry{1800};
    unsigned batch_seed = 1;  // responses of a $batch are shuffled with this seed
    ServiceBehaviours behaviours;
    // Where Azure Arc's challenge writes its key files, unless /_sandbox/managed-identities says otherwise.
    std::filesystem::path arc_key_directory = std::filesystem::temp_directory_path() / "authgate-sandbox-arc-tokens";
};

// Exchange's Rate-Limit-* headers: a count of requests in a fixed one-minute window.
struct RateWindow {
    static constexpr int kLimit = 30000;
    Instant start{};
    int used = 0;
};

// TLS handshakes on the HTTPS listener since start: full + resumed = handshakes.
enum class TlsHandshake { full, resumed };
struct TlsHandshakes {
    int handshakes = 0;
    int resumed = 0;
};

struct SandboxState {
    SandboxState(SandboxConfig config_, Tenant tenant_, ClientAssertionVerifier assertions_, Clock clock_)
        : config(std::move(config_)),
          clock(std::move(clock_)),
          tenant(std::move(tenant_)),
          assertions(std::move(assertions_)),
          pages(config.link_expiry) {
        identities.settings.arc_key_directory = config.arc_key_directory;
    }

    bool serves_tenant(std::string_view segment) const;
    // The tenant's GUID: --tenant-id, else one derived from the domain. Tokens carry it as `tid`,
    // and it is accepted wherever the domain is.
    std::string tenant_guid() const;
    // https://127.0.0.1:PORT and https://localhost:PORT: the origins a client may address.
    std::vector<std::string> origins() const;
    // The origin the client used (from Host), for links it is to follow.
    std::string origin_for(const std::optional<std::string>& host) const;

    SandboxConfig config;
    int port = 0;
    Clock clock;
    Tenant tenant;
    ClientAssertionVerifier assertions;
    AccessTokens tokens;
    PageStore pages;
    Faults faults;
    Journal journal;
    RateWindow rate;
    unsigned batches_answered = 0;
    TlsHandshakes tls;
    // Bodies POSTed to /_sandbox/webhook: a stand-in for a chat webhook, so that notifications
    // can be seen arriving over HTTPS.
    std::vector<web::json::value> webhooks;
    // Microsoft Graph's usage sources: the usage data, sign-in pages and report downloads.
    GraphState graph;
    // Sign-ins without a stored certificate: the platforms' jobs, the app's federated identity
    // credentials (nullopt: the defaults), the managed identities and their endpoints.
    PlatformSettings platforms;
    std::optional<std::vector<FederatedCredential>> federated_credentials;
    ManagedIdentityState identities;
    int http_port = 0;  // the plain-HTTP listener of the managed identity endpoints, when there is one
    // For the state document: every token the platforms handed out ({"via","iss","sub","aud","jti",
    // "exp"}), every access token issued ({"via",…,"audience"}), requests by endpoint.
    std::vector<web::json::value> platform_tokens;
    std::vector<web::json::value> sign_ins;
    std::map<std::string, int> identity_requests;
    MailState mail;  // sendMail and the SMTP listener: messages, counters (mail.h)
};

}  // namespace sandbox
