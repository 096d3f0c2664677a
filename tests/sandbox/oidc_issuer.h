// The identity providers of the platforms that let authgate sign in without a stored
// certificate, played by the sandbox: GitHub Actions, Azure DevOps and a Kubernetes cluster. Each
// signs RS256 tokens with its own key and publishes an OpenID discovery document and its JWKS
// under /_oidc/{name} on the sandbox's origin.
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <string>
#include <string_view>

#include "crypto.h"
#include "http_message.h"

namespace sandbox {

struct SandboxState;

enum class IssuerName { github, azure_devops, kubernetes };

// How a token is signed: by the issuer's published key, by a key its JWKS does not list, or by
// its key with the signature then spoilt.
enum class TokenSigning { issuer_key, unknown_key, bad_signature };

struct IssuerKey {
    KeyPtr key;
    CertificatePtr certificate;  // self-signed, for the x5t GitHub and Azure DevOps put in headers
    std::string kid;
    std::string x5t;
};

// The issuer's key: RSA 2048, made on first use and kept for the life of the process.
const IssuerKey& issuer_key(IssuerName issuer);

std::string_view issuer_path_name(IssuerName issuer);  // "github", "azure-devops", "kubernetes"
std::optional<IssuerName> issuer_by_name(std::string_view name);
// The iss of the issuer's tokens: https://127.0.0.1:PORT/_oidc/github, …/_oidc/kubernetes, and
// https://vstoken.dev.azure.com/{organization id} for Azure DevOps (its metadata is served at
// /_oidc/azure-devops).
std::string issuer_url(const SandboxState& state, IssuerName issuer);
// The issuer whose iss this is (either spelling of the sandbox's origin); nullopt for any other.
std::optional<IssuerName> issuer_by_url(const SandboxState& state, std::string_view iss);

// header.payload.signature, the header as the platform writes it (alg, kid, and x5t for GitHub and
// Azure DevOps).
std::string mint_platform_token(IssuerName issuer, const web::json::value& claims,
                                TokenSigning signing = TokenSigning::issuer_key);

bool is_oidc_path(std::string_view path);  // /_oidc/…
// GET /_oidc/{name}/.well-known/openid-configuration and the JWKS it names.
HttpResponse handle_oidc_metadata(SandboxState& state, const HttpRequest& request);

}  // namespace sandbox
