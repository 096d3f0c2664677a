#include "client_assertion.h"

#include <cpprest/json.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <variant>

#include "files.h"
#include "jwt.h"
#include "pki.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

// Splits and decodes the compact form; the error names what is wrong.
std::variant<DecodedJwt, EntraError> decode(std::string_view assertion) {
    std::string problem;
    auto decoded = decode_jwt(assertion, problem);
    if (!decoded) return entra::malformed_assertion(problem);
    return std::move(*decoded);
}

bool signature_matches(X509* certificate, const DecodedJwt& jwt, bool pss) {
    EVP_PKEY* key = X509_get0_pubkey(certificate);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* key_context = nullptr;
    bool matches = context && EVP_DigestVerifyInit(context.get(), &key_context, EVP_sha256(), nullptr, key) == 1;
    if (matches && pss) {
        matches = EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) > 0 &&
                  EVP_PKEY_CTX_set_rsa_mgf1_md(key_context, EVP_sha256()) > 0 &&
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, 32) > 0;
    } else if (matches) {
        matches = EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PADDING) > 0;
    }
    matches = matches &&
              EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(jwt.signature.data()),
                               jwt.signature.size(), reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                               jwt.signing_input.size()) == 1;
    ERR_clear_error();  // a bad signature is an answer, not an error to report later
    return matches;
}

std::optional<std::string> string_claim(const value& payload, const char* name) {
    if (!payload.has_field(name) || !payload.at(name).is_string()) return std::nullopt;
    return payload.at(name).as_string();
}

std::optional<Instant> time_claim(const value& payload, const char* name) {
    if (!payload.has_field(name) || !payload.at(name).is_number()) return std::nullopt;
    return from_unix_seconds(payload.at(name).as_double());
}

}  // namespace

RegisteredCertificate register_certificate(CertificatePtr certificate, std::string source) {
    if (EVP_PKEY_get_base_id(X509_get0_pubkey(certificate.get())) != EVP_PKEY_RSA) {
        throw std::runtime_error(source + " does not hold an RSA certificate; Entra assertions are signed with RSA");
    }
    const std::string der = certificate_der(certificate.get());
    RegisteredCertificate registered;
    registered.source = std::move(source);
    registered.sha1 = sha1(der);
    registered.sha256 = sha256(der);
    registered.not_before = certificate_not_before(certificate.get());
    registered.not_after = certificate_not_after(certificate.get());
    registered.certificate = std::move(certificate);
    return registered;
}

RegisteredCertificate load_registered_certificate(const std::filesystem::path& path) {
    return register_certificate(read_certificate_pem(read_file(path), path.string()), path.string());
}

ClientAssertionVerifier::ClientAssertionVerifier(std::vector<RegisteredCertificate> certificates, PssPolicy pss_policy)
    : certificates_(std::move(certificates)), pss_policy_(pss_policy) {}

const RegisteredCertificate* ClientAssertionVerifier::find(std::string_view thumbprint) const {
    for (const auto& certificate : certificates_) {
        if (certificate.sha1 == thumbprint || certificate.sha256 == thumbprint) return &certificate;
    }
    return nullptr;
}

bool ClientAssertionVerifier::names_registered_certificate(const web::json::value& header) const {
    for (const char* field : {"x5t", "x5t#S256"}) {
        const auto encoded = string_claim(header, field);
        const auto thumbprint = encoded ? base64url_decode(*encoded) : std::nullopt;
        if (thumbprint && find(*thumbprint) != nullptr) return true;
    }
    return false;
}

void ClientAssertionVerifier::forget_expired_jtis(Instant now) {
    std::erase_if(used_jtis_, [now](const auto& entry) { return entry.second < now; });
}

std::optional<EntraError> ClientAssertionVerifier::verify(std::string_view assertion,
                                                          const AssertionExpectations& expected) {
    auto decoded = decode(assertion);
    if (auto* error = std::get_if<EntraError>(&decoded)) return *error;
    const DecodedJwt& jwt = std::get<DecodedJwt>(decoded);

    // The header: which algorithm, and which registered key by its thumbprint.
    const auto algorithm = string_claim(jwt.header, "alg");
    if (algorithm != "PS256" && algorithm != "RS256") {
        return entra::malformed_assertion("The signing algorithm must be PS256 or RS256.");
    }
    const bool pss = algorithm == "PS256";
    const char* thumbprint_field = pss ? "x5t#S256" : "x5t";
    const auto encoded_thumbprint = string_claim(jwt.header, thumbprint_field);
    if (!encoded_thumbprint) {
        return entra::malformed_assertion("No certificate thumbprint specified in token header ('" +
                                          std::string(thumbprint_field) + "' for " + *algorithm + ").");
    }
    const auto thumbprint = base64url_decode(*encoded_thumbprint);
    if (!thumbprint || thumbprint->size() != (pss ? 32u : 20u)) return entra::invalid_thumbprint_encoding();
    const std::string thumbprint_hex = hex_upper(*thumbprint);
    const RegisteredCertificate* key = find(*thumbprint);
    // A tenant that knows only x5t finds no key for an x5t#S256 thumbprint: that is the failure
    // --reject-pss reproduces.
    if (key == nullptr || (pss && pss_policy_ == PssPolicy::rs256_only)) {
        return entra::key_not_found(thumbprint_hex, expected.client_id);
    }
    if (expected.now < key->not_before)
        return entra::key_not_yet_valid(thumbprint_hex, key->not_before, key->not_after);
    if (expected.now >= key->not_after) return entra::key_expired(thumbprint_hex, key->not_before, key->not_after);
    if (!signature_matches(key->certificate.get(), jwt, pss)) {
        return entra::signature_mismatch(thumbprint_hex, key->not_before, key->not_after);
    }

    // The claims, only once the signature proves who wrote them.
    const auto audience = string_claim(jwt.payload, "aud");
    const auto issuer = string_claim(jwt.payload, "iss");
    const auto subject = string_claim(jwt.payload, "sub");
    const auto jti = string_claim(jwt.payload, "jti");
    const auto not_before = time_claim(jwt.payload, "nbf");
    const auto expiry = time_claim(jwt.payload, "exp");
    if (!audience || !issuer || !subject || !jti || jti->empty()) {
        return entra::malformed_assertion("The claims aud, iss, sub and jti must be present as strings.");
    }
    if (!not_before || !expiry || (jwt.payload.has_field("iat") && !jwt.payload.at("iat").is_number())) {
        return entra::malformed_assertion("The claims nbf and exp must be present as numbers (seconds since 1970), and "
                                          "iat too if sent.");
    }
    if (!iequals(*issuer, expected.client_id) || !iequals(*subject, expected.client_id)) {
        return entra::application_mismatch();
    }
    if (std::find(expected.audiences.begin(), expected.audiences.end(), *audience) == expected.audiences.end()) {
        return entra::audience_mismatch();
    }
    if (*not_before > expected.now + kClockSkew || *expiry <= expected.now) {
        return entra::outside_time_range(expected.now, *not_before, *expiry);
    }
    if (*expiry - *not_before > kMaximumLifetime) return entra::lifetime_too_long(*not_before, *expiry);

    forget_expired_jtis(expected.now);
    if (!used_jtis_.emplace(*jti, *expiry).second) return entra::replayed_assertion(*jti);
    accepted_jtis_.push_back(*jti);
    return std::nullopt;
}

}  // namespace sandbox
