// OpenSSL in the sandbox's terms: owning pointers, digests, base64url (the JWT alphabet, no
// padding), random identifiers, and errors that carry OpenSSL's own reason.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sandbox {

struct FreeKey {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct FreeCertificate {
    void operator()(X509* certificate) const { X509_free(certificate); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, FreeKey>;
using CertificatePtr = std::unique_ptr<X509, FreeCertificate>;

// Thrown when OpenSSL fails; the message ends with OpenSSL's error queue.
class OpenSslError : public std::runtime_error {
public:
    explicit OpenSslError(const std::string& what_failed);
};

// Digests return raw bytes in a std::string.
std::string sha1(std::string_view data);
std::string sha256(std::string_view data);
std::string hex_upper(std::string_view bytes);

std::string base64url_encode(std::string_view bytes);
// Strict: only the base64url alphabet, no '=' padding, no whitespace.
std::optional<std::string> base64url_decode(std::string_view text);

std::string random_bytes(size_t count);
std::string random_guid();  // version 4, lower case, as Exchange prints GUIDs

}  // namespace sandbox
