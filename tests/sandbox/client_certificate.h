// `authgate-sandbox make-client-cert`: the app credential tests register with --app-cert and
// give the client, in the three forms a client may be configured with.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "clock.h"

namespace sandbox {

struct ClientCertificateOptions {
    std::filesystem::path out_dir;
    int days = 365;                      // notAfter = now + days (negative: already expired)
    std::optional<int> not_before_days;  // notBefore = now + days (positive: not yet valid)
    int rsa_bits = 2048;
    std::string common_name = "authgate-sandbox-client";
    std::string pfx_password;
};

struct ClientCertificateFiles {
    std::filesystem::path pem;  // certificate, then the PKCS#8 key; mode 0600
    std::filesystem::path crt;  // certificate only
    std::filesystem::path pfx;  // PKCS#12
    std::string sha1_hex;       // the thumbprint Entra prints
    std::string x5t;            // base64url of the 20 SHA-1 bytes
    std::string x5t_s256;       // base64url of the 32 SHA-256 bytes
    Instant not_before;
    Instant not_after;
};

// Throws std::invalid_argument for options that make no certificate (notAfter before notBefore,
// key sizes OpenSSL refuses).
ClientCertificateFiles make_client_certificate(const ClientCertificateOptions& options, Instant now);

}  // namespace sandbox
