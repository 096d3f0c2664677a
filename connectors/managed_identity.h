#pragma once
// A managed identity of the Azure host authgate runs on: the token comes from the host's local
// identity endpoint, never from Entra's token endpoint, and no secret is stored. The endpoint is
// chosen by what the environment provides:
//   App Service, Functions, Container Apps  IDENTITY_ENDPOINT and IDENTITY_HEADER:
//       GET {IDENTITY_ENDPOINT}?resource=…&api-version=2019-08-01, header X-IDENTITY-HEADER (read
//       from the environment for every request: the platform rotates it)
//   Azure Arc  IDENTITY_ENDPOINT and IMDS_ENDPOINT:
//       GET {IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=…, header Metadata: true; the 401
//       challenge's WWW-Authenticate: Basic realm=<file> names a key file, read only when it is in
//       the agent's directory (/var/opt/azcmagent/tokens), named *.key and at most 4,096 bytes, and
//       sent back as Authorization: Basic <content>
//   anything else: the instance metadata service (IMDS) of a VM or scale set:
//       GET {AZURE_POD_IDENTITY_AUTHORITY_HOST or http://169.254.169.254}/metadata/identity/oauth2/token
//       ?api-version=2018-02-01&resource=…, header Metadata: true
// Plain http is accepted only for a loopback host or 169.254.169.254 (http.h); an https endpoint is
// verified as every other. The resource is the Exchange (or Graph) endpoint without "/.default".
#include <optional>
#include <string>

#include "connectors/http.h"
#include "connectors/token_client.h"

namespace authgate {

// A user-assigned identity, named by one of its ids; none: the host's system-assigned identity.
struct UserAssignedIdentity {
    enum class By { client_id, object_id, resource_id };
    By by = By::client_id;
    std::string id;
};

enum class IdentityHost { app_service, azure_arc, imds };

class ManagedIdentity : public TokenSource {
public:
    // Chooses the endpoint from `environment` (above). Throws ConnectorError when IDENTITY_ENDPOINT
    // is set without IDENTITY_HEADER or IMDS_ENDPOINT, when the endpoint is plain http to another
    // host, and for a user-assigned identity on Azure Arc (which has only the system-assigned one).
    ManagedIdentity(HttpTransport& http, Environment environment, std::optional<UserAssignedIdentity> identity = {},
                    RetrySleep sleep = sleep_for);

    IssuedToken issue(const TokenSettings& settings, Instant now, int& requests) override;
    std::string endpoint(const TokenSettings& settings) const override;
    std::string description() const override;
    bool identity_names_tenant() const override { return true; }
    IdentityHost host() const { return host_; }

private:
    HttpRequest first_request(const std::string& resource) const;
    // Sends `request`, retrying as the endpoint documents (IMDS: 404, 410, 429, 5xx; the others:
    // 429, 5xx), 2, 6, 14 and 30 s apart (and once more after 30 s for IMDS's 410, which promises
    // an answer within 70 s).
    HttpResponse send(const HttpRequest& request, int& requests);
    // The Authorization of Arc's second request, from the key file the challenge names.
    std::string arc_secret(const HttpResponse& challenge) const;
    std::string failed() const;

    HttpTransport& http_;
    Environment environment_;
    std::optional<UserAssignedIdentity> identity_;
    RetrySleep sleep_;
    IdentityHost host_ = IdentityHost::imds;
    std::string url_;  // the endpoint, without a query of ours
};

// Azure Arc's key file directory (AUTHGATE_ARC_TOKEN_DIR replaces it, for tests).
inline constexpr const char* arc_token_directory = "/var/opt/azcmagent/tokens";

}  // namespace authgate
