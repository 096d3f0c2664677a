#include "connectors/token_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <cpprest/asyncrt_utils.h>
#include <cpprest/json.h>

#include "policies/printable.h"

namespace authgate {
namespace {

std::string form_encode(const std::string& text) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 15];
        }
    }
    return out;
}

// Entra's error_description runs on with trace and correlation ids; the first line says it.
std::string first_line(const std::string& text) {
    const std::size_t end = text.find_first_of("\r\n");
    return end == std::string::npos ? text : text.substr(0, end);
}

bool wants_rs256(long code) { return code == 700027 || code == 50012; }

// A token's lifetime as Entra sends it in expires_in: a number, or (older endpoints) a string of
// digits. Nullopt for anything but a whole number of seconds from 0 to a year, which no token
// endpoint sends and no cache should trust.
std::optional<long> lifetime_seconds(const web::json::value& json) {
    constexpr long long year = 365LL * 24 * 3600;
    long long seconds = -1;
    if (json.is_number() && json.as_number().is_int64()) {
        seconds = json.as_number().to_int64();
    } else if (json.is_string()) {
        const std::string& text = json.as_string();
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    } else {
        return std::nullopt;
    }
    if (seconds < 0 || seconds > year) return std::nullopt;
    return static_cast<long>(seconds);
}

// A member of the answer quoted in a message: inert, and short.
std::string quoted(const web::json::value& json) {
    const std::string text = printable(json.serialize());
    return text.size() > 60 ? text.substr(0, 60) + "…" : text;
}

}  // namespace

std::string token_audience(const TokenSettings& settings) {
    return trim_slash(settings.resource.empty() ? settings.exchange_endpoint : settings.resource);
}

std::string aadsts_advice(long code, const TokenSettings& settings, const Credential* credential) {
    const std::string thumbprint = credential ? " (thumbprint " + credential->portal_thumbprint() + ")" : "";
    switch (code) {
        case 700027:
            return "upload this certificate" + thumbprint + " under Certificates & secrets of app registration " +
                   settings.app_id + ", or point authgate at the certificate that is uploaded there";
        case 50012:
            return "the signature does not match the certificate uploaded for app " + settings.app_id + thumbprint +
                   "; check that the key file belongs to that certificate";
        case 700024: return "the assertion's time window was refused: check this machine's clock (NTP)";
        case 70011:
            return "the scope " + token_audience(settings) + "/.default was refused: check the " +
                   (settings.resource.empty() ? "Exchange" : "Graph") + " endpoint and [tenant] cloud";
        case 700016:
            return "application " + settings.app_id + " is not in tenant " + settings.tenant +
                   ": check the app id, and that an admin consented Exchange.ManageAsApp in this tenant";
        case 90002: return "tenant " + settings.tenant + " was not found: check [tenant] id and cloud";
        case 7000215: return "a client secret was sent where a certificate was expected";
        default: return "";
    }
}

TokenClient::TokenClient(HttpTransport& http, const Credential& credential, TokenSettings settings,
                         std::function<Instant()> clock)
    : http_(http), credential_(credential), settings_(std::move(settings)), clock_(std::move(clock)) {}

