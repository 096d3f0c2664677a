#include "connectors/credentials.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <cpprest/json.h>

#include "policies/files.h"

namespace authgate {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Pkcs12 = std::unique_ptr<PKCS12, Deleter<PKCS12, PKCS12_free>>;
using DigestContext = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

// OpenSSL's own reason, without its queue of internals.
std::string openssl_reason() {
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) return "unknown reason";
    const char* reason = ERR_reason_error_string(code);
    return reason ? reason : "unknown reason";
}

std::string read_certificate_file(const std::string& path) {
    try {
        return read_file(path);
    } catch (const FileError& error) {
        throw CredentialError("cannot read certificate file " + path + ": " + error.reason());
    }
}

// A private key that others can read is a key others may have copied.
void check_permissions(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        throw CredentialError("cannot read certificate file " + path + ": " + std::strerror(errno));
    if (info.st_mode & (S_IRWXG | S_IRWXO)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
        throw CredentialError("the private key in " + path + " is readable by group or others (mode " + mode +
                              "); run: chmod 600 " + path);
    }
}

bool is_pfx(const std::string& path) {
    const auto dot = path.rfind('.');
    if (dot == std::string::npos) return false;
    std::string extension = path.substr(dot);
    for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return extension == ".pfx" || extension == ".p12";
}

int password_callback(char* buffer, int size, int, void* user) {
    const auto* password = static_cast<const std::optional<std::string>*>(user);
    if (!*password) return -1;  // encrypted, and no password: fail instead of prompting
    const int length = static_cast<int>(std::min<std::size_t>((*password)->size(), static_cast<std::size_t>(size)));
    std::memcpy(buffer, (*password)->data(), static_cast<std::size_t>(length));
    return length;
}

Instant asn1_instant(const ASN1_TIME* time) {
    std::tm parts{};
    ASN1_TIME_to_tm(time, &parts);
    return Instant{std::chrono::seconds{timegm(&parts)}};
}

std::string digest(X509* certificate, const EVP_MD* md) {
    unsigned char bytes[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    X509_digest(certificate, md, bytes, &size);
    return std::string(reinterpret_cast<const char*>(bytes), size);
}

std::string upper_hex(const std::string& bytes) {
    static const char digits[] = "0123456789ABCDEF";
    std::string text;
    for (unsigned char b : bytes) {
        text += digits[b >> 4];
        text += digits[b & 15];
    }
    return text;
}

std::string serialize(const web::json::value& value) { return value.serialize(); }

}  // namespace

std::string base64url(const std::string& bytes) {
    std::string encoded(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                       reinterpret_cast<const unsigned char*>(bytes.data()),
                                       static_cast<int>(bytes.size()));
    encoded.resize(static_cast<std::size_t>(length));
    while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
    for (char& c : encoded) {
        if (c == '+') c = '-';
        else if (c == '/') c = '_';
    }
    return encoded;
}

std::string new_guid() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw CredentialError("no randomness available: " + openssl_reason());
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
    static const char digits[] = "0123456789abcdef";
    std::string text;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
        text += digits[bytes[i] >> 4];
        text += digits[bytes[i] & 15];
    }
    return text;
}

