#pragma once
// App-only certificate credentials: the certificate and its private key, loaded from PEM or
// PFX, and the signed JWT client assertion that proves them to Entra. The key never leaves
// this object; nothing here prints or logs it.
#include <memory>
#include <optional>
#include <string>

#include "connectors/connector.h"
#include "policies/time.h"

using EVP_PKEY = struct evp_pkey_st;
using X509 = struct x509_st;

namespace authgate {

enum class AssertionAlgorithm { ps256, rs256 };

class CredentialError : public ConnectorError {
public:
    using ConnectorError::ConnectorError;
};

class Credential {
public:
    // Loads a PEM file (certificate and private key, the key optionally encrypted) or a
    // .pfx/.p12 file. `password` decrypts the key or the PFX. Refuses, with a message naming the
    // file: a key file readable by group or others, a certificate not valid at `now`, a key that
    // does not match the certificate.
    static Credential load(const std::string& path, const std::optional<std::string>& password, Instant now);

    Credential(Credential&&) noexcept;
    Credential& operator=(Credential&&) noexcept;
    ~Credential();

    // base64url of the SHA-1 (x5t) and SHA-256 (x5t#S256) of the certificate's DER.
    const std::string& sha1_thumbprint() const { return sha1_thumbprint_; }
    const std::string& sha256_thumbprint() const { return sha256_thumbprint_; }
    // Upper-case hex SHA-1, as the Entra portal shows it, for messages.
    const std::string& portal_thumbprint() const { return portal_thumbprint_; }
    Instant not_after() const { return not_after_; }

    // A compact JWT: aud = token_url, iss = sub = app_id, a fresh jti, nbf = now,
    // exp = now + 10 minutes, signed with PS256 (x5t#S256) or RS256 (x5t).
    std::string client_assertion(const std::string& token_url, const std::string& app_id, Instant now,
                                 AssertionAlgorithm algorithm) const;

private:
    Credential() = default;

    EVP_PKEY* key_ = nullptr;
    X509* certificate_ = nullptr;
    std::string sha1_thumbprint_;
    std::string sha256_thumbprint_;
    std::string portal_thumbprint_;
    Instant not_after_{};
};

std::string base64url(const std::string& bytes);
std::string new_guid();  // a random (version 4) GUID

}  // namespace authgate
