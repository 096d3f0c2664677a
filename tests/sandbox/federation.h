// Workload identity federation at the token endpoint: the app's federated identity credentials
// (issuer, subject, audiences) and the checks Entra makes of an assertion another identity
// provider issued: a credential that matches it, the issuer's published key, its lifetime.
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "entra_error.h"
#include "http_message.h"
#include "jwt.h"

namespace sandbox {

struct SandboxState;

struct FederatedCredential {
    std::string name;
    std::string issuer;
    std::string subject;
    std::vector<std::string> audiences;
};

// The app's credentials: those set by /_sandbox/federated-credentials, else the defaults (one
// for the GitHub environment, one for the Azure DevOps service connection, one for the
// Kubernetes service account of the sandbox's platforms).
std::vector<FederatedCredential> federated_credentials(const SandboxState& state);
web::json::value federated_credentials_json(const std::vector<FederatedCredential>& credentials);

struct FederatedSignIn {
    std::string credential;  // the name of the credential that matched
    std::string issuer;
    std::string subject;
};

// Entra's checks of a federated assertion, in the order the README gives; the error of the first
// that fails.
std::variant<FederatedSignIn, EntraError> verify_federated_assertion(SandboxState& state, const DecodedJwt& jwt);

// GET, POST (a list replaces them all, one object adds one) and DELETE /_sandbox/federated-credentials.
HttpResponse handle_federated_credentials_control(SandboxState& state, const HttpRequest& request);

}  // namespace sandbox
