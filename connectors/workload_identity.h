#pragma once
// Workload identity federation: the platform's own OIDC token (a CI job's, or a Kubernetes pod's)
// is sent unchanged as the client assertion to Entra's token endpoint, where a federated identity
// credential of the app registration trusts its issuer and subject. No secret is stored.
// A platform token is a secret while it lives: nothing here prints, logs or keeps one; messages
// quote only its issuer, subject, audience and expiry.
#include <memory>
#include <string>

#include "connectors/http.h"
#include "connectors/token_client.h"

namespace authgate {

// The audience every platform token is asked for, and the one a federated credential names.
inline constexpr const char* federation_audience = "api://AzureADTokenExchange";

// Where the platform token comes from.
class PlatformToken {
public:
    virtual ~PlatformToken() = default;
    // "GitHub Actions", "Azure DevOps", "the token file /var/run/…" (for messages).
    virtual std::string name() const = 0;
    // A fresh token, asked for (or read) anew at every call; `requests` counts the HTTP requests.
    // Throws ConnectorError naming what was tried and what to check.
    virtual std::string fetch(int& requests) = 0;
};

// The platform token source that `environment` provides, looked for in this order:
//   1. GitHub Actions: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN (a job with
//      `permissions: id-token: write`): GET {url}&audience=api%3A%2F%2FAzureADTokenExchange.
//   2. Azure DevOps: SYSTEM_OIDCREQUESTURI, SYSTEM_ACCESSTOKEN and the service connection's id
//      (AUTHGATE_SERVICE_CONNECTION_ID, else AZURESUBSCRIPTION_SERVICE_CONNECTION_ID):
//      POST {uri}?api-version=7.1&serviceConnectionId={id}.
//   3. A token file: AZURE_FEDERATED_TOKEN_FILE (Azure Workload Identity on Kubernetes), read
//      afresh for every token because the kubelet rotates it.
// The first whose variable is set is the one used, never another after it fails. Throws
// ConnectorError when it lacks a variable it needs, or when none is set: the message lists what
// was looked for and how each platform provides it.
std::unique_ptr<PlatformToken> find_platform_token(HttpTransport& http, const Environment& environment,
                                                   RetrySleep sleep = sleep_for);

// Client credentials with the platform's token as the assertion, a fresh one for every exchange.
// AADSTS70021 (no federated credential matches, which is also what Entra answers while a new one
// spreads) is retried three times, 5, 10 and 15 s apart, before it is reported.
class FederatedAssertion : public TokenSource {
public:
    FederatedAssertion(HttpTransport& http, std::unique_ptr<PlatformToken> platform, RetrySleep sleep = sleep_for);

    IssuedToken issue(const TokenSettings& settings, Instant now, int& requests) override;
    std::string endpoint(const TokenSettings& settings) const override;
    std::string description() const override;
    PlatformToken& platform() { return *platform_; }

private:
    HttpTransport& http_;
    std::unique_ptr<PlatformToken> platform_;
    RetrySleep sleep_;
};

// What to check for an AADSTS code of a federated sign-in (empty when there is no specific
// advice); `claims` are the platform token's, `platform` its source's name.
std::string federation_advice(long code, const TokenSettings& settings, const std::string& platform,
                              const TokenClaims& claims);

}  // namespace authgate
