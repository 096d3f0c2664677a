// The sandbox's own API for tests, under /_sandbox (no authentication; the server listens on
// loopback only): GET state, GET/POST/DELETE faults, GET/POST/DELETE usage (the data Graph answers
// from), the webhook stand-in, and the settings of sign-ins without a stored certificate
// (oidc/token, platforms, federated-credentials, managed-identities).
#pragma once

#include <cpprest/json.h>

#include "http_message.h"

namespace sandbox {

struct SandboxState;

// The tenant in the snapshot format, plus "mutations", "requests", "faults", "usage",
// "graph_requests" and "report_downloads".
web::json::value state_document(const SandboxState& state);

HttpResponse handle_control(SandboxState& state, const HttpRequest& request);

}  // namespace sandbox
