#include "test_certificates.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace authgate::testing {
namespace {

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return text;
}

// The key made for this test run (AUTHGATE_TEST_KEYS/NAME.pem, by CTest's fixture unit.test_keys)
// when there is one, else a new one.
EVP_PKEY* made_key(const char* name) {
    if (const char* folder = std::getenv("AUTHGATE_TEST_KEYS")) {
        if (FILE* file = std::fopen((std::string(folder) + "/" + name + ".pem").c_str(), "r")) {
            EVP_PKEY* key = PEM_read_PrivateKey(file, nullptr, nullptr, nullptr);
            std::fclose(file);
            if (key) return key;
        }
    }
    return EVP_RSA_gen(2048);
}

// Made on first use and kept (still reachable) until the program ends.
EVP_PKEY* test_key(TestKey which) {
    static EVP_PKEY* const shared = made_key("shared");
    if (which == TestKey::shared) return shared;
    static EVP_PKEY* const other = made_key("other");
    return other;
}

}  // namespace

TestCertificate make_certificate(int not_before_days, int not_after_days, TestKey which) {
    EVP_PKEY* key = test_key(which);
    if (key == nullptr) throw std::runtime_error("cannot make a test RSA key");
    X509* certificate = X509_new();
    X509_set_version(certificate, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
    X509_gmtime_adj(X509_getm_notBefore(certificate), static_cast<long>(not_before_days) * 86400);
    X509_gmtime_adj(X509_getm_notAfter(certificate), static_cast<long>(not_after_days) * 86400);
    X509_set_pubkey(certificate, key);
    X509_NAME* name = X509_get_subject_name(certificate);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("authgate test"), -1,
                               -1, 0);
    X509_set_issuer_name(certificate, name);
    if (X509_sign(certificate, key, EVP_sha256()) == 0) throw std::runtime_error("cannot sign test certificate");

    TestCertificate result;
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, certificate);
    result.certificate_pem = bio_text(bio);
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    result.key_pem = bio_text(bio);
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(), nullptr, 0, nullptr, const_cast<char*>("secret"));
    result.encrypted_key_pem = bio_text(bio);
    PKCS12* pfx = PKCS12_create("secret", "authgate", key, certificate, nullptr, 0, 0, 0, 0, 0);
    bio = BIO_new(BIO_s_mem());
    i2d_PKCS12_bio(bio, pfx);
    result.pfx = bio_text(bio);
    PKCS12_free(pfx);
    X509_free(certificate);
    return result;
}

std::string write_temp_file(const std::string& name, const std::string& content, unsigned mode) {
    static int counter = 0;
    const auto folder = std::filesystem::temp_directory_path() /
                        ("authgate-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(folder);
    const auto path = folder / name;
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), mode);
    return path.string();
}

}  // namespace authgate::testing
