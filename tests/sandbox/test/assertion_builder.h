// Test-side client assertions: the JWTs a well-behaved (or deliberately broken) client sends to
// the token endpoint. Written from the wire facts, independently of the verifier under test.
#pragma once

#include <cpprest/json.h>

#include <string>

#include "clock.h"
#include "crypto.h"

namespace sandbox::test {

struct TestCredential {
    CertificatePtr certificate;
    KeyPtr key;
};

// Self-signed RSA credentials. 1024-bit keys keep test processes fast; the verifier does not
// care about key size.
TestCredential make_credential(Instant not_before, Instant not_after);
const TestCredential& app_credential();       // valid from yesterday for a year; registered in the fixture
const TestCredential& stranger_credential();  // never registered

enum class Algorithm { ps256, rs256 };

// {"alg":…,"typ":"JWT","x5t#S256" or "x5t":…} for the credential's certificate.
web::json::value standard_header(const TestCredential& credential, Algorithm algorithm);
// aud, iss, sub, jti (fresh), nbf = now, exp = now + 5 minutes, iat = now.
web::json::value standard_claims(const std::string& app_id, const std::string& audience, Instant now);

// header.payload.signature, signed with `key` the way `algorithm` says.
std::string sign_assertion(const web::json::value& header, const web::json::value& claims, EVP_PKEY* key,
                           Algorithm algorithm);

}  // namespace sandbox::test
