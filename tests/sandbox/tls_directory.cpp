#include "tls_directory.h"

#include "files.h"
#include "pki.h"

namespace sandbox {

namespace {

using std::chrono::days;
using std::chrono::hours;

constexpr auto kBefore = days(1);
constexpr auto kLifetime = days(30);

struct FilePair {
    std::filesystem::path certificate;
    std::filesystem::path key;
    bool present() const { return std::filesystem::exists(certificate) && std::filesystem::exists(key); }
};

bool usable(X509* certificate, Instant now) {
    return certificate_not_before(certificate) <= now && certificate_not_after(certificate) > now + hours(1);
}

bool signed_by(X509* certificate, EVP_PKEY* authority_key) { return X509_verify(certificate, authority_key) == 1; }

void save(const FilePair& files, X509* certificate, EVP_PKEY* key) {
    write_file_atomically(files.key, private_key_pem(key), 0600);
    write_file_atomically(files.certificate, certificate_pem(certificate), 0644);
}

}  // namespace

ServerCredential prepare_tls_directory(const std::filesystem::path& directory, Instant now) {
    std::filesystem::create_directories(directory);
    const DirectoryLock lock(directory);
    const FilePair authority_files{directory / "ca.pem", directory / "ca.key"};
    const FilePair server_files{directory / "server.pem", directory / "server.key"};

    CertificatePtr authority;
    KeyPtr authority_key;
    if (authority_files.present()) {
        authority = read_certificate_pem(read_file(authority_files.certificate), authority_files.certificate.string());
        authority_key = read_private_key_pem(read_file(authority_files.key), authority_files.key.string());
    }
    if (!authority || !usable(authority.get(), now)) {
        authority_key = generate_ec_key();
        const CertificateSpec spec{
            "authgate sandbox CA", now - kBefore, now + kLifetime, CertificateUse::authority, {}, {}};
        authority = issue_certificate(spec, authority_key.get(), nullptr, authority_key.get());
        save(authority_files, authority.get(), authority_key.get());
    }

    ServerCredential credential;
    if (server_files.present()) {
        credential.certificate = read_certificate_pem(read_file(server_files.certificate),
                                                      server_files.certificate.string());
        credential.key = read_private_key_pem(read_file(server_files.key), server_files.key.string());
    }
    if (!credential.certificate || !usable(credential.certificate.get(), now) ||
        !signed_by(credential.certificate.get(), authority_key.get())) {
        credential.key = generate_ec_key();
        const CertificateSpec spec{"localhost",   now - kBefore,       now + kLifetime, CertificateUse::tls_server,
                                   {"localhost"}, {"127.0.0.1", "::1"}};
        credential.certificate = issue_certificate(spec, credential.key.get(), authority.get(), authority_key.get());
        save(server_files, credential.certificate.get(), credential.key.get());
    }
    credential.authority = std::move(authority);
    return credential;
}

}  // namespace sandbox
