#pragma once
// Test credentials made in process: an RSA key and a self-signed certificate with chosen
// validity, written as PEM (certificate + key), encrypted PEM or PFX.
#include <string>

namespace authgate::testing {

struct TestCertificate {
    std::string certificate_pem;
    std::string key_pem;
    std::string encrypted_key_pem;  // PKCS#8, AES-256, password "secret"
    std::string pfx;                // password "secret"
};

// Which RSA key a certificate is for. Making one takes up to a second, so each is made once per
// test run (by CTest's fixture unit.test_keys) or else once per test program: `shared` for every
// certificate, `other` for a test that needs a second key.
enum class TestKey { shared, other };

// Valid from now + not_before_days to now + not_after_days.
TestCertificate make_certificate(int not_before_days = -1, int not_after_days = 30, TestKey key = TestKey::shared);

// Writes `content` to a fresh file under a temporary folder with the given mode; returns its path.
std::string write_temp_file(const std::string& name, const std::string& content, unsigned mode = 0600);

}  // namespace authgate::testing
