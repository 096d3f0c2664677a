#include "connectors/managed_identity.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <system_error>

#include <cpprest/json.h>

#include "policies/files.h"
#include "policies/printable.h"

namespace authgate {
namespace {

constexpr const char* imds_base = "http://169.254.169.254";
constexpr const char* imds_path = "/metadata/identity/oauth2/token";
constexpr std::uintmax_t arc_key_limit = 4096;  // as the Azure SDKs allow

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string with_query(const std::string& url, const std::string& query) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

std::string first_line(const std::string& text) {
    const std::size_t end = text.find_first_of("\r\n");
    return end == std::string::npos ? text : text.substr(0, end);
}

std::string host_name(IdentityHost host) {
    switch (host) {
        case IdentityHost::app_service: return "the App Service, Functions or Container Apps identity endpoint";
        case IdentityHost::azure_arc: return "the Azure Arc identity endpoint";
        case IdentityHost::imds: break;
    }
    return "the instance metadata service (IMDS)";
}

// The query member naming a user-assigned identity at `host`.
std::string selector(IdentityHost host, const UserAssignedIdentity& identity) {
    switch (identity.by) {
        case UserAssignedIdentity::By::client_id: return "client_id";
        case UserAssignedIdentity::By::object_id:
            return host == IdentityHost::app_service ? "principal_id" : "object_id";
        case UserAssignedIdentity::By::resource_id:
            return host == IdentityHost::app_service ? "mi_res_id" : "msi_res_id";
    }
    return "client_id";
}

std::string identity_name(const UserAssignedIdentity& identity) {
    switch (identity.by) {
        case UserAssignedIdentity::By::client_id: return "client id " + identity.id;
        case UserAssignedIdentity::By::object_id: return "object id " + identity.id;
        case UserAssignedIdentity::By::resource_id: return "resource id " + identity.id;
    }
    return identity.id;
}

// A whole number as a JSON number or a string of digits (the identity endpoints send strings).
std::optional<long long> whole_number(const web::json::value& json) {
    if (json.is_number() && json.as_number().is_int64()) return json.as_number().to_int64();
    if (!json.is_string()) return std::nullopt;
    const std::string& text = json.as_string();
    long long number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return number;
}

// expires_on: seconds since 1970 (a number or digits), or an RFC 3339 time.
std::optional<Instant> instant_of(const web::json::value& json) {
    if (const auto seconds = whole_number(json)) return Instant{std::chrono::seconds{*seconds}};
    if (json.is_string()) return parse_instant(json.as_string());
    return std::nullopt;
}

std::string quoted(const web::json::value& json) {
    const std::string text = printable(json.serialize());
    return text.size() > 60 ? text.substr(0, 60) + "…" : text;
}

// The realm of "Basic realm=/var/opt/azcmagent/tokens/x.key" (quoted or not); empty when none.
std::string realm_of(const std::string& challenge) {
    const std::string folded = lower(challenge);
    const std::size_t at = folded.find("realm=");
    if (folded.rfind("basic", 0) != 0 || at == std::string::npos) return {};
    std::string realm = challenge.substr(at + 6);
    realm = realm.substr(0, realm.find(','));
    while (!realm.empty() && std::isspace(static_cast<unsigned char>(realm.back()))) realm.pop_back();
    if (realm.size() >= 2 && realm.front() == '"' && realm.back() == '"') realm = realm.substr(1, realm.size() - 2);
    return realm;
}

bool retried(IdentityHost host, int status) {
    if (status == 429 || status >= 500) return true;
    return host == IdentityHost::imds && (status == 404 || status == 410);
}

}  // namespace

ManagedIdentity::ManagedIdentity(HttpTransport& http, Environment environment,
                                 std::optional<UserAssignedIdentity> identity, RetrySleep sleep)
    : http_(http), environment_(std::move(environment)), identity_(std::move(identity)), sleep_(std::move(sleep)) {
    const auto endpoint = environment_("IDENTITY_ENDPOINT");
    if (endpoint && environment_("IDENTITY_HEADER")) {
        host_ = IdentityHost::app_service;
        url_ = *endpoint;
    } else if (endpoint && environment_("IMDS_ENDPOINT")) {
        host_ = IdentityHost::azure_arc;
        url_ = *endpoint;
    } else if (endpoint) {
        throw ConnectorError("managed identity: IDENTITY_ENDPOINT is set (" + host_part(*endpoint) +
                             "), but neither IDENTITY_HEADER (App Service, Functions, Container Apps) nor "
                             "IMDS_ENDPOINT (Azure Arc): authgate cannot tell which identity endpoint it is");
    } else {
        host_ = IdentityHost::imds;
        url_ = trim_slash(environment_("AZURE_POD_IDENTITY_AUTHORITY_HOST").value_or(imds_base)) + imds_path;
    }
    if (identity_origin_of(url_).empty())
        throw ConnectorError("managed identity: refusing " + host_name(host_) + " at " + host_part(url_) +
                             ": it must be https://, or http:// on this machine (127.0.0.0/8, ::1, localhost) or "
                             "169.254.169.254, without a user name or password");
    if (identity_ && host_ == IdentityHost::azure_arc)
        throw ConnectorError("managed identity: Azure Arc gives a server only its system-assigned identity; the "
                             "user-assigned one with " +
                             identity_name(*identity_) + " cannot be used here");
}

std::string ManagedIdentity::endpoint(const TokenSettings&) const { return url_.substr(0, url_.find('?')); }

std::string ManagedIdentity::description() const {
    return (identity_ ? "the user-assigned managed identity with " + identity_name(*identity_)
                      : std::string("the system-assigned managed identity")) +
           " (" + host_name(host_) + " at " + host_part(url_) + ")";
}

std::string ManagedIdentity::failed() const {
    return "managed identity: the token request to " + host_name(host_) + " at " + endpoint({}) + " failed: ";
}

HttpRequest ManagedIdentity::first_request(const std::string& resource) const {
    std::string query;
    switch (host_) {
        case IdentityHost::app_service:
            query = "resource=" + percent_encode(resource) + "&api-version=2019-08-01";
            break;
        case IdentityHost::azure_arc: query = "api-version=2020-06-01&resource=" + percent_encode(resource); break;
        case IdentityHost::imds: query = "api-version=2018-02-01&resource=" + percent_encode(resource); break;
    }
    if (identity_) query += "&" + selector(host_, *identity_) + "=" + percent_encode(identity_->id);
    HttpRequest request{with_query(url_, query), {}, ""};
    request.method = "GET";
    request.identity_endpoint = true;
    if (host_ == IdentityHost::app_service) {
        // Read for every request: the platform rotates it.
        const auto header = environment_("IDENTITY_HEADER");
        if (!header) throw ConnectorError(failed() + "IDENTITY_HEADER is no longer set");
        request.headers["X-IDENTITY-HEADER"] = *header;
    } else {
        request.headers["Metadata"] = "true";
    }
    return request;
}

HttpResponse ManagedIdentity::send(const HttpRequest& request, int& requests) {
    static constexpr std::chrono::seconds waits[] = {std::chrono::seconds{2}, std::chrono::seconds{6},
                                                     std::chrono::seconds{14}, std::chrono::seconds{30},
                                                     std::chrono::seconds{30}};
    for (std::size_t attempt = 0;; ++attempt) {
        HttpResponse response;
        ++requests;
        try {
            response = http_.post(request);
        } catch (const TransportError& error) {
            std::string message = failed() + error.what();
            if (host_ == IdentityHost::imds)
                message += "\n  what to check: IMDS answers on Azure virtual machines and scale sets only; App "
                           "Service, Functions and Container Apps set IDENTITY_ENDPOINT and IDENTITY_HEADER, an "
                           "Azure Arc server IDENTITY_ENDPOINT and IMDS_ENDPOINT; elsewhere choose another "
                           "--credential";
            throw ConnectorError(message);
        }
        // Four retries (five attempts); IMDS's 410 once more, to pass the 70 s it may take.
        const std::size_t retries = response.status == 410 ? 5 : 4;
        if (!retried(host_, response.status) || attempt >= retries) return response;
        if (sleep_) sleep_(std::chrono::duration_cast<std::chrono::milliseconds>(waits[attempt]));
    }
}

std::string ManagedIdentity::arc_secret(const HttpResponse& challenge) const {
    const std::string realm = realm_of(challenge.header("www-authenticate"));
    if (realm.empty())
        throw ConnectorError(failed() +
                             "HTTP 401 without a WWW-Authenticate: Basic realm= naming the agent's key file");
    const std::string directory = environment_("AUTHGATE_ARC_TOKEN_DIR").value_or(arc_token_directory);
    const std::string refused = failed() + "the challenge names the key file " + printable(realm) +
                                ", which authgate does not read: ";
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::path file(realm);
    if (!file.is_absolute()) throw ConnectorError(refused + "it is not an absolute path");
    const fs::path real_directory = fs::canonical(directory, error);
    if (error) throw ConnectorError(refused + "the agent's key directory " + directory + ": " + error.message());
    const fs::path real_file = fs::canonical(file, error);
    if (error) {
        std::string message = failed() + "cannot read the key file " + printable(realm) + ": " + error.message();
        if (error == std::errc::permission_denied)
            message += "\n  what to check: the user running authgate must be in the himds group (or root)";
        throw ConnectorError(message);
    }
    if (real_file.parent_path() != real_directory)
        throw ConnectorError(refused + "it is not in the agent's key directory " + directory);
    if (file.extension() != ".key" || real_file.extension() != ".key")
        throw ConnectorError(refused + "its name does not end in .key");
    const auto status = fs::status(real_file, error);
    if (error || !fs::is_regular_file(status)) throw ConnectorError(refused + "it is not a regular file");
    const std::uintmax_t size = fs::file_size(real_file, error);
    if (error || size > arc_key_limit)
        throw ConnectorError(refused + "it is larger than " + std::to_string(arc_key_limit) + " bytes");
    std::string secret;
    try {
        secret = read_file(real_file.string());
    } catch (const FileError& file_error) {
        std::string message = failed() + "cannot read the key file " + printable(realm) + ": " + file_error.reason();
        if (file_error.reason().find("ermission") != std::string::npos)
            message += "\n  what to check: the user running authgate must be in the himds group (or root)";
        throw ConnectorError(message);
    }
    while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) secret.pop_back();
    if (secret.empty()) throw ConnectorError(refused + "it is empty");
    return secret;
}

