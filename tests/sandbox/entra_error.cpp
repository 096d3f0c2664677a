#include "entra_error.h"

#include "crypto.h"

namespace sandbox {

namespace entra {

namespace {

constexpr const char* kCertificateDocs =
    " Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .";

EntraError invalid_client(int code, std::string message) { return {401, "invalid_client", code, std::move(message)}; }
EntraError invalid_request(int code, std::string message) { return {400, "invalid_request", code, std::move(message)}; }

std::string found_key(std::string_view thumbprint_hex, Instant key_start, Instant key_end) {
    return ", Thumbprint of key used by client: '" + std::string(thumbprint_hex) +
           "', Found key 'Start=" + us_date_time(key_start) + ", End=" + us_date_time(key_end) + "'";
}

}  // namespace

EntraError post_only() {
    return invalid_request(900561, "The endpoint only accepts POST requests. Received a GET request.");
}

EntraError missing_parameter(std::string_view name) {
    return invalid_request(900144,
                           "The request body must contain the following parameter: '" + std::string(name) + "'.");
}

EntraError unsupported_grant_type(std::string_view grant_type) {
    return {400, "unsupported_grant_type", 70003,
            "The app requested an unsupported grant type '" + std::string(grant_type) + "'."};
}

EntraError missing_client_credential() {
    return invalid_client(7000216,
                          "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' "
                          "grant type.");
}

EntraError client_secret_not_accepted() {
    return invalid_client(7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the "
                                   "client secret value, not the client secret ID, for a secret added to app.");
}

EntraError tenant_not_found(std::string_view tenant) {
    return invalid_request(90002, "Tenant '" + std::string(tenant) +
                                      "' not found. Check to make sure you have the correct tenant ID and are signing "
                                      "into the correct cloud.");
}

EntraError application_not_found(std::string_view app_id, std::string_view tenant) {
    return {400, "unauthorized_client", 700016,
            "Application with identifier '" + std::string(app_id) + "' was not found in the directory '" +
                std::string(tenant) +
                "'. This can happen if the application has not been installed by the administrator of the tenant or "
                "consented to by any user in the tenant. You may have sent your authentication request to the wrong "
                "tenant."};
}

EntraError invalid_scope(std::string_view scope) {
    return {400, "invalid_scope", 70011,
            "The provided value for the input parameter 'scope' is not valid. The scope " + std::string(scope) +
                " is not valid."};
}

EntraError malformed_assertion(std::string_view detail) {
    return invalid_client(50027, "JWT token is invalid or malformed. " + std::string(detail));
}

EntraError invalid_thumbprint_encoding() {
    return invalid_client(50012, "Client assertion contains an invalid signature. The certificate thumbprint in the "
                                 "token header is not the base64url encoding of a SHA-1 or SHA-256 digest.");
}

EntraError key_not_found(std::string_view thumbprint_hex, std::string_view app_id) {
    return invalid_client(700027,
                          "Client assertion contains an invalid signature. [Reason - The key was not found., "
                          "Thumbprint of key used by client: '" +
                              std::string(thumbprint_hex) +
                              "', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
                              "configured keys for app Id '" +
                              std::string(app_id) + "'.]");
}

EntraError signature_mismatch(std::string_view thumbprint_hex, Instant key_start, Instant key_end) {
    return invalid_client(700027, "Client assertion contains an invalid signature. [Reason - The provided signature "
                                  "value did not match the expected signature value." +
                                      found_key(thumbprint_hex, key_start, key_end) + "]");
}

EntraError key_expired(std::string_view thumbprint_hex, Instant key_start, Instant key_end) {
    return invalid_client(700027, "Client assertion contains an invalid signature. [Reason - The key used is expired." +
                                      found_key(thumbprint_hex, key_start, key_end) + "]");
}

EntraError key_not_yet_valid(std::string_view thumbprint_hex, Instant key_start, Instant key_end) {
    return invalid_client(700027,
                          "Client assertion contains an invalid signature. [Reason - The key is not yet valid." +
                              found_key(thumbprint_hex, key_start, key_end) + "]");
}

EntraError application_mismatch() {
    return invalid_client(700021, "Client assertion application identifier doesn't match 'client_id' parameter." +
                                      std::string(kCertificateDocs));
}

EntraError audience_mismatch() {
    return invalid_client(700023, "Client assertion audience claim does not match Realm issuer." +
                                      std::string(kCertificateDocs));
}

EntraError outside_time_range(Instant now, Instant valid_from, Instant expiry) {
    return invalid_client(700024, "Client assertion is not within its valid time range. Current time: " +
                                      rfc3339_precise(now) + ", assertion valid from " + rfc3339_precise(valid_from) +
                                      ", expiry time of assertion " + rfc3339_precise(expiry) + "." + kCertificateDocs);
}

EntraError lifetime_too_long(Instant valid_from, Instant expiry) {
    return invalid_client(700024, "Client assertion is not within its valid time range. The assertion is valid from " +
                                      rfc3339_precise(valid_from) + " to " + rfc3339_precise(expiry) +
                                      ", longer than the 10 minutes allowed." + kCertificateDocs);
}

EntraError replayed_assertion(std::string_view jti) {
    return malformed_assertion("The client assertion with jti '" + std::string(jti) +
                               "' has already been used; every assertion needs a fresh jti.");
}

namespace {

constexpr const char* kFederationDocs = " https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

}  // namespace

EntraError no_federated_record(std::string_view issuer, std::string_view subject, std::string_view audience) {
    return invalid_request(70021, "No matching federated identity record found for presented assertion. Assertion "
                                  "Issuer: '" +
                                      std::string(issuer) + "'. Assertion Subject: '" + std::string(subject) +
                                      "'. Assertion Audience: '" + std::string(audience) + "'." + kFederationDocs);
}

EntraError no_federated_issuer(std::string_view issuer) {
    return invalid_client(700211, "No matching federated identity record found for presented assertion issuer '" +
                                      std::string(issuer) +
                                      "'. Please check your federated identity credential Subject, Audience and "
                                      "Issuer against the presented assertion." +
                                      kFederationDocs);
}

EntraError no_federated_audience(std::string_view audience) {
    return invalid_client(700212, "No matching federated identity record found for presented assertion audience '" +
                                      std::string(audience) +
                                      "'. Please check your federated identity credential Subject, Audience and "
                                      "Issuer against the presented assertion." +
                                      kFederationDocs);
}

EntraError no_federated_subject(std::string_view subject) {
    return invalid_client(700213, "No matching federated identity record found for presented assertion subject '" +
                                      std::string(subject) +
                                      "'. Check your federated identity credential Subject, Audience and Issuer "
                                      "against the presented assertion." +
                                      kFederationDocs);
}

EntraError federated_subject_case(std::string_view subject) {
    return invalid_client(7002138,
                          "No matching federated identity record found for presented assertion subject '" +
                              std::string(subject) +
                              "'. The subject matches with case-insensitive comparison, but not with case-sensitive "
                              "comparison. Check your federated identity credential Subject, Audience and Issuer "
                              "against the presented assertion. See documentation at:" +
                              kFederationDocs + ".");
}

EntraError federated_key_not_found(std::string_view key_id, std::string_view issuer) {
    return invalid_client(7000272, "The certificate with identifier " + std::string(key_id) +
                                       " used to sign the federated credential could not be found in the metadata of "
                                       "identity provider " +
                                       std::string(issuer) +
                                       ". Please validate that your Identity Provider's metadata exposes the key used "
                                       "to sign the incoming token.");
}

EntraError federated_signature_invalid(std::string_view key_id) {
    return invalid_client(50013,
                          "Assertion failed signature validation. [Reason - The provided signature value did not "
                          "match the expected signature value., Thumbprint of key used by client: '" +
                              std::string(key_id) + "']");
}

EntraError for_code(int code) {
    const Instant epoch{};
    switch (code) {
        case 900144: return missing_parameter("client_assertion");
        case 90002: return tenant_not_found("(injected)");
        case 700016: return application_not_found("(injected)", "(injected)");
        case 70011: return invalid_scope("(injected)");
        case 50027: return malformed_assertion("(injected by the token_error fault)");
        case 50012: return invalid_thumbprint_encoding();
        case 700027: return key_not_found("(injected)", "(injected)");
        case 700021: return application_mismatch();
        case 700023: return audience_mismatch();
        case 700024: return outside_time_range(epoch, epoch, epoch);
        case 70021: return no_federated_record("(injected)", "(injected)", "api://AzureADTokenExchange");
        case 700211: return no_federated_issuer("(injected)");
        case 700212: return no_federated_audience("(injected)");
        case 700213: return no_federated_subject("(injected)");
        case 7002138: return federated_subject_case("(injected)");
        case 7000272: return federated_key_not_found("(injected)", "(injected)");
        case 50013: return federated_signature_invalid("(injected)");
        default: return invalid_client(code, "Injected by the sandbox's token_error fault.");
    }
}

}  // namespace entra

HttpResponse render_entra_error(const EntraError& error, Instant now, const std::string& correlation_id) {
    const std::string trace_id = random_guid();
    const std::string code = std::to_string(error.code);
    web::json::value body = web::json::value::object(true);
    body["error"] = web::json::value::string(error.error);
    body["error_description"] =
        web::json::value::string("AADSTS" + code + ": " + error.message + "\r\nTrace ID: " + trace_id +
                                 "\r\nCorrelation ID: " + correlation_id + "\r\nTimestamp: " + entra_timestamp(now));
    body["error_codes"] = web::json::value::array({web::json::value::number(error.code)});
    body["timestamp"] = web::json::value::string(entra_timestamp(now));
    body["trace_id"] = web::json::value::string(trace_id);
    body["correlation_id"] = web::json::value::string(correlation_id);
    body["error_uri"] = web::json::value::string("https://login.microsoftonline.com/error?code=" + code);
    HttpResponse response = HttpResponse::json(error.http_status, body);
    response.headers.set("Cache-Control", "no-store, no-cache");
    response.headers.set("x-ms-request-id", trace_id);
    return response;
}

}  // namespace sandbox
