// The sandbox's TLS identity: a private CA and a server certificate for localhost, 127.0.0.1
// and ::1, kept in --tls-dir so a client can trust DIR/ca.pem with ordinary verification.
#pragma once

#include <filesystem>

#include "clock.h"
#include "crypto.h"

namespace sandbox {

struct ServerCredential {
    CertificatePtr certificate;
    KeyPtr key;
    CertificatePtr authority;
};

// Reuses DIR/ca.pem, ca.key, server.pem and server.key when they are present and valid;
// otherwise generates what is missing (a new server certificate under an existing CA keeps the
// clients' trust anchor unchanged).
ServerCredential prepare_tls_directory(const std::filesystem::path& directory, Instant now);

}  // namespace sandbox
