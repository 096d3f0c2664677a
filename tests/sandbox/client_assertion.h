// Verifies the client assertion (RFC 7523 JWT) an app presents at the token endpoint, the way
// Entra does for certificate credentials: thumbprint lookup, PS256 or RS256 signature, then the
// claims. Returns the Entra error for the first check that fails.
#pragma once

#include <cpprest/json.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.h"
#include "crypto.h"
#include "entra_error.h"

namespace sandbox {

// A public certificate uploaded to the app registration (--app-cert).
struct RegisteredCertificate {
    std::string source;  // where it was read from, for messages
    CertificatePtr certificate;
    std::string sha1;    // raw digest of the DER: what x5t carries
    std::string sha256;  // raw digest of the DER: what x5t#S256 carries
    Instant not_before;
    Instant not_after;
};

// Reads the first certificate of a PEM file (a key in the same file is ignored). Throws
// std::runtime_error when there is none or its key is not RSA.
RegisteredCertificate load_registered_certificate(const std::filesystem::path& path);
RegisteredCertificate register_certificate(CertificatePtr certificate, std::string source);

// Whether the tenant accepts PS256 assertions; `rs256_only` simulates a tenant that answers
// AADSTS700027 to PS256 so clients exercise their RS256 fallback (--reject-pss).
enum class PssPolicy { accept, rs256_only };

struct AssertionExpectations {
    std::string client_id;
    std::vector<std::string> audiences;  // the token URLs the client may have addressed
    Instant now;
};

class ClientAssertionVerifier {
public:
    static constexpr std::chrono::seconds kClockSkew{300};
    static constexpr std::chrono::seconds kMaximumLifetime{600};

    ClientAssertionVerifier(std::vector<RegisteredCertificate> certificates, PssPolicy pss_policy);

    // nullopt when the assertion is good; its jti is then remembered until it expires, and a
    // second use is refused.
    std::optional<EntraError> verify(std::string_view assertion, const AssertionExpectations& expected);
    // Whether the header's x5t or x5t#S256 is the thumbprint of a registered certificate: an
    // assertion that names one is the app's own, whatever its iss says.
    bool names_registered_certificate(const web::json::value& header) const;
    // The jti of every assertion accepted, in order (never forgotten, unlike the replay check's).
    const std::vector<std::string>& accepted_jtis() const { return accepted_jtis_; }

private:
    const RegisteredCertificate* find(std::string_view thumbprint) const;
    void forget_expired_jtis(Instant now);

    std::vector<RegisteredCertificate> certificates_;
    PssPolicy pss_policy_;
    std::map<std::string, Instant> used_jtis_;  // jti -> when it may be forgotten
    std::vector<std::string> accepted_jtis_;
};

}  // namespace sandbox
