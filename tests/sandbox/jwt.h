// Compact JWS as the sandbox reads and writes it: splitting and decoding (for client assertions
// and platform tokens alike), RS256 signing and verifying, and an RSA key as a JWK.
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <string>
#include <string_view>

#include "clock.h"
#include "crypto.h"

namespace sandbox {

struct DecodedJwt {
    std::string signing_input;  // "header.payload" exactly as sent
    web::json::value header;
    web::json::value payload;
    std::string signature;  // raw bytes
};

// nullopt with `problem` set when the text is not three non-empty base64url parts whose first two
// are JSON objects; `problem` then says which.
std::optional<DecodedJwt> decode_jwt(std::string_view compact, std::string& problem);

// header.payload.signature with RSASSA-PKCS1-v1_5 SHA-256 (RS256).
std::string sign_rs256(const web::json::value& header, const web::json::value& payload, EVP_PKEY* key);
bool verify_rs256(EVP_PKEY* key, const DecodedJwt& jwt);

// {"kty":"RSA","e":…,"n":…} members of an RSA public key (base64url, big-endian).
std::string rsa_modulus(EVP_PKEY* key);
std::string rsa_exponent(EVP_PKEY* key);
// The RFC 7638 thumbprint of the key (base64url SHA-256 of its canonical JWK): a stable kid.
std::string jwk_thumbprint(EVP_PKEY* key);

// A claim as a string or a number of seconds since 1970; nullopt when absent or of another type.
std::optional<std::string> jwt_string_claim(const web::json::value& object, const char* name);
std::optional<Instant> jwt_time_claim(const web::json::value& object, const char* name);
int64_t unix_seconds(Instant when);

}  // namespace sandbox
