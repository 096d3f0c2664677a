#include "jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <memory>

#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

std::optional<value> json_object_of(const std::string& text) {
    try {
        value parsed = value::parse(text);
        if (parsed.is_object()) return parsed;
    } catch (const web::json::json_exception&) {
    }
    return std::nullopt;
}

std::string big_endian_parameter(EVP_PKEY* key, const char* name) {
    BIGNUM* number = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &number) != 1) throw OpenSslError("cannot read an RSA key parameter");
    std::string bytes(static_cast<size_t>(BN_num_bytes(number)), '\0');
    BN_bn2bin(number, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(number);
    return bytes;
}

}  // namespace

std::optional<DecodedJwt> decode_jwt(std::string_view compact, std::string& problem) {
    const std::vector<std::string> parts = split(compact, '.');
    if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
        problem = "The assertion is not a compact JWS of three base64url parts.";
        return std::nullopt;
    }
    const auto header = base64url_decode(parts[0]);
    const auto payload = base64url_decode(parts[1]);
    const auto signature = base64url_decode(parts[2]);
    if (!header || !payload || !signature) {
        problem = "A part of the assertion is not base64url without padding.";
        return std::nullopt;
    }
    auto header_json = json_object_of(*header);
    auto payload_json = json_object_of(*payload);
    if (!header_json || !payload_json) {
        problem = "The assertion header or payload is not a JSON object.";
        return std::nullopt;
    }
    return DecodedJwt{parts[0] + "." + parts[1], std::move(*header_json), std::move(*payload_json), *signature};
}

std::string sign_rs256(const value& header, const value& payload, EVP_PKEY* key) {
    const std::string input = base64url_encode(header.serialize()) + "." + base64url_encode(payload.serialize());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* key_context = nullptr;
    size_t size = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    if (!context || EVP_DigestSignInit(context.get(), &key_context, EVP_sha256(), nullptr, key) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PADDING) <= 0 ||
        EVP_DigestSign(context.get(), nullptr, &size, data, input.size()) != 1) {
        throw OpenSslError("cannot sign a token");
    }
    std::string signature(size, '\0');
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, data, input.size()) !=
        1) {
        throw OpenSslError("cannot sign a token");
    }
    signature.resize(size);
    return input + "." + base64url_encode(signature);
}

bool verify_rs256(EVP_PKEY* key, const DecodedJwt& jwt) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* key_context = nullptr;
    const bool verified =
        context && EVP_DigestVerifyInit(context.get(), &key_context, EVP_sha256(), nullptr, key) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PADDING) > 0 &&
        EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(jwt.signature.data()),
                         jwt.signature.size(), reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                         jwt.signing_input.size()) == 1;
    ERR_clear_error();  // a bad signature is an answer, not an error to report later
    return verified;
}

std::string rsa_modulus(EVP_PKEY* key) { return base64url_encode(big_endian_parameter(key, OSSL_PKEY_PARAM_RSA_N)); }

std::string rsa_exponent(EVP_PKEY* key) { return base64url_encode(big_endian_parameter(key, OSSL_PKEY_PARAM_RSA_E)); }

std::string jwk_thumbprint(EVP_PKEY* key) {
    // Members in lexical order, no white space (RFC 7638 section 3).
    return base64url_encode(
        sha256(R"({"e":")" + rsa_exponent(key) + R"(","kty":"RSA","n":")" + rsa_modulus(key) + R"("})"));
}

std::optional<std::string> jwt_string_claim(const value& object, const char* name) {
    if (!object.has_field(name) || !object.at(name).is_string()) return std::nullopt;
    return object.at(name).as_string();
}

std::optional<Instant> jwt_time_claim(const value& object, const char* name) {
    if (!object.has_field(name) || !object.at(name).is_number()) return std::nullopt;
    return from_unix_seconds(object.at(name).as_double());
}

int64_t unix_seconds(Instant when) {
    return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

}  // namespace sandbox
