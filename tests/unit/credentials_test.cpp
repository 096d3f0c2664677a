#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cpprest/json.h>

#include "connectors/credentials.h"
#include "test_certificates.h"

using namespace authgate;
using namespace authgate::testing;

namespace {

const Instant now = now_utc();

std::string base64url_decode(std::string text) {
    for (char& c : text) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (text.size() % 4) text += '=';
    std::string bytes(text.size(), '\0');
    const int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
    bytes.resize(static_cast<std::size_t>(size) - std::count(text.end() - 2, text.end(), '='));
    return bytes;
}

std::vector<std::string> split(const std::string& jwt) {
    std::vector<std::string> parts;
    std::size_t start = 0, dot;
    while ((dot = jwt.find('.', start)) != std::string::npos) {
        parts.push_back(jwt.substr(start, dot - start));
        start = dot + 1;
    }
    parts.push_back(jwt.substr(start));
    return parts;
}

bool verifies(const std::string& certificate_pem, const std::string& jwt, bool pss) {
    BIO* bio = BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size()));
    X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    const auto parts = split(jwt);
    const std::string input = parts[0] + "." + parts[1];
    const std::string signature = base64url_decode(parts[2]);
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    EVP_PKEY_CTX* key_context = nullptr;
    EVP_DigestVerifyInit(context, &key_context, EVP_sha256(), nullptr, X509_get0_pubkey(certificate));
    if (pss) {
        EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, 32);
    }
    const bool ok = EVP_DigestVerify(context, reinterpret_cast<const unsigned char*>(signature.data()),
                                     signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                                     input.size()) == 1;
    EVP_MD_CTX_free(context);
    X509_free(certificate);
    return ok;
}

std::string load_error(const std::string& path, const std::optional<std::string>& password = std::nullopt) {
    try {
        Credential::load(path, password, now);
    } catch (const CredentialError& error) {
        return error.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a PEM with certificate and key loads and signs PS256 and RS256 assertions", "[credentials]") {
    static const TestCertificate test = make_certificate();
    const std::string path = write_temp_file("app.pem", test.certificate_pem + test.key_pem);
    const Credential credential = Credential::load(path, std::nullopt, now);
    CHECK(credential.sha1_thumbprint().size() == 27);    // 20 raw bytes, base64url without padding
    CHECK(credential.sha256_thumbprint().size() == 43);  // 32 raw bytes
    CHECK(credential.portal_thumbprint().size() == 40);

    const std::string url = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
    const std::string app = "6f1c0e2a-0000-4000-8000-000000000001";
    for (const bool pss : {true, false}) {
        const std::string jwt =
            credential.client_assertion(url, app, now, pss ? AssertionAlgorithm::ps256 : AssertionAlgorithm::rs256);
        const auto parts = split(jwt);
        REQUIRE(parts.size() == 3);
        const auto header = web::json::value::parse(base64url_decode(parts[0]));
        const auto claims = web::json::value::parse(base64url_decode(parts[1]));
        CHECK(header.at("alg").as_string() == (pss ? "PS256" : "RS256"));
        CHECK(header.at("typ").as_string() == "JWT");
        if (pss) CHECK(header.at("x5t#S256").as_string() == credential.sha256_thumbprint());
        else CHECK(header.at("x5t").as_string() == credential.sha1_thumbprint());
        CHECK(claims.at("aud").as_string() == url);
        CHECK(claims.at("iss").as_string() == app);
        CHECK(claims.at("sub").as_string() == app);
        CHECK(claims.at("nbf").as_number().to_int64() == now.time_since_epoch().count());
        CHECK(claims.at("exp").as_number().to_int64() == now.time_since_epoch().count() + 600);
        CHECK(claims.at("jti").as_string().size() == 36);
        CHECK(jwt.find('=') == std::string::npos);
        CHECK(verifies(test.certificate_pem, jwt, pss));
        CHECK_FALSE(verifies(test.certificate_pem, jwt, !pss));
    }
    const auto jti = [&](const std::string& jwt) {
        return web::json::value::parse(base64url_decode(split(jwt)[1])).at("jti").as_string();
    };
    CHECK(jti(credential.client_assertion(url, app, now, AssertionAlgorithm::ps256)) !=
          jti(credential.client_assertion(url, app, now, AssertionAlgorithm::ps256)));
}

TEST_CASE("PFX files and encrypted keys open with their password", "[credentials]") {
    static const TestCertificate test = make_certificate();
    const std::string pfx = write_temp_file("app.pfx", test.pfx);
    const Credential from_pfx = Credential::load(pfx, std::string("secret"), now);
    const std::string pem = write_temp_file("app.pem", test.certificate_pem + test.encrypted_key_pem);
    const Credential from_pem = Credential::load(pem, std::string("secret"), now);
    CHECK(from_pfx.sha256_thumbprint() == from_pem.sha256_thumbprint());
    CHECK_THAT(load_error(pfx, std::string("wrong")), Catch::StartsWith("cannot open " + pfx + ": "));
    CHECK_THAT(load_error(pem), Catch::EndsWith("(an encrypted key needs its password in the variable named by "
                                                "certificate_password_env)"));
}

TEST_CASE("unsafe or unusable credentials are refused with a clear message", "[credentials]") {
    static const TestCertificate good = make_certificate();
    SECTION("a key file readable by others") {
        const std::string path = write_temp_file("app.pem", good.certificate_pem + good.key_pem, 0644);
        CHECK(load_error(path) ==
              "the private key in " + path + " is readable by group or others (mode 0644); run: chmod 600 " + path);
    }
    SECTION("an expired certificate") {
        const TestCertificate expired = make_certificate(-30, -1);
        const std::string path = write_temp_file("app.pem", expired.certificate_pem + expired.key_pem);
        CHECK_THAT(load_error(path), Catch::StartsWith("the certificate in " + path + " expired ") &&
                                         Catch::EndsWith("; make a new one and upload it to the app registration"));
    }
    SECTION("a certificate not yet valid") {
        const TestCertificate future = make_certificate(2, 30);
        const std::string path = write_temp_file("app.pem", future.certificate_pem + future.key_pem);
        CHECK_THAT(load_error(path), Catch::StartsWith("the certificate in " + path + " is not valid before "));
    }
    SECTION("a key that does not match the certificate") {
        const TestCertificate other = make_certificate(-1, 30, TestKey::other);
        const std::string path = write_temp_file("app.pem", good.certificate_pem + other.key_pem);
        CHECK(load_error(path) == "the private key in " + path + " does not match its certificate");
    }
    SECTION("a certificate without its key") {
        const std::string path = write_temp_file("app.pem", good.certificate_pem);
        CHECK_THAT(load_error(path), Catch::StartsWith(path + " holds no usable private key"));
    }
    SECTION("a missing file") {
        CHECK(load_error("/nonexistent/app.pem") ==
              "cannot read certificate file /nonexistent/app.pem: No such file or directory");
    }
}
