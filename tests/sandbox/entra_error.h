// Entra's token-endpoint errors: each check the sandbox makes maps to the AADSTS code and text
// Entra answers with, so a client's error handling meets the real codes. The README lists them.
#pragma once

#include <string>
#include <string_view>

#include "clock.h"
#include "http_message.h"

namespace sandbox {

struct EntraError {
    int http_status = 400;
    std::string error;    // the OAuth error: invalid_client, invalid_request, invalid_scope, ...
    int code = 0;         // the AADSTS number
    std::string message;  // the text after "AADSTSnnnnn: "
};

namespace entra {

EntraError post_only();                                                                              // 900561
EntraError missing_parameter(std::string_view name);                                                 // 900144
EntraError unsupported_grant_type(std::string_view grant_type);                                      // 70003
EntraError missing_client_credential();                                                              // 7000216
EntraError client_secret_not_accepted();                                                             // 7000215
EntraError tenant_not_found(std::string_view tenant);                                                // 90002
EntraError application_not_found(std::string_view app_id, std::string_view tenant);                  // 700016
EntraError invalid_scope(std::string_view scope);                                                    // 70011
EntraError malformed_assertion(std::string_view detail);                                             // 50027
EntraError invalid_thumbprint_encoding();                                                            // 50012
EntraError key_not_found(std::string_view thumbprint_hex, std::string_view app_id);                  // 700027
EntraError signature_mismatch(std::string_view thumbprint_hex, Instant key_start, Instant key_end);  // 700027
EntraError key_expired(std::string_view thumbprint_hex, Instant key_start, Instant key_end);         // 700027
EntraError key_not_yet_valid(std::string_view thumbprint_hex, Instant key_start, Instant key_end);   // 700027
EntraError application_mismatch();                                                                   // 700021
EntraError audience_mismatch();                                                                      // 700023
EntraError outside_time_range(Instant now, Instant valid_from, Instant expiry);                      // 700024
EntraError lifetime_too_long(Instant valid_from, Instant expiry);                                    // 700024
EntraError replayed_assertion(std::string_view jti);                                                 // 50027

// Workload identity federation: an assertion issued by another identity provider, matched
// against the app's federated identity credentials.
EntraError no_federated_record(std::string_view issuer, std::string_view subject, std::string_view audience);  // 70021
EntraError no_federated_issuer(std::string_view issuer);                                                       // 700211
EntraError no_federated_audience(std::string_view audience);                                                   // 700212
EntraError no_federated_subject(std::string_view subject);                                                     // 700213
EntraError federated_subject_case(std::string_view subject);                           // 7002138
EntraError federated_key_not_found(std::string_view key_id, std::string_view issuer);  // 7000272
EntraError federated_signature_invalid(std::string_view key_id);                       // 50013

// The error a token_error fault injects: the catalogue entry for a known code, else a generic
// invalid_client.
EntraError for_code(int code);

}  // namespace entra

// The JSON body Entra sends, with trace and correlation ids and the \r\n-separated trailer in
// error_description.
HttpResponse render_entra_error(const EntraError& error, Instant now, const std::string& correlation_id);

}  // namespace sandbox