IssuedToken ManagedIdentity::issue(const TokenSettings& settings, Instant now, int& requests) {
    const std::string resource = token_audience(settings);
    HttpRequest request = first_request(resource);
    HttpResponse response = send(request, requests);
    if (host_ == IdentityHost::azure_arc && response.status == 401) {
        request.headers["Authorization"] = "Basic " + arc_secret(response);
        response = send(request, requests);
    }

    IssuedToken issued;
    if (const std::string date = response.header("date"); !date.empty()) {
        std::tm parts{};
        if (strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S", &parts))
            issued.server_date = Instant{std::chrono::seconds{timegm(&parts)}};
    }
    if (const std::string redirect = response.redirect(); !redirect.empty())
        throw ConnectorError(failed() + "the answer was " + redirect + ", which authgate never follows");
    web::json::value body;
    try {
        body = web::json::value::parse(response.body);
    } catch (const web::json::json_exception&) {
        const std::string type = response.header("content-type");
        throw ConnectorError(failed() + "HTTP " + std::to_string(response.status) + " with a body that is not JSON" +
                             (type.empty() ? "" : " (" + printable(type) + ")"));
    }
    if (response.status == 200 && body.has_string_field("access_token") &&
        !body.at("access_token").as_string().empty()) {
        constexpr auto year = std::chrono::seconds{365LL * 24 * 3600};
        std::optional<Instant> expires;
        if (body.has_field("expires_in") && !body.at("expires_in").is_null()) {
            const auto seconds = whole_number(body.at("expires_in"));
            if (!seconds || *seconds < 0 || std::chrono::seconds{*seconds} > year)
                throw ConnectorError(failed() + "the answer's expires_in is " + quoted(body.at("expires_in")) +
                                     ", not a whole number of seconds from 0 to a year");
            expires = now + std::chrono::seconds{*seconds};
        }
        if (body.has_field("expires_on") && !body.at("expires_on").is_null()) {
            const auto on = instant_of(body.at("expires_on"));
            if (!on || *on < now - std::chrono::hours{24} || *on > now + year)
                throw ConnectorError(failed() + "the answer's expires_on is " + quoted(body.at("expires_on")) +
                                     ", not a time within a year from now (seconds since 1970, or RFC 3339)");
            expires = expires ? std::min(*expires, *on) : *on;
        }
        issued.expires = expires.value_or(now + std::chrono::seconds{3599});
        issued.access_token = body.at("access_token").as_string();
        return issued;
    }
    if (response.status == 200) throw ConnectorError(failed() + "HTTP 200 without an access_token in the answer");

    const std::string error = body.has_string_field("error") ? body.at("error").as_string() : "";
    std::string said = body.has_string_field("error_description")
                           ? first_line(body.at("error_description").as_string())
                           : (body.has_string_field("message") ? first_line(body.at("message").as_string()) : "");
    if (said.size() > 300) said = said.substr(0, 300) + "…";
    std::string message = failed() + "HTTP " + std::to_string(response.status) +
                          (error.empty() ? "" : ": " + printable(error)) + (said.empty() ? "" : ": " + printable(said));
    std::string advice;
    if (error == "invalid_resource")
        advice = "the resource " + resource +
                 " is not known in the identity's tenant: check the Exchange and Graph endpoints and [tenant] cloud";
    else if (host_ == IdentityHost::app_service && (response.status == 401 || response.status == 403))
        advice = "the endpoint refused X-IDENTITY-HEADER: IDENTITY_HEADER must be the platform's current value";
    else if (host_ == IdentityHost::azure_arc && response.status == 401)
        advice = "the Azure Arc agent refused the key file's secret: retry; check the agent (azcmagent show)";
    else if (response.status == 400 || response.status == 404)
        advice = identity_ ? "the user-assigned identity with " + identity_name(*identity_) +
                                 " must be assigned to this resource"
                           : "this resource needs a system-assigned identity (Identity → System assigned → On), or "
                             "name a user-assigned one with --managed-identity-client-id";
    if (!advice.empty()) message += "\n  what to check: " + advice;
    throw ConnectorError(message);
}

}  // namespace authgate
