#pragma once
// App-only access tokens, with a cache so that a run asks for one token per resource, not one per
// request. How a token is obtained is a TokenSource: OAuth 2.0 client credentials against Entra's
// token endpoint with a certificate assertion (here) or a federated one (workload_identity.h), or
// the host's managed identity endpoint (managed_identity.h).
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/credentials.h"
#include "connectors/http.h"
#include "policies/names.h"

namespace authgate {

// How authgate signs in ([connection] credential, --credential, AUTHGATE_CREDENTIAL).
enum class CredentialKind { certificate, workload_identity, managed_identity };

template <>
struct EnumNames<CredentialKind> {
    static constexpr std::array<std::pair<CredentialKind, std::string_view>, 3> table{
        {{CredentialKind::certificate, "certificate"},
         {CredentialKind::workload_identity, "workload-identity"},
         {CredentialKind::managed_identity, "managed-identity"}}};
};

// A variable of the process's environment, or nullopt when unset or empty.
using Environment = std::function<std::optional<std::string>(const std::string&)>;
// Waits between retries; tests pass one that does not.
using RetrySleep = std::function<void(std::chrono::milliseconds)>;
void sleep_for(std::chrono::milliseconds duration);

struct TokenSettings {
    std::string login_endpoint;     // https://login.microsoftonline.com
    std::string exchange_endpoint;  // https://outlook.office365.com (the scope is {exchange}/.default)
    std::string tenant;
    std::string app_id;
    // Another API to ask a token for (https://graph.microsoft.com): the scope is then
    // {resource}/.default. Empty: the Exchange endpoint.
    std::string resource = {};
};

// The base URL the token is asked for: the resource, else the Exchange endpoint, without trailing slashes.
std::string token_audience(const TokenSettings& settings);

// Entra refused: the message says which AADSTS code and what to check in Entra.
class AuthenticationError : public ConnectorError {
public:
    AuthenticationError(const std::string& message, long code, std::optional<Instant> server_date = std::nullopt)
        : ConnectorError(message), code_(code), server_date_(server_date) {}
    long code() const { return code_; }
    // The refusing endpoint's clock (its Date header), when it sent one.
    std::optional<Instant> server_date() const { return server_date_; }

private:
    long code_;
    std::optional<Instant> server_date_;
};

// A token as its issuer gave it.
struct IssuedToken {
    std::string access_token;
    Instant expires{};
    std::optional<Instant> server_date = {};  // the issuer's Date header, when it sent one
};

// How a token is obtained. One source may serve several TokenClients (Exchange and Graph) at once.
class TokenSource {
public:
    virtual ~TokenSource() = default;
    // A new token for `settings`' audience (token_audience); `requests` counts every HTTP request
    // it made. Throws AuthenticationError when Entra refused, ConnectorError for anything else,
    // in both cases naming what was tried.
    virtual IssuedToken issue(const TokenSettings& settings, Instant now, int& requests) = 0;
    // Where the token is asked for: Entra's token endpoint, or the identity endpoint.
    virtual std::string endpoint(const TokenSettings& settings) const = 0;
    // What signs in, for messages: "the certificate (thumbprint …)", "GitHub Actions' OIDC token
    // (workload identity)", "the managed identity (IMDS)".
    virtual std::string description() const = 0;
    // True when the token's tenant is the identity's own rather than the one asked for (a managed
    // identity asks no tenant): the configured tenant is then checked against the token's tid.
    virtual bool identity_names_tenant() const { return false; }
};

// Client credentials with a certificate assertion (PS256, then RS256 once when Entra asks for it).
class CertificateAssertion : public TokenSource {
public:
    CertificateAssertion(HttpTransport& http, const Credential& credential);  // borrowed: it outlives this
    CertificateAssertion(HttpTransport& http, Credential&& credential);       // owned

    IssuedToken issue(const TokenSettings& settings, Instant now, int& requests) override;
    std::string endpoint(const TokenSettings& settings) const override;
    std::string description() const override;
    const Credential& credential() const { return *credential_; }

private:
    HttpTransport& http_;
    std::optional<Credential> owned_;
    const Credential* credential_;
    std::mutex mutex_;
    AssertionAlgorithm algorithm_ = AssertionAlgorithm::ps256;
};

// Entra's token endpoint for `settings`: {login}/{tenant}/oauth2/v2.0/token.
std::string entra_token_url(const TokenSettings& settings);

// POSTs client credentials with `assertion` (jwt-bearer, scope {audience}/.default) to Entra's
// token endpoint, and reads the answer. A refusal is an AuthenticationError whose message says
// "token request to URL{with} failed: …" and then `advice(code)` when that is not empty.
IssuedToken post_client_assertion(HttpTransport& http, const TokenSettings& settings, const std::string& assertion,
                                  Instant now, const std::function<std::string(long)>& advice, const std::string& with,
                                  int& requests);

class TokenClient {
public:
    // Tokens from `source`, which outlives this client.
    TokenClient(TokenSource& source, TokenSettings settings, std::function<Instant()> clock = now_utc);
    // The certificate flow, with a source of its own.
    TokenClient(HttpTransport& http, const Credential& credential, TokenSettings settings,
                std::function<Instant()> clock = now_utc);

    // A valid access token, from the cache while it has more than five minutes left.
    std::string bearer();
    // Forget the cached token (Exchange answered 401), so that the next bearer() asks anew.
    void invalidate();
    // The same, only while `refused` is still the cached token: requests side by side that were
    // all refused the same expired token ask for one new token, not one each.
    void invalidate(const std::string& refused);

    std::string token_url() const { return source_.endpoint(settings_); }
    const TokenSource& source() const { return source_; }
    // The requests made for tokens (to the token or identity endpoint, and for a platform's token).
    int requests_made() const { return requests_; }
    // The wall time spent getting tokens: signing, asking, and waiting for the answers.
    std::chrono::nanoseconds time_spent() const { return std::chrono::nanoseconds{time_spent_.load()}; }
    // The tenant's GUID, from the `tid` claim of the last access token (Entra issues JWTs); nullopt
    // before the first token, or when the token carries none. The token is not verified here:
    // it came over verified TLS (or from this machine's identity endpoint), and Exchange is its
    // audience.
    std::optional<std::string> tenant_id();
    // The application roles the last token carries (its `roles` claim), e.g. Exchange.ManageAsApp.
    std::vector<std::string> roles();
    // The token endpoint's clock, from the Date header of its last answer, if it sent one.
    std::optional<Instant> server_date();

private:
    std::unique_ptr<TokenSource> own_source_;
    TokenSource& source_;
    TokenSettings settings_;
    std::function<Instant()> clock_;
    std::mutex mutex_;  // one token request at a time, however many writers ask
    std::optional<std::string> token_;
    std::optional<std::string> tenant_id_;
    std::vector<std::string> roles_;
    std::optional<Instant> server_date_;
    Instant expires_{};
    int requests_ = 0;
    std::atomic<long long> time_spent_{0};  // nanoseconds; read by other threads
};

// The claims of a compact JWT that matter in messages, read without verifying it; empty members
// where it has none (or is no JWT).
struct TokenClaims {
    std::string issuer;    // iss
    std::string subject;   // sub
    std::string audience;  // aud (several joined with ", ")
    std::string tenant;    // tid
    std::vector<std::string> roles;
    std::optional<Instant> expires = {};  // exp
};
TokenClaims read_claims(const std::string& jwt);

// What to check in Entra for an AADSTS code of the certificate flow (empty when there is no specific
// advice); `credential` null: no certificate is involved.
std::string aadsts_advice(long code, const TokenSettings& settings, const Credential* credential);

}  // namespace authgate
