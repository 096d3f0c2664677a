#pragma once
// The one HTTP client wrapper: HTTPS POSTs with TLS verification that cannot be turned off,
// extra trust anchors from a CA bundle, and one pooled connection set per origin. Plain http is
// used for one thing only: a managed identity's token endpoint on this machine (loopback) or
// the instance metadata service (169.254.169.254).
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "connectors/connector.h"

namespace authgate {

// pooled: a kept-alive connection may carry it, and the HTTP client may send it again on a new
// connection when the kept-alive one ends before the first byte of the answer (libcurl does).
// at_most_once: for requests that must never be sent twice (a write the server may already have
// made): a kept-alive connection carries it too, but once any byte of it has gone out it is never
// sent on another connection; the failure says the server may have seen it.
enum class ConnectionUse { pooled, at_most_once };

struct HttpRequest {
    std::string url;
    std::map<std::string, std::string> headers;
    std::string body;
    ConnectionUse connection = ConnectionUse::pooled;
    // Longer than the transport's for this request alone (on a connection of its own).
    std::optional<std::chrono::seconds> timeout{};
    std::string method = "POST";  // or GET, which sends no body
    // A managed identity's token endpoint: http:// is accepted when its host is loopback
    // (127.0.0.0/8, ::1, localhost) or 169.254.169.254 (https:// is verified as everywhere);
    // never through a proxy, on a connection of its own, and given at most identity_timeout.
    bool identity_endpoint = false;
};

// The longest an identity endpoint request may take: a host without one (not an Azure machine)
// should not hold a run for the transport's whole timeout.
inline constexpr std::chrono::seconds identity_timeout{30};

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;

    std::string header(const std::string& lower_case_name) const;
    // A redirect (3xx), which is never followed: the bearer token and the request go nowhere but
    // where they were sent. "a redirect (HTTP 302) to <Location>" for one, else "".
    std::string redirect() const;
};

// The request could not be completed: no connection, TLS refused, timed out, cut off.
class TransportError : public ConnectorError {
public:
    TransportError(const std::string& message, bool before_sending)
        : ConnectorError(message), before_sending_(before_sending) {}
    // True when the server cannot have seen the request (it is safe to send a write again).
    bool before_sending() const { return before_sending_; }

private:
    bool before_sending_;
};

class HttpTransport {
public:
    virtual ~HttpTransport() = default;
    virtual HttpResponse post(const HttpRequest& request) = 0;  // any method: request.method
};

struct HttpSettings {
    std::optional<std::string> ca_bundle;  // PEM file of extra trust anchors
    std::chrono::seconds timeout{960};     // one request, as the Exchange Online module allows a cmdlet
};

std::unique_ptr<HttpTransport> make_https_transport(const HttpSettings& settings);

// A base URL without its trailing slashes, ready for a path to be appended.
std::string trim_slash(std::string url);

// "https://host:port" of a URL, lower-cased; empty when it is not an https URL, or when it
// carries a user name or password (https://user:pass@host), which authgate never sends.
std::string origin_of(const std::string& url);

// The origin of a managed identity endpoint's URL: origin_of for https://, else "http://host:port"
// for a plain http URL whose host is loopback (127.0.0.0/8, [::1], localhost) or the instance
// metadata address 169.254.169.254; empty for anything else.
std::string identity_origin_of(const std::string& url);

// What a message may say of a URL that can be a secret (a webhook's): its scheme and host,
// without user name, password, path or query. "https://hooks.example.com".
std::string host_part(const std::string& url);

}  // namespace authgate
