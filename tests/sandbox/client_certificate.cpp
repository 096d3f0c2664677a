#include "client_certificate.h"

#include <algorithm>
#include <stdexcept>

#include "files.h"
#include "pki.h"

namespace sandbox {

ClientCertificateFiles make_client_certificate(const ClientCertificateOptions& options, Instant now) {
    using std::chrono::days;
    if (options.rsa_bits < 1024 || options.rsa_bits > 16384) {
        throw std::invalid_argument("--rsa-bits must be between 1024 and 16384");
    }
    ClientCertificateFiles files;
    files.not_after = now + days(options.days);
    // Without --not-before-days the certificate starts now, or a day before an expiry in the past,
    // so that `--days -1` alone makes an expired certificate.
    files.not_before = options.not_before_days ? now + days(*options.not_before_days)
                                               : std::min(now, files.not_after - days(1));
    if (files.not_after <= files.not_before) {
        throw std::invalid_argument(
            "the certificate would expire (now + --days) before it starts (now + --not-before-days)");
    }

    const KeyPtr key = generate_rsa_key(options.rsa_bits);
    const CertificateSpec spec{options.common_name, files.not_before, files.not_after, CertificateUse::client, {}, {}};
    const CertificatePtr certificate = issue_certificate(spec, key.get(), nullptr, key.get());

    std::filesystem::create_directories(options.out_dir);
    files.pem = options.out_dir / "client.pem";
    files.crt = options.out_dir / "client.crt";
    files.pfx = options.out_dir / "client.pfx";
    const std::string certificate_text = certificate_pem(certificate.get());
    write_file_atomically(files.pem, certificate_text + private_key_pem(key.get()), 0600);
    write_file_atomically(files.crt, certificate_text, 0644);
    write_file_atomically(files.pfx, pkcs12_der(certificate.get(), key.get(), options.pfx_password), 0600);

    const std::string der = certificate_der(certificate.get());
    files.sha1_hex = hex_upper(sha1(der));
    files.x5t = base64url_encode(sha1(der));
    files.x5t_s256 = base64url_encode(sha256(der));
    return files;
}

}  // namespace sandbox
