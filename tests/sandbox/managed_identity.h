// The managed identity endpoints a workload asks for tokens without holding a credential:
//   GET /metadata/identity/oauth2/token          IMDS (a VM), under AZURE_POD_IDENTITY_AUTHORITY_HOST
//   GET /_appservice/msi/token                   App Service, Functions, Container Apps (IDENTITY_ENDPOINT)
//   GET /_arc/metadata/identity/oauth2/token     Azure Arc, with its 401 challenge and key file
// Each answers the access token a certificate sign-in gets for the resource, issued to the
// managed identity.
#pragma once

#include <cpprest/json.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.h"
#include "http_message.h"

namespace sandbox {

struct SandboxState;

struct ManagedIdentity {
    std::string name;
    std::string client_id;
    std::string object_id;  // the principal id
    std::string resource_id;
    bool exchange_role = true;  // holds Exchange.ManageAsApp
};

struct ManagedIdentitySettings {
    std::optional<ManagedIdentity> system_assigned =
        ManagedIdentity{"authgate-vm", "5a5a0000-0000-4000-8000-000000000001", "5a5a0000-0000-4000-8000-000000000002",
                        "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/authgate/providers/"
                        "Microsoft.Compute/virtualMachines/authgate-vm",
                        true};
    std::vector<ManagedIdentity> user_assigned = {ManagedIdentity{
        "authgate-identity", "a55e0000-0000-4000-8000-000000000011", "a55e0000-0000-4000-8000-000000000012",
        "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/authgate/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/authgate-identity",
        true}};
    std::string identity_header = "sandbox-identity-header";  // IDENTITY_HEADER of App Service
    std::filesystem::path arc_key_directory;                  // where Arc's challenge files are written

    // The document of POST /_sandbox/managed-identities: absent members take their defaults
    // (`arc_key_directory` the one the sandbox was started with). Throws std::invalid_argument.
    static ManagedIdentitySettings parse(const web::json::value& document,
                                         const std::filesystem::path& default_arc_key_directory);
    web::json::value to_json() const;
};

// A secret Arc wrote to a key file for a client to send back.
struct ArcSecret {
    std::filesystem::path file;
    Instant expires;
};

struct ManagedIdentityState {
    ManagedIdentitySettings settings;
    std::map<std::string, ArcSecret> arc_secrets;  // by the secret
};

inline constexpr const char* kImdsTokenPath = "/metadata/identity/oauth2/token";
inline constexpr const char* kAppServiceTokenPath = "/_appservice/msi/token";
inline constexpr const char* kArcTokenPath = "/_arc/metadata/identity/oauth2/token";
// How long a secret of Arc's challenge is accepted.
inline constexpr std::chrono::seconds kArcSecretLifetime{300};

bool is_managed_identity_path(std::string_view path);

HttpResponse handle_imds_token(SandboxState& state, const HttpRequest& request);
HttpResponse handle_app_service_token(SandboxState& state, const HttpRequest& request);
HttpResponse handle_arc_token(SandboxState& state, const HttpRequest& request);
// GET, POST and DELETE (back to the defaults) /_sandbox/managed-identities.
HttpResponse handle_managed_identities_control(SandboxState& state, const HttpRequest& request);

}  // namespace sandbox
