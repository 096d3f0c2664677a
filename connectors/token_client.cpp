#include "connectors/token_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <thread>

#include <cpprest/asyncrt_utils.h>
#include <cpprest/json.h>

#include "policies/name.h"
#include "policies/printable.h"

namespace authgate {
namespace {

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

bool is_guid(const std::string& text) {
    return text.size() == 36 && std::all_of(text.begin(), text.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c)) || c == '-';
           });
}

std::string string_claim(const web::json::value& claims, const char* name) {
    return claims.is_object() && claims.has_string_field(name) ? claims.at(name).as_string() : std::string();
}

// The Date header (RFC 7231: "Mon, 30 Nov 2026 05:30:31 GMT"), when there is one.
std::optional<Instant> date_of(const HttpResponse& response) {
    const std::string date = response.header("date");
    if (date.empty()) return std::nullopt;
    std::tm parts{};
    if (!strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S", &parts)) return std::nullopt;
    return Instant{std::chrono::seconds{timegm(&parts)}};
}

}  // namespace

void sleep_for(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }

TokenClaims read_claims(const std::string& jwt) {
    TokenClaims read;
    const web::json::value claims = claims_of(jwt);
    if (!claims.is_object()) return read;
    try {
        read.issuer = string_claim(claims, "iss");
        read.subject = string_claim(claims, "sub");
        read.tenant = string_claim(claims, "tid");
        if (claims.has_string_field("aud")) read.audience = claims.at("aud").as_string();
        else if (claims.has_array_field("aud"))
            for (const auto& audience : claims.at("aud").as_array())
                if (audience.is_string()) read.audience += (read.audience.empty() ? "" : ", ") + audience.as_string();
        if (claims.has_array_field("roles"))
            for (const auto& role : claims.at("roles").as_array())
                if (role.is_string()) read.roles.push_back(role.as_string());
        if (claims.has_field("exp") && claims.at("exp").is_number() && claims.at("exp").as_number().is_int64())
            read.expires = Instant{std::chrono::seconds{claims.at("exp").as_number().to_int64()}};
    } catch (const std::exception&) {
    }
    return read;
}

std::string entra_token_url(const TokenSettings& settings) {
    return trim_slash(settings.login_endpoint) + "/" + settings.tenant + "/oauth2/v2.0/token";
}

IssuedToken post_client_assertion(HttpTransport& http, const TokenSettings& settings, const std::string& assertion,
                                  Instant now, const std::function<std::string(long)>& advice, const std::string& with,
                                  int& requests) {
    const std::string url = entra_token_url(settings);
    const std::string failed = "token request to " + url + with + " failed: ";
    HttpRequest http_request{url, {{"Content-Type", "application/x-www-form-urlencoded"}}, ""};
    http_request.body = "grant_type=client_credentials&client_id=" + percent_encode(settings.app_id) +
                        "&scope=" + percent_encode(token_audience(settings) + "/.default") + "&client_assertion_type=" +
                        percent_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                        "&client_assertion=" + percent_encode(assertion);
    ++requests;
    HttpResponse response;
    try {
        response = http.post(http_request);
    } catch (const TransportError& error) {
        throw ConnectorError(failed + error.what());
    }

    IssuedToken issued;
    issued.server_date = date_of(response);
    if (const std::string redirect = response.redirect(); !redirect.empty())
        throw ConnectorError(failed + "the token endpoint answered with " + redirect +
                             ", which authgate never follows; check --login-endpoint");
    web::json::value body;
    try {
        body = web::json::value::parse(response.body);
    } catch (const web::json::json_exception&) {
        const std::string type = response.header("content-type");
        std::string message = failed + "HTTP " + std::to_string(response.status) + " with a body that is not JSON" +
                              (type.empty() ? "" : " (" + type + ")");
        if (type.find("html") != std::string::npos)
            message += "\n  what to check: a web page answered in place of the token endpoint: a proxy or "
                       "network sign-in page between this machine and " +
                       origin_of(url) + ", or --login-endpoint";
        throw ConnectorError(message);
    }
    if (response.status == 200 && !body.has_string_field("access_token"))
        throw ConnectorError(failed + "HTTP 200 without an access_token in the answer; check --login-endpoint");
    if (response.status == 200 && body.has_string_field("access_token")) {
        long lifetime = 3599;
        if (body.has_field("expires_in") && !body.at("expires_in").is_null()) {
            const auto stated = lifetime_seconds(body.at("expires_in"));
            if (!stated)
                throw ConnectorError(failed + "the answer's expires_in is " + quoted(body.at("expires_in")) +
                                     ", not a whole number of seconds from 0 to a year; check --login-endpoint");
            lifetime = *stated;
        }
        issued.expires = now + std::chrono::seconds{lifetime};
        issued.access_token = body.at("access_token").as_string();
        return issued;
    }
    long code = 0;
    if (body.has_array_field("error_codes") && body.at("error_codes").size() > 0 &&
        body.at("error_codes").at(0).is_number() && body.at("error_codes").at(0).as_number().is_int64())
        code = static_cast<long>(body.at("error_codes").at(0).as_number().to_int64());
    const std::string description = body.has_string_field("error_description")
                                        ? first_line(body.at("error_description").as_string())
                                        : (body.has_string_field("error") ? body.at("error").as_string()
                                                                          : "no description");
    std::string message = failed + "HTTP " + std::to_string(response.status) + ": " + description;
    if (const std::string said = advice ? advice(code) : std::string(); !said.empty())
        message += "\n  what to check: " + said;
    throw AuthenticationError(message, code, issued.server_date);
}