Credential Credential::load(const std::string& path, const std::optional<std::string>& password, Instant now) {
    check_permissions(path);
    const std::string content = read_certificate_file(path);
    Bio bio(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    Credential credential;

    if (is_pfx(path)) {
        Pkcs12 pfx(d2i_PKCS12_bio(bio.get(), nullptr));
        if (!pfx) throw CredentialError(path + " is not a PFX/PKCS#12 file: " + openssl_reason());
        if (!PKCS12_parse(pfx.get(), password ? password->c_str() : "", &credential.key_, &credential.certificate_,
                          nullptr))
            throw CredentialError("cannot open " + path + ": " + openssl_reason() +
                                  " (is the password in the variable named by certificate_password_env right?)");
    } else {
        credential.certificate_ = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (!credential.certificate_) throw CredentialError(path + " holds no PEM certificate: " + openssl_reason());
        Bio key_bio(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
        auto* user = const_cast<std::optional<std::string>*>(&password);
        credential.key_ = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, password_callback, user);
        if (!credential.key_)
            throw CredentialError(path + " holds no usable private key: " + openssl_reason() +
                                  (password ? ""
                                            : " (an encrypted key needs its password in the variable named by "
                                              "certificate_password_env)"));
    }
    if (!credential.key_ || !credential.certificate_)
        throw CredentialError(path + " must hold both the certificate and its private key");
    if (EVP_PKEY_get_base_id(credential.key_) != EVP_PKEY_RSA)
        throw CredentialError("the key in " + path + " is not an RSA key; Entra client assertions need RSA");
    if (EVP_PKEY_eq(X509_get0_pubkey(credential.certificate_), credential.key_) != 1)
        throw CredentialError("the private key in " + path + " does not match its certificate");

    const Instant not_before = asn1_instant(X509_get0_notBefore(credential.certificate_));
    credential.not_after_ = asn1_instant(X509_get0_notAfter(credential.certificate_));
    if (now < not_before)
        throw CredentialError("the certificate in " + path + " is not valid before " + format_instant(not_before));
    if (now >= credential.not_after_)
        throw CredentialError("the certificate in " + path + " expired " + format_instant(credential.not_after_) +
                              "; make a new one and upload it to the app registration");

    const std::string sha1 = digest(credential.certificate_, EVP_sha1());
    credential.sha1_thumbprint_ = base64url(sha1);
    credential.sha256_thumbprint_ = base64url(digest(credential.certificate_, EVP_sha256()));
    credential.portal_thumbprint_ = upper_hex(sha1);
    return credential;
}

Credential::Credential(Credential&& other) noexcept { *this = std::move(other); }

Credential& Credential::operator=(Credential&& other) noexcept {
    std::swap(key_, other.key_);
    std::swap(certificate_, other.certificate_);
    sha1_thumbprint_ = std::move(other.sha1_thumbprint_);
    sha256_thumbprint_ = std::move(other.sha256_thumbprint_);
    portal_thumbprint_ = std::move(other.portal_thumbprint_);
    not_after_ = other.not_after_;
    return *this;
}

Credential::~Credential() {
    EVP_PKEY_free(key_);
    X509_free(certificate_);
}

std::string Credential::client_assertion(const std::string& token_url, const std::string& app_id, Instant now,
                                         AssertionAlgorithm algorithm) const {
    using web::json::value;
    const bool pss = algorithm == AssertionAlgorithm::ps256;
    value header = value::object(true);
    header["alg"] = value::string(pss ? "PS256" : "RS256");
    header["typ"] = value::string("JWT");
    header[pss ? "x5t#S256" : "x5t"] = value::string(pss ? sha256_thumbprint_ : sha1_thumbprint_);

    const auto seconds = now.time_since_epoch().count();
    value claims = value::object(true);
    claims["aud"] = value::string(token_url);
    claims["iss"] = value::string(app_id);
    claims["sub"] = value::string(app_id);
    claims["jti"] = value::string(new_guid());
    claims["nbf"] = value::number(static_cast<int64_t>(seconds));
    claims["iat"] = value::number(static_cast<int64_t>(seconds));
    claims["exp"] = value::number(static_cast<int64_t>(seconds + 600));

    const std::string signing_input = base64url(serialize(header)) + "." + base64url(serialize(claims));
    DigestContext context(EVP_MD_CTX_new());
    EVP_PKEY_CTX* key_context = nullptr;
    std::size_t size = 0;
    bool ok = EVP_DigestSignInit(context.get(), &key_context, EVP_sha256(), nullptr, key_) == 1;
    if (ok && pss) {
        ok = EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, 32) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(key_context, EVP_sha256()) == 1;
    }
    ok = ok && EVP_DigestSign(context.get(), nullptr, &size,
                              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
    std::string signature(size, '\0');
    ok = ok && EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
    if (!ok) throw CredentialError("cannot sign the client assertion: " + openssl_reason());
    signature.resize(size);
    return signing_input + "." + base64url(signature);
}

}  // namespace authgate
