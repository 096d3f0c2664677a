#pragma once
// OAuth 2.0 client credentials with a certificate assertion against Entra's token endpoint,
// with a cache so that a run asks for one token, not one per request.
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/credentials.h"
#include "connectors/http.h"

namespace authgate {

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
    AuthenticationError(const std::string& message, long code) : ConnectorError(message), code_(code) {}
    long code() const { return code_; }

private:
    long code_;
};

class TokenClient {
public:
    TokenClient(HttpTransport& http, const Credential& credential, TokenSettings settings,
                std::function<Instant()> clock = now_utc);

    // A valid access token, from the cache while it has more than five minutes left.
    std::string bearer();
    // Forget the cached token (Exchange answered 401), so that the next bearer() asks anew.
    void invalidate();

    std::string token_url() const;
    int requests_made() const { return requests_; }
    // The tenant's GUID, from the `tid` claim of the last access token (Entra issues JWTs); nullopt
    // before the first token, or when the token carries none. The token is not verified here:
    // it came over verified TLS from the token endpoint, and Exchange is its audience.
    std::optional<std::string> tenant_id();
    // The application roles the last token carries (its `roles` claim), e.g. Exchange.ManageAsApp.
    std::vector<std::string> roles();
    // The token endpoint's clock, from the Date header of its last answer, if it sent one.
    std::optional<Instant> server_date();

private:
    std::string request(AssertionAlgorithm algorithm);

    HttpTransport& http_;
    const Credential& credential_;
    TokenSettings settings_;
    std::function<Instant()> clock_;
    AssertionAlgorithm algorithm_ = AssertionAlgorithm::ps256;
    std::mutex mutex_;  // one token request at a time, however many writers ask
    std::optional<std::string> token_;
    std::optional<std::string> tenant_id_;
    std::vector<std::string> roles_;
    std::optional<Instant> server_date_;
    Instant expires_{};
    int requests_ = 0;
};

// What to check in Entra for an AADSTS code (empty when there is no specific advice).
std::string aadsts_advice(long code, const TokenSettings& settings, const Credential* credential);

}  // namespace authgate
