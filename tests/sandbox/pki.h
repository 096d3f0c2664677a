// Keys and X.509 certificates made in process with OpenSSL: the sandbox's own CA and TLS server
// certificate, and the client credentials tests register as the app's certificate.
#pragma once

#include <string>
#include <vector>

#include "clock.h"
#include "crypto.h"

namespace sandbox {

enum class CertificateUse { authority, tls_server, client };

struct CertificateSpec {
    std::string common_name;
    Instant not_before;
    Instant not_after;
    CertificateUse use = CertificateUse::client;
    std::vector<std::string> dns_names;
    std::vector<std::string> ip_addresses;
};

KeyPtr generate_ec_key();           // P-256: generated instantly; used for the CA and TLS server
KeyPtr generate_rsa_key(int bits);  // client certificates: PS256 and RS256 need RSA

// Signs with issuer_key; a null issuer makes the certificate self-signed.
CertificatePtr issue_certificate(const CertificateSpec& spec, EVP_PKEY* subject_key, X509* issuer,
                                 EVP_PKEY* issuer_key);

std::string certificate_pem(X509* certificate);
std::string certificate_der(X509* certificate);
std::string private_key_pem(EVP_PKEY* key);  // PKCS#8, unencrypted
std::string pkcs12_der(X509* certificate, EVP_PKEY* key, const std::string& password);

// The first certificate (or private key) in a PEM text; other blocks are skipped. Throws
// OpenSslError when there is none.
CertificatePtr read_certificate_pem(const std::string& pem, const std::string& source);
KeyPtr read_private_key_pem(const std::string& pem, const std::string& source);

Instant certificate_not_before(X509* certificate);
Instant certificate_not_after(X509* certificate);

}  // namespace sandbox
