// Entra's token endpoint for the client credentials grant with a certificate, or with a
// platform's token for a federated identity credential: POST /{tenant}/oauth2/v2.0/token. The
// managed identity endpoints issue their tokens here too. Access tokens are random and opaque; only their SHA-256
// is kept, so the sandbox never holds a usable token after answering.
#pragma once

#include <cpprest/json.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.h"
#include "http_message.h"

namespace sandbox {

struct SandboxState;

// Microsoft Graph's resource: the audience of a token asked for with its scope.
inline constexpr const char* kGraphResource = "https://graph.microsoft.com";

// How the principal signed in: the app with its certificate or with a platform's token, or a
// managed identity at its endpoint.
enum class SignInVia { certificate, federated, managed_identity };

// What a token was issued for: its `aud` and `roles` claims, as the APIs read them, and to whom.
struct TokenGrant {
    std::string audience;
    std::vector<std::string> roles;
    std::string app_id;  // the appid claim: the app, or the managed identity's client id
    SignInVia via = SignInVia::certificate;
};

// The principal an access token is issued to.
struct TokenSubject {
    std::string app_id;
    std::string display_name;
    std::optional<std::string> object_id;    // oid and sub (managed identities)
    std::optional<std::string> resource_id;  // xms_mirid (managed identities)
    bool exchange_role = true;               // holds Exchange.ManageAsApp
    SignInVia via = SignInVia::certificate;
};

struct IssuedToken {
    std::string token;
    Instant not_before;
    Instant expires;
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

// An access token for `audience` (an origin of the sandbox, or Graph's resource), shaped as a
// certificate sign-in's: the roles the subject holds there, the tenant's tid. `sign_in` is kept
// in the state document's credentials.sign_ins, with the audience added.
IssuedToken issue_access_token(SandboxState& state, const std::string& audience, const TokenSubject& subject,
                               web::json::value sign_in);
// The audience a managed identity's `resource` names: an origin of the sandbox or Graph (with or
// without a trailing slash, or Graph's application id); nullopt for any other.
std::optional<std::string> audience_of_resource(const SandboxState& state, std::string_view resource);

}  // namespace sandbox
