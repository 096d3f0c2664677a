// Entra's token endpoint for the client credentials grant with a certificate:
// POST /{tenant}/oauth2/v2.0/token. Access tokens are random and opaque; only their SHA-256
// is kept, so the sandbox never holds a usable token after answering.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "clock.h"
#include "http_message.h"

namespace sandbox {

struct SandboxState;

// Microsoft Graph's resource: the audience of a token asked for with its scope.
inline constexpr const char* kGraphResource = "https://graph.microsoft.com";

// What a token was issued for: its `aud` and `roles` claims, as the APIs read them.
struct TokenGrant {
    std::string audience;
    std::vector<std::string> roles;
};

class AccessTokens {
public:
    enum class Check { valid, expired, unknown };

    // A JWT as Entra issues one (header.claims.signature, each base64url): `claims` is the JSON
    // payload; the signature is 48 random bytes, so that the token is as unguessable as an opaque one.
    std::string issue(Instant now, std::chrono::seconds lifetime, const std::string& claims, TokenGrant grant = {});
    Check check(std::string_view token, Instant now) const;
    // The grant of a token this endpoint issued (expired or not); nullptr for any other.
    const TokenGrant* grant(std::string_view token) const;
    void expire_all(Instant now);  // the expire_tokens fault
    // Upper-case hex SHA-256 of the signature of every token issued (the part without which a
    // token is no use), in order: tests look for it in what the client wrote without the sandbox
    // keeping the tokens themselves.
    const std::vector<std::string>& issued_digests() const { return issued_digests_; }

private:
    struct Issued {
        Instant expiry;
        TokenGrant grant;
    };
    std::map<std::string, Issued> issued_by_digest_;
    std::vector<std::string> issued_digests_;
};

HttpResponse handle_token_request(SandboxState& state, const HttpRequest& request, const std::string& tenant_segment);

}  // namespace sandbox