CertificateAssertion::CertificateAssertion(HttpTransport& http, const Credential& credential)
    : http_(http), credential_(&credential) {}

CertificateAssertion::CertificateAssertion(HttpTransport& http, Credential&& credential)
    : http_(http), owned_(std::move(credential)), credential_(&*owned_) {}

std::string CertificateAssertion::endpoint(const TokenSettings& settings) const { return entra_token_url(settings); }

std::string CertificateAssertion::description() const {
    return "the certificate (thumbprint " + credential_->portal_thumbprint() + ")";
}

IssuedToken CertificateAssertion::issue(const TokenSettings& settings, Instant now, int& requests) {
    const std::string url = entra_token_url(settings);
    const auto advice = [&](long code) { return aadsts_advice(code, settings, credential_); };
    AssertionAlgorithm algorithm;
    {
        std::lock_guard lock(mutex_);
        algorithm = algorithm_;
    }
    try {
        return post_client_assertion(http_, settings,
                                     credential_->client_assertion(url, settings.app_id, now, algorithm), now, advice,
                                     "", requests);
    } catch (const AuthenticationError& error) {
        // Older registrations and some clouds accept only RS256 with the SHA-1 thumbprint.
        if (algorithm != AssertionAlgorithm::ps256 || !wants_rs256(error.code())) throw;
        {
            std::lock_guard lock(mutex_);
            algorithm_ = AssertionAlgorithm::rs256;
        }
        return post_client_assertion(
            http_, settings, credential_->client_assertion(url, settings.app_id, now, AssertionAlgorithm::rs256), now,
            advice, "", requests);
    }
}

TokenClient::TokenClient(TokenSource& source, TokenSettings settings, std::function<Instant()> clock)
    : source_(source), settings_(std::move(settings)), clock_(std::move(clock)) {}

TokenClient::TokenClient(HttpTransport& http, const Credential& credential, TokenSettings settings,
                         std::function<Instant()> clock)
    : own_source_(std::make_unique<CertificateAssertion>(http, credential)),
      source_(*own_source_),
      settings_(std::move(settings)),
      clock_(std::move(clock)) {}

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

void TokenClient::invalidate(const std::string& refused) {
    std::lock_guard lock(mutex_);
    if (token_ == refused) token_.reset();
}

std::string TokenClient::bearer() {
    std::lock_guard lock(mutex_);
    if (token_ && clock_() + std::chrono::minutes{5} < expires_) return *token_;
    token_.reset();
    IssuedToken issued;
    const auto started = std::chrono::steady_clock::now();
    const auto count_time = [&] {
        time_spent_ +=
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count();
    };
    try {
        issued = source_.issue(settings_, clock_(), requests_);
    } catch (const AuthenticationError& error) {
        count_time();
        if (error.server_date()) server_date_ = error.server_date();
        throw;
    }
    count_time();
    if (issued.server_date) server_date_ = issued.server_date;
    const TokenClaims claims = read_claims(issued.access_token);
    // A managed identity's token is for its own tenant, whatever was configured.
    if (source_.identity_names_tenant() && is_guid(settings_.tenant) && is_guid(claims.tenant) &&
        !equals_ignoring_case(settings_.tenant, claims.tenant))
        throw ConnectorError(source_.description() + " belongs to tenant " + claims.tenant + ", not " +
                             settings_.tenant + " (--tenant, AUTHGATE_TENANT or [tenant] id); a managed identity " +
                             "signs in to its own tenant only");
    if (is_guid(claims.tenant)) tenant_id_ = claims.tenant;
    roles_ = claims.roles;
    expires_ = issued.expires;
    token_ = std::move(issued.access_token);
    return *token_;
}

}  // namespace authgate
