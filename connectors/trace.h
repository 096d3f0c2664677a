#pragma once
// --trace DIR: every request to the tenant and its answer, one file each, with the secrets taken
// out, so that a user who meets a behaviour of the service that authgate does not know can show
// exactly what was said. Nothing that authorises anything reaches a trace: bearer tokens, client
// assertions, access tokens, cookies.
#include <memory>
#include <string>

#include "connectors/http.h"

namespace authgate {

// `text` with every secret replaced by "[removed]": the values of Authorization-like headers in
// text ("Bearer …"), the client_assertion of a token request, access/refresh/id tokens,
// "Authorization" and "client_assertion" members in JSON, the platform tokens of workload identity
// ("value" of GitHub's answer, "oidcToken" of Azure DevOps'), and anything shaped like a JWT
// (base64url "eyJ…" with dots).
std::string remove_secrets(const std::string& text);

// Wraps `inner`: each request and its answer (or the failure to get one) is written to a new
// file in `folder` (created 0700 when missing; files 0600, created exclusively, no symlink
// followed), named by process, sequence, method and the last segment of the path. Throws
// ConnectorError when the folder cannot be made or used.
std::unique_ptr<HttpTransport> make_tracing_transport(std::unique_ptr<HttpTransport> inner, const std::string& folder);

}  // namespace authgate