namespace {

// The claims of a compact JWT; null when it is not one.
web::json::value claims_of(const std::string& token) {
    const std::size_t first = token.find('.');
    const std::size_t second = first == std::string::npos ? first : token.find('.', first + 1);
    if (second == std::string::npos) return web::json::value::null();
    std::string payload = token.substr(first + 1, second - first - 1);
    for (char& c : payload) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (payload.size() % 4) payload += '=';
    try {
        const auto bytes = utility::conversions::from_base64(utility::conversions::to_string_t(payload));
        web::json::value claims = web::json::value::parse(std::string(bytes.begin(), bytes.end()));
        return claims.is_object() ? claims : web::json::value::null();
    } catch (const std::exception&) {
        return web::json::value::null();
    }
}

// The `tid` claim, when it is a GUID.
std::optional<std::string> tid_claim(const web::json::value& claims) {
    try {
        if (!claims.is_object() || !claims.has_string_field("tid")) return std::nullopt;
        const std::string tid = claims.at("tid").as_string();
        const bool guid = tid.size() == 36 && std::all_of(tid.begin(), tid.end(), [](char c) {
                              return std::isxdigit(static_cast<unsigned char>(c)) || c == '-';
                          });
        return guid ? std::optional<std::string>(tid) : std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

std::string TokenClient::token_url() const {
    return trim_slash(settings_.login_endpoint) + "/" + settings_.tenant + "/oauth2/v2.0/token";
}

std::optional<std::string> TokenClient::tenant_id() {
    std::lock_guard lock(mutex_);
    return tenant_id_;
}

std::vector<std::string> TokenClient::roles() {
    std::lock_guard lock(mutex_);
    return roles_;
}

std::optional<Instant> TokenClient::server_date() {
    std::lock_guard lock(mutex_);
    return server_date_;
}

void TokenClient::invalidate() {
    std::lock_guard lock(mutex_);
    token_.reset();
}

std::string TokenClient::bearer() {
    std::lock_guard lock(mutex_);
    if (token_ && clock_() + std::chrono::minutes{5} < expires_) return *token_;
    try {
        token_ = request(algorithm_);
    } catch (const AuthenticationError& error) {
        // Older registrations and some clouds accept only RS256 with the SHA-1 thumbprint.
        if (algorithm_ != AssertionAlgorithm::ps256 || !wants_rs256(error.code())) throw;
        algorithm_ = AssertionAlgorithm::rs256;
        token_ = request(algorithm_);
    }
    const web::json::value claims = claims_of(*token_);
    if (auto tid = tid_claim(claims)) tenant_id_ = std::move(tid);
    roles_.clear();
    if (claims.is_object() && claims.has_array_field("roles"))
        for (const auto& role : claims.at("roles").as_array())
            if (role.is_string()) roles_.push_back(role.as_string());
    return *token_;
}

std::string TokenClient::request(AssertionAlgorithm algorithm) {
    const Instant now = clock_();
    const std::string url = token_url();
    HttpRequest http_request{url, {{"Content-Type", "application/x-www-form-urlencoded"}}, ""};
    http_request.body =
        "grant_type=client_credentials&client_id=" + form_encode(settings_.app_id) +
        "&scope=" + form_encode(token_audience(settings_) + "/.default") +
        "&client_assertion_type=" + form_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
        "&client_assertion=" + form_encode(credential_.client_assertion(url, settings_.app_id, now, algorithm));
    ++requests_;
    HttpResponse response;
    try {
        response = http_.post(http_request);
    } catch (const TransportError& error) {
        throw ConnectorError("token request to " + url + " failed: " + error.what());
    }

    if (const std::string date = response.header("date"); !date.empty()) {
        // "Mon, 30 Nov 2026 05:30:31 GMT" (RFC 7231)
        std::tm parts{};
        if (strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S", &parts))
            server_date_ = Instant{std::chrono::seconds{timegm(&parts)}};
    }
    if (const std::string redirect = response.redirect(); !redirect.empty())
        throw ConnectorError("token request to " + url + " failed: the token endpoint answered with " + redirect +
                             ", which authgate never follows; check --login-endpoint");
    web::json::value body;
    try {
        body = web::json::value::parse(response.body);
    } catch (const web::json::json_exception&) {
        const std::string type = response.header("content-type");
        std::string message = "token request to " + url + " failed: HTTP " + std::to_string(response.status) +
                              " with a body that is not JSON" + (type.empty() ? "" : " (" + type + ")");
        if (type.find("html") != std::string::npos)
            message += "\n  what to check: a web page answered in place of the token endpoint: a proxy or "
                       "network sign-in page between this machine and " +
                       origin_of(url) + ", or --login-endpoint";
        throw ConnectorError(message);
    }
    if (response.status == 200 && !body.has_string_field("access_token"))
        throw ConnectorError("token request to " + url +
                             " failed: HTTP 200 without an access_token in the answer; check --login-endpoint");
    if (response.status == 200 && body.has_string_field("access_token")) {
        long lifetime = 3599;
        if (body.has_field("expires_in") && !body.at("expires_in").is_null()) {
            const auto stated = lifetime_seconds(body.at("expires_in"));
            if (!stated)
                throw ConnectorError("token request to " + url + " failed: the answer's expires_in is " +
                                     quoted(body.at("expires_in")) +
                                     ", not a whole number of seconds from 0 to a year; check --login-endpoint");
            lifetime = *stated;
        }
        expires_ = now + std::chrono::seconds{lifetime};
        return body.at("access_token").as_string();
    }
    long code = 0;
    if (body.has_array_field("error_codes") && body.at("error_codes").size() > 0 &&
        body.at("error_codes").at(0).is_number() && body.at("error_codes").at(0).as_number().is_int64())
        code = static_cast<long>(body.at("error_codes").at(0).as_number().to_int64());
    const std::string description = body.has_string_field("error_description")
                                        ? first_line(body.at("error_description").as_string())
                                        : (body.has_string_field("error") ? body.at("error").as_string()
                                                                          : "no description");
    std::string message = "token request to " + url + " failed: HTTP " + std::to_string(response.status) + ": " +
                          description;
    if (const std::string advice = aadsts_advice(code, settings_, &credential_); !advice.empty())
        message += "\n  what to check: " + advice;
    throw AuthenticationError(message, code);
}

}  // namespace authgate
