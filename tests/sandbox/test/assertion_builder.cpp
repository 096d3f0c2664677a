#include "assertion_builder.h"

#include <openssl/rsa.h>

#include <stdexcept>

#include "pki.h"

namespace sandbox::test {

using web::json::value;

TestCredential make_credential(Instant not_before, Instant not_after) {
    TestCredential credential;
    credential.key = generate_rsa_key(1024);
    const CertificateSpec spec{"sandbox test app", not_before, not_after, CertificateUse::client, {}, {}};
    credential.certificate = issue_certificate(spec, credential.key.get(), nullptr, credential.key.get());
    return credential;
}

const TestCredential& app_credential() {
    static const TestCredential credential = make_credential(std::chrono::system_clock::now() - std::chrono::days(1),
                                                             std::chrono::system_clock::now() + std::chrono::days(365));
    return credential;
}

const TestCredential& stranger_credential() {
    static const TestCredential credential = make_credential(std::chrono::system_clock::now() - std::chrono::days(1),
                                                             std::chrono::system_clock::now() + std::chrono::days(365));
    return credential;
}

value standard_header(const TestCredential& credential, Algorithm algorithm) {
    const std::string der = certificate_der(credential.certificate.get());
    value header = value::object(true);
    header["alg"] = value::string(algorithm == Algorithm::ps256 ? "PS256" : "RS256");
    header["typ"] = value::string("JWT");
    if (algorithm == Algorithm::ps256) {
        header["x5t#S256"] = value::string(base64url_encode(sha256(der)));
    } else {
        header["x5t"] = value::string(base64url_encode(sha1(der)));
    }
    return header;
}

value standard_claims(const std::string& app_id, const std::string& audience, Instant now) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    value claims = value::object(true);
    claims["aud"] = value::string(audience);
    claims["iss"] = value::string(app_id);
    claims["sub"] = value::string(app_id);
    claims["jti"] = value::string(random_guid());
    claims["nbf"] = value::number(static_cast<int64_t>(seconds));
    claims["exp"] = value::number(static_cast<int64_t>(seconds + 300));
    claims["iat"] = value::number(static_cast<int64_t>(seconds));
    return claims;
}

std::string sign_assertion(const value& header, const value& claims, EVP_PKEY* key, Algorithm algorithm) {
    const std::string signing_input = base64url_encode(header.serialize()) + "." + base64url_encode(claims.serialize());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* key_context = nullptr;
    if (EVP_DigestSignInit(context.get(), &key_context, EVP_sha256(), nullptr, key) != 1)
        throw OpenSslError("sign init");
    if (algorithm == Algorithm::ps256) {
        if (EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, 32) <= 0 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(key_context, EVP_sha256()) <= 0) {
            throw OpenSslError("PSS parameters");
        }
    }
    size_t size = 0;
    const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
    if (EVP_DigestSign(context.get(), nullptr, &size, input, signing_input.size()) != 1)
        throw OpenSslError("sign size");
    std::string signature(size, '\0');
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, input,
                       signing_input.size()) != 1) {
        throw OpenSslError("sign");
    }
    signature.resize(size);
    return signing_input + "." + base64url_encode(signature);
}

}  // namespace sandbox::test
