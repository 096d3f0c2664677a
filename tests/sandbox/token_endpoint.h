// Entra's token endpoint for the client credentials grant with a certificate:
// POST /{tenant}/oauth2/v2.0/token. Access tokens are random and opaque; only their SHA-256
// is kept, so the sandbox never holds a usable token after answering.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "clock.h"
#include "http_message.h"

namespace sandbox {

struct SandboxState;

class AccessTokens {
 public:
  enum class Check { valid, expired, unknown };

  std::string issue(Instant now, std::chrono::seconds lifetime);
  Check check(std::string_view token, Instant now) const;
  void expire_all(Instant now);  // the expire_tokens fault

 private:
  std::map<std::string, Instant> expiry_by_digest_;
};

HttpResponse handle_token_request(SandboxState& state, const HttpRequest& request, const std::string& tenant_segment);

}  // namespace sandbox
