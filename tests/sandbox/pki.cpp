#include "pki.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <functional>

namespace sandbox {

namespace {

struct FreeBio {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, FreeBio>;

std::string drain(BIO* bio) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<size_t>(size));
}

BioPtr memory_bio() { return BioPtr(BIO_new(BIO_s_mem())); }

BioPtr reading_bio(const std::string& text) {
    return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

KeyPtr generate_key(const char* algorithm, const std::function<bool(EVP_PKEY_CTX*)>& configure) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr), EVP_PKEY_CTX_free);
    EVP_PKEY* key = nullptr;
    if (!context || EVP_PKEY_keygen_init(context.get()) <= 0 || !configure(context.get()) ||
        EVP_PKEY_keygen(context.get(), &key) <= 0) {
        throw OpenSslError(std::string("cannot generate an ") + algorithm + " key");
    }
    return KeyPtr(key);
}

void add_extension(X509* certificate, X509V3_CTX& context, int nid, const std::string& value) {
    X509_EXTENSION* extension = X509V3_EXT_nconf_nid(nullptr, &context, nid, value.c_str());
    if (extension == nullptr || X509_add_ext(certificate, extension, -1) != 1) {
        X509_EXTENSION_free(extension);
        throw OpenSslError("cannot add certificate extension " + value);
    }
    X509_EXTENSION_free(extension);
}

void set_time(ASN1_TIME* field, Instant when) {
    if (ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(when)) == nullptr) {
        throw OpenSslError("cannot set a certificate validity time");
    }
}

Instant read_time(const ASN1_TIME* field) {
    std::tm parts{};
    if (ASN1_TIME_to_tm(field, &parts) != 1) throw OpenSslError("cannot read a certificate validity time");
    return std::chrono::system_clock::from_time_t(timegm(&parts));
}

void set_random_serial(X509* certificate) {
    std::string bytes = random_bytes(16);
    bytes[0] = static_cast<char>(bytes[0] & 0x7f);  // serials are positive
    std::unique_ptr<BIGNUM, decltype(&BN_free)> number(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                                                                 static_cast<int>(bytes.size()), nullptr),
                                                       BN_free);
    if (!number || BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(certificate)) == nullptr) {
        throw OpenSslError("cannot set a certificate serial number");
    }
}

std::string subject_alternative_names(const CertificateSpec& spec) {
    std::string names;
    for (const auto& dns : spec.dns_names) names += (names.empty() ? "DNS:" : ",DNS:") + dns;
    for (const auto& ip : spec.ip_addresses) names += (names.empty() ? "IP:" : ",IP:") + ip;
    return names;
}

}  // namespace

KeyPtr generate_ec_key() {
    return generate_key("EC", [](EVP_PKEY_CTX* context) {
        return EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context, NID_X9_62_prime256v1) > 0;
    });
}

KeyPtr generate_rsa_key(int bits) {
    return generate_key("RSA",
                        [bits](EVP_PKEY_CTX* context) { return EVP_PKEY_CTX_set_rsa_keygen_bits(context, bits) > 0; });
}

CertificatePtr issue_certificate(const CertificateSpec& spec, EVP_PKEY* subject_key, X509* issuer,
                                 EVP_PKEY* issuer_key) {
    CertificatePtr certificate(X509_new());
    if (!certificate || X509_set_version(certificate.get(), 2) != 1) throw OpenSslError("cannot create a certificate");
    set_random_serial(certificate.get());
    set_time(X509_getm_notBefore(certificate.get()), spec.not_before);
    set_time(X509_getm_notAfter(certificate.get()), spec.not_after);

    X509_NAME* subject = X509_get_subject_name(certificate.get());
    if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0) != 1 ||
        X509_set_issuer_name(certificate.get(), issuer ? X509_get_subject_name(issuer) : subject) != 1 ||
        X509_set_pubkey(certificate.get(), subject_key) != 1) {
        throw OpenSslError("cannot fill in certificate " + spec.common_name);
    }

    X509V3_CTX context;
    X509V3_set_ctx(&context, issuer ? issuer : certificate.get(), certificate.get(), nullptr, nullptr, 0);
    add_extension(certificate.get(), context, NID_subject_key_identifier, "hash");
    add_extension(certificate.get(), context, NID_authority_key_identifier, "keyid:always");
    switch (spec.use) {
        case CertificateUse::authority:
            add_extension(certificate.get(), context, NID_basic_constraints, "critical,CA:TRUE");
            add_extension(certificate.get(), context, NID_key_usage, "critical,keyCertSign,cRLSign");
            break;
        case CertificateUse::tls_server:
            add_extension(certificate.get(), context, NID_basic_constraints, "critical,CA:FALSE");
            add_extension(certificate.get(), context, NID_key_usage, "critical,digitalSignature,keyEncipherment");
            add_extension(certificate.get(), context, NID_ext_key_usage, "serverAuth");
            break;
        case CertificateUse::client:
            add_extension(certificate.get(), context, NID_basic_constraints, "critical,CA:FALSE");
            add_extension(certificate.get(), context, NID_key_usage, "critical,digitalSignature,keyEncipherment");
            add_extension(certificate.get(), context, NID_ext_key_usage, "clientAuth");
            break;
    }
    if (const std::string names = subject_alternative_names(spec); !names.empty()) {
        add_extension(certificate.get(), context, NID_subject_alt_name, names);
    }
    if (X509_sign(certificate.get(), issuer_key, EVP_sha256()) <= 0) {
        throw OpenSslError("cannot sign certificate " + spec.common_name);
    }
    return certificate;
}

std::string certificate_pem(X509* certificate) {
    const BioPtr bio = memory_bio();
    if (PEM_write_bio_X509(bio.get(), certificate) != 1) throw OpenSslError("cannot write a certificate as PEM");
    return drain(bio.get());
}

std::string certificate_der(X509* certificate) {
    unsigned char* der = nullptr;
    const int size = i2d_X509(certificate, &der);
    if (size <= 0) throw OpenSslError("cannot encode a certificate as DER");
    std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(size));
    OPENSSL_free(der);
    return bytes;
}

std::string private_key_pem(EVP_PKEY* key) {
    const BioPtr bio = memory_bio();
    if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw OpenSslError("cannot write a private key as PKCS#8 PEM");
    }
    return drain(bio.get());
}

std::string pkcs12_der(X509* certificate, EVP_PKEY* key, const std::string& password) {
    std::unique_ptr<PKCS12, decltype(&PKCS12_free)> bundle(PKCS12_create(password.c_str(), "authgate sandbox client",
                                                                         key, certificate, nullptr, 0, 0, 0, 0, 0),
                                                           PKCS12_free);
    const BioPtr bio = memory_bio();
    if (!bundle || i2d_PKCS12_bio(bio.get(), bundle.get()) != 1) throw OpenSslError("cannot create a PKCS#12 file");
    return drain(bio.get());
}

CertificatePtr read_certificate_pem(const std::string& pem, const std::string& source) {
    const BioPtr bio = reading_bio(pem);
    CertificatePtr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!certificate) throw OpenSslError("no PEM certificate in " + source);
    return certificate;
}

KeyPtr read_private_key_pem(const std::string& pem, const std::string& source) {
    const BioPtr bio = reading_bio(pem);
    KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) throw OpenSslError("no PEM private key in " + source);
    return key;
}

Instant certificate_not_before(X509* certificate) { return read_time(X509_get0_notBefore(certificate)); }
Instant certificate_not_after(X509* certificate) { return read_time(X509_get0_notAfter(certificate)); }

}  // namespace sandbox
