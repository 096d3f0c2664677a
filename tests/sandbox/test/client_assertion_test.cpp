// The client assertion verifier: the checks Entra makes of a certificate credential, each with
// the AADSTS code the README promises.
#include "client_assertion.h"

#include <catch2/catch.hpp>
#include <functional>

#include "assertion_builder.h"
#include "pki.h"
#include "sandbox_fixture.h"

namespace sandbox::test {
namespace {

using web::json::value;

const std::string kAudience = kTokenUrl;

ClientAssertionVerifier verifier(PssPolicy pss = PssPolicy::accept) {
    std::vector<RegisteredCertificate> certificates;
    certificates.push_back(
        register_certificate(CertificatePtr(X509_dup(app_credential().certificate.get())), "test app"));
    return ClientAssertionVerifier(std::move(certificates), pss);
}

AssertionExpectations expectations(Instant now) {
    return {kAppId, {kAudience, "https://localhost:8443/contoso.onmicrosoft.com/oauth2/v2.0/token"}, now};
}

// The AADSTS code the verifier answers, or 0 for an accepted assertion.
int code_of(const std::optional<EntraError>& error) { return error ? error->code : 0; }

struct Variation {
    const char* behaviour;
    Algorithm algorithm;
    std::function<void(value& header, value& claims, Instant now)> change;
    int expected_code;
};

std::string certificate_der_of_app() { return certificate_der(app_credential().certificate.get()); }

std::int64_t seconds(Instant when) {
    return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

}  // namespace

TEST_CASE("client assertions are accepted or refused with Entra's codes") {
    const Instant now = std::chrono::system_clock::now();
    const std::vector<Variation> variations = {
        {"a PS256 assertion signed by the registered certificate is accepted", Algorithm::ps256,
         [](value&, value&, Instant) {}, 0},
        {"an RS256 assertion with the SHA-1 x5t is accepted", Algorithm::rs256, [](value&, value&, Instant) {}, 0},
        {"the localhost spelling of the token URL is an accepted audience", Algorithm::ps256,
         [](value&, value& claims, Instant) {
             claims["aud"] = value::string("https://localhost:8443/contoso.onmicrosoft.com/oauth2/v2.0/token");
         },
         0},
        {"an audience other than the token URL is AADSTS700023", Algorithm::ps256,
         [](value&, value& claims, Instant) {
             claims["aud"] =
                 value::string("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
         },
         700023},
        {"an issuer other than the app is AADSTS700021", Algorithm::ps256,
         [](value&, value& claims, Instant) { claims["iss"] = value::string("someone-else"); }, 700021},
        {"a subject other than the app is AADSTS700021", Algorithm::rs256,
         [](value&, value& claims, Instant) { claims["sub"] = value::string("someone-else"); }, 700021},
        {"an expired assertion is AADSTS700024", Algorithm::ps256,
         [](value&, value& claims, Instant at) {
             claims["nbf"] = value::number(seconds(at) - 400);
             claims["exp"] = value::number(seconds(at) - 1);
         },
         700024},
        {"an assertion starting beyond the five-minute skew is AADSTS700024", Algorithm::ps256,
         [](value&, value& claims, Instant at) {
             claims["nbf"] = value::number(seconds(at) + 301);
             claims["exp"] = value::number(seconds(at) + 600);
         },
         700024},
        {"an assertion starting within the skew is accepted", Algorithm::ps256,
         [](value&, value& claims, Instant at) {
             claims["nbf"] = value::number(seconds(at) + 120);
             claims["exp"] = value::number(seconds(at) + 600);
         },
         0},
        {"an assertion valid for exactly ten minutes is accepted", Algorithm::ps256,
         [](value&, value& claims, Instant at) { claims["exp"] = value::number(seconds(at) + 600); }, 0},
        {"an assertion valid for longer than ten minutes is AADSTS700024", Algorithm::ps256,
         [](value&, value& claims, Instant at) { claims["exp"] = value::number(seconds(at) + 601); }, 700024},
        {"exp written as a string is AADSTS50027", Algorithm::ps256,
         [](value&, value& claims, Instant at) { claims["exp"] = value::string(std::to_string(seconds(at) + 300)); },
         50027},
        {"a missing jti is AADSTS50027", Algorithm::ps256, [](value&, value& claims, Instant) { claims.erase("jti"); },
         50027},
        {"a PS256 header without x5t#S256 is AADSTS50027", Algorithm::ps256,
         [](value& header, value&, Instant) { header.erase("x5t#S256"); }, 50027},
        {"RS256 with only x5t#S256 is AADSTS50027", Algorithm::rs256,
         [](value& header, value&, Instant) {
             header.erase("x5t");
             header["x5t#S256"] = value::string(base64url_encode(sha256(certificate_der_of_app())));
         },
         50027},
        {"an x5t carrying the hex thumbprint text is AADSTS50012", Algorithm::rs256,
         [](value& header, value&, Instant) {
             header["x5t"] = value::string(base64url_encode(hex_upper(sha1(certificate_der_of_app()))));
         },
         50012},
        {"a thumbprint of an unregistered certificate is AADSTS700027", Algorithm::rs256,
         [](value& header, value&, Instant) { header["x5t"] = value::string(base64url_encode(std::string(20, 'x'))); },
         700027},
        {"HS256 is AADSTS50027", Algorithm::ps256,
         [](value& header, value&, Instant) { header["alg"] = value::string("HS256"); }, 50027},
    };
    for (const auto& variation : variations) {
        SECTION(variation.behaviour) {
            value header = standard_header(app_credential(), variation.algorithm);
            value claims = standard_claims(kAppId, kAudience, now);
            variation.change(header, claims, now);
            auto checker = verifier();
            const std::string assertion = sign_assertion(header, claims, app_credential().key.get(),
                                                         variation.algorithm);
            CHECK(code_of(checker.verify(assertion, expectations(now))) == variation.expected_code);
        }
    }
}

TEST_CASE("an assertion signed with a key other than the registered one is refused as a signature mismatch") {
    const Instant now = std::chrono::system_clock::now();
    auto checker = verifier();
    for (const Algorithm algorithm : {Algorithm::ps256, Algorithm::rs256}) {
        const std::string assertion = sign_assertion(standard_header(app_credential(), algorithm),
                                                     standard_claims(kAppId, kAudience, now),
                                                     stranger_credential().key.get(), algorithm);
        const auto error = checker.verify(assertion, expectations(now));
        REQUIRE(error);
        CHECK(error->code == 700027);
        CHECK(error->http_status == 401);
        CHECK(error->error == "invalid_client");
        CHECK_THAT(error->message,
                   Catch::Contains("The provided signature value did not match the expected signature value"));
    }
}

TEST_CASE("a PS256 signature presented as RS256 does not verify") {
    const Instant now = std::chrono::system_clock::now();
    auto checker = verifier();
    value header = standard_header(app_credential(), Algorithm::rs256);
    const std::string assertion = sign_assertion(header, standard_claims(kAppId, kAudience, now),
                                                 app_credential().key.get(), Algorithm::ps256);
    CHECK(code_of(checker.verify(assertion, expectations(now))) == 700027);
}

TEST_CASE("a tampered payload fails the signature check") {
    const Instant now = std::chrono::system_clock::now();
    auto checker = verifier();
    const std::string assertion = sign_assertion(standard_header(app_credential(), Algorithm::ps256),
                                                 standard_claims(kAppId, kAudience, now), app_credential().key.get(),
                                                 Algorithm::ps256);
    value forged = standard_claims(kAppId, kAudience, now);
    forged["exp"] = value::number(seconds(now) + 3600);
    const size_t first_dot = assertion.find('.');
    const size_t second_dot = assertion.find('.', first_dot + 1);
    const std::string tampered = assertion.substr(0, first_dot + 1) + base64url_encode(forged.serialize()) +
                                 assertion.substr(second_dot);
    const auto error = checker.verify(tampered, expectations(now));
    REQUIRE(error);
    CHECK(error->code == 700027);
}

TEST_CASE("a replayed jti is refused") {
    const Instant now = std::chrono::system_clock::now();
    auto checker = verifier();
    const std::string assertion = sign_assertion(standard_header(app_credential(), Algorithm::ps256),
                                                 standard_claims(kAppId, kAudience, now), app_credential().key.get(),
                                                 Algorithm::ps256);
    CHECK(code_of(checker.verify(assertion, expectations(now))) == 0);
    const auto replay = checker.verify(assertion, expectations(now + std::chrono::seconds(5)));
    REQUIRE(replay);
    CHECK(replay->code == 50027);
    CHECK_THAT(replay->message, Catch::Contains("has already been used"));
}

TEST_CASE("a malformed compact form is refused as malformed") {
    const Instant now = std::chrono::system_clock::now();
    auto checker = verifier();
    const std::string good = sign_assertion(standard_header(app_credential(), Algorithm::ps256),
                                            standard_claims(kAppId, kAudience, now), app_credential().key.get(),
                                            Algorithm::ps256);
    for (const std::string& assertion : std::vector<std::string>{"abc", good + "==", good.substr(0, good.rfind('.')),
                                                                 "a.b.c.d", "+" + good.substr(1)}) {
        CHECK(code_of(checker.verify(assertion, expectations(now))) == 50027);
    }
}

TEST_CASE("a tenant that accepts only RS256 refuses PS256 with AADSTS700027 and accepts RS256") {
    const Instant now = std::chrono::system_clock::now();
    auto checker = verifier(PssPolicy::rs256_only);
    const std::string pss = sign_assertion(standard_header(app_credential(), Algorithm::ps256),
                                           standard_claims(kAppId, kAudience, now), app_credential().key.get(),
                                           Algorithm::ps256);
    const auto refusal = checker.verify(pss, expectations(now));
    REQUIRE(refusal);
    CHECK(refusal->code == 700027);
    CHECK_THAT(refusal->message, Catch::Contains("The key was not found"));
    const std::string pkcs1 = sign_assertion(standard_header(app_credential(), Algorithm::rs256),
                                             standard_claims(kAppId, kAudience, now), app_credential().key.get(),
                                             Algorithm::rs256);
    CHECK(code_of(checker.verify(pkcs1, expectations(now))) == 0);
}

TEST_CASE("a registered certificate outside its validity is refused with the key's dates") {
    const Instant now = std::chrono::system_clock::now();
    const auto check_with = [&](const TestCredential& credential) {
        std::vector<RegisteredCertificate> certificates;
        certificates.push_back(register_certificate(CertificatePtr(X509_dup(credential.certificate.get())), "dated"));
        ClientAssertionVerifier checker(std::move(certificates), PssPolicy::accept);
        return checker.verify(sign_assertion(standard_header(credential, Algorithm::rs256),
                                             standard_claims(kAppId, kAudience, now), credential.key.get(),
                                             Algorithm::rs256),
                              expectations(now));
    };
    const auto expired = check_with(make_credential(now - std::chrono::days(30), now - std::chrono::days(1)));
    REQUIRE(expired);
    CHECK(expired->code == 700027);
    CHECK_THAT(expired->message, Catch::Contains("The key used is expired.") && Catch::Contains("Found key 'Start="));
    const auto early = check_with(make_credential(now + std::chrono::days(1), now + std::chrono::days(30)));
    REQUIRE(early);
    CHECK(early->code == 700027);
    CHECK_THAT(early->message, Catch::Contains("The key is not yet valid."));
}

}  // namespace sandbox::test
