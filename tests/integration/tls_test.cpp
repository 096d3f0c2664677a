// TLS is verified against servers made to fail it (untrusted, another host, expired, not yet
// valid), the bearer goes to its own origin only, and a key file others can read is refused:
// the real binary over real HTTPS, against the sandbox and test listeners with certificates made
// at test time.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <unistd.h>

#include "journal_reader.h"
#include "sandbox_fixture.h"
#include "tls_listener.h"

using namespace authgate::testing;
namespace fs = std::filesystem;

namespace {

std::string file_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A CA bundle trusting both the sandbox and the test CA, so that only the certificate at fault
// can explain a refusal.
std::string trust_both(const Sandbox& sandbox, const TestCa& ca) {
    const fs::path bundle = sandbox.folder() / "trusted-bundle.pem";
    std::ofstream(bundle) << file_text(sandbox.ca_bundle()) << file_text(ca.certificate());
    return bundle.string();
}

struct Endpoints {
    std::string login;
    std::string exchange;
    std::string ca_bundle;
};

RunResult run(const Sandbox& sandbox, std::vector<std::string> args, const Endpoints& endpoints,
              const std::map<std::string, std::string>& environment = {}) {
    auto flags = sandbox.connection_flags();
    for (std::size_t i = 0; i + 1 < flags.size(); i += 2) {
        if (flags[i] == "--login-endpoint") flags[i + 1] = endpoints.login;
        if (flags[i] == "--exchange-endpoint") flags[i + 1] = endpoints.exchange;
        if (flags[i] == "--ca-bundle") flags[i + 1] = endpoints.ca_bundle;
    }
    args.insert(args.end(), flags.begin(), flags.end());
    return sandbox.authgate(args, environment, false);
}

std::vector<std::string> plan_args() { return {"plan", "-c", "examples/contoso", "--format", "json"}; }

int mutations(const Sandbox& sandbox) { return static_cast<int>(sandbox.state().at("mutations").size()); }

std::string handshake_refused(const std::string& origin) {
    return "cannot reach " + origin + ": Error in SSL handshake";
}

}  // namespace

// Untrusted, for another host, expired, not yet valid: each refused, nothing sent, nothing changed.
TEST_CASE("bad server certificates are refused: nothing is sent, nothing is changed", "[integration][tls][safety]") {
    Sandbox sandbox;
    const TestCa trusted(sandbox.folder() / "pki", "trusted-ca");
    const TestCa stranger(sandbox.folder() / "pki", "stranger-ca");
    const std::string bundle = trust_both(sandbox, trusted);
    const std::string state = (sandbox.folder() / "state.db").string();

    // The control: the same listener with a good certificate is sent the token request, so each
    // refusal below is its certificate's doing.
    {
        TlsListener good(trusted.issue("good", {}));
        const RunResult plan = run(sandbox, plan_args(), {good.origin(), good.origin(), bundle});
        INFO(plan.err);
        CHECK(plan.exit_code == 1);
        CHECK_THAT(plan.err, Catch::Contains("HTTP 404"));
        const auto requests = good.requests();
        REQUIRE(requests.size() >= 1);
        CHECK_THAT(requests.front(), Catch::StartsWith("POST /" + tenant + "/oauth2/v2.0/token "));
        CHECK_THAT(requests.front(), Catch::Contains("client_assertion="));
    }

    struct BadServer {
        std::string what;
        PemFiles certificate;
        std::string reason;  // what the message says after "Error in SSL handshake"
    };
    const std::vector<BadServer> bad_servers{
        {"not signed by a trusted CA", stranger.issue("untrusted", {}),
         " (the server's certificate is not signed by the system's trust anchors and " + bundle +
             ": unable to get local issuer certificate; a private CA needs --ca-bundle)"},
        {"for another host",
         trusted.issue("other-host", {"login.example.net", {"DNS:login.example.net", "IP:192.0.2.7"}}),
         " (the server's certificate is not for 127.0.0.1)"},
        {"expired", trusted.issue("expired", {"127.0.0.1", {"IP:127.0.0.1", "DNS:localhost"}, -30, -1}),
         " (the server's certificate was refused: certificate has expired)"},
        {"not yet valid", trusted.issue("not-yet-valid", {"127.0.0.1", {"IP:127.0.0.1", "DNS:localhost"}, 1, 30}),
         " (the server's certificate was refused: certificate is not yet valid)"},
    };
    for (const auto& [what, certificate, reason] : bad_servers) {
        INFO("a server certificate " << what);
        TlsListener bad(certificate);
        const std::string refused = "error: token request to " + bad.origin() + "/" + tenant +
                                    "/oauth2/v2.0/token failed: " + handshake_refused(bad.origin()) + reason + "\n";
        const RunResult plan = run(sandbox, plan_args(), {bad.origin(), bad.origin(), bundle});
        CHECK(plan.exit_code == 1);
        CHECK(plan.out.empty());
        CHECK_THAT(plan.err, Catch::StartsWith(refused));
        const RunResult apply = run(sandbox, {"apply", "-c", "examples/contoso", "--auto-approve", "--state", state},
                                    {bad.origin(), bad.origin(), bundle});
        CHECK(apply.exit_code == 1);
        CHECK_THAT(apply.err, Catch::StartsWith(refused));
        CHECK(bad.connections() >= 2);  // authgate did knock
        CHECK(bad.requests().empty());  // and sent nothing over the refused connection: no client assertion
    }
    CHECK(query(state, "SELECT count(*) AS n FROM changes").at(0).at("n") == "0");
}

TEST_CASE("no flag or environment variable turns TLS verification off", "[integration][tls][safety]") {
    Sandbox sandbox;
    const TestCa stranger(sandbox.folder() / "pki", "stranger-ca");
    TlsListener untrusted(stranger.issue("untrusted", {}));
    const Endpoints endpoints{untrusted.origin(), untrusted.origin(), sandbox.ca_bundle()};

    for (const std::string flag : {"--insecure", "--no-verify", "--skip-tls-verify", "--tls-verify=false",
                                   "--no-check-certificate", "--verify-tls=false", "-k"}) {
        auto args = plan_args();
        args.push_back(flag);
        const RunResult plan = run(sandbox, args, endpoints);
        INFO(flag << ": " << plan.err);
        CHECK(plan.exit_code == 1);
        CHECK_THAT(plan.err, Catch::Contains("unrecognised option") || Catch::Contains("unknown option"));
    }
    CHECK(untrusted.connections() == 0);

    const std::map<std::string, std::string> permissive{
        {"AUTHGATE_INSECURE", "1"},  {"AUTHGATE_TLS_VERIFY", "false"}, {"AUTHGATE_SKIP_TLS_VERIFY", "1"},
        {"AUTHGATE_NO_VERIFY", "1"}, {"AUTHGATE_VERIFY_TLS", "0"},     {"CURL_CA_BUNDLE", ""},
        {"SSL_VERIFY", "0"},         {"PYTHONHTTPSVERIFY", "0"},       {"NODE_TLS_REJECT_UNAUTHORIZED", "0"},
        {"GIT_SSL_NO_VERIFY", "1"}};
    const RunResult plan = run(sandbox, plan_args(), endpoints, permissive);
    CHECK(plan.exit_code == 1);
    CHECK_THAT(plan.err, Catch::Contains(handshake_refused(untrusted.origin())));
    CHECK(untrusted.requests().empty());

    // What authgate reads from the environment is this list, and none of it is such a switch.
    std::set<std::string> read;
    const std::regex named(R"re("(AUTHGATE_[A-Z_]+)"|getenv\("([A-Z_]+)"\))re");
    for (const std::string folder : {"agent", "connectors", "state", "policies"})
        for (const auto& entry : fs::recursive_directory_iterator(source_dir() + "/" + folder)) {
            const std::string text = file_text(entry.path());
            for (std::sregex_iterator match(text.begin(), text.end(), named), end; match != end; ++match)
                read.insert((*match)[1].matched ? (*match)[1].str() : (*match)[2].str());
        }
    CHECK(read == std::set<std::string>{"AUTHGATE_APP_ID",
                                        "AUTHGATE_ARC_TOKEN_DIR",
                                        "AUTHGATE_CA_BUNDLE",
                                        "AUTHGATE_CERTIFICATE",
                                        "AUTHGATE_CERT_PASSWORD",
                                        "AUTHGATE_CREDENTIAL",
                                        "AUTHGATE_EXCHANGE_ENDPOINT",
                                        "AUTHGATE_GRAPH_ENDPOINT",
                                        "AUTHGATE_HTTP_TIMEOUT",
                                        "AUTHGATE_LOCK_LEASE",
                                        "AUTHGATE_LOGIN_ENDPOINT",
                                        "AUTHGATE_MANAGED_IDENTITY_CLIENT_ID",
                                        "AUTHGATE_MANAGED_IDENTITY_OBJECT_ID",
                                        "AUTHGATE_MANAGED_IDENTITY_RESOURCE_ID",
                                        "AUTHGATE_RETRY_DELAY_MS",
                                        "AUTHGATE_SERVICE_CONNECTION_ID",
                                        "AUTHGATE_STATE_ALLOW_PLAINTEXT",
                                        "AUTHGATE_STATE",
                                        "AUTHGATE_TENANT",
                                        "GITHUB_ACTIONS",
                                        "GITHUB_STEP_SUMMARY",
                                        "NO_COLOR",
                                        "TERM"});
}

TEST_CASE("a nextLink to another origin that answers: authgate sends nothing there", "[integration][tls][safety]") {
    Sandbox sandbox({"examples/contoso/live.json", {"--page-size-max", "100"}});
    const TestCa ca(sandbox.folder() / "pki", "other-origin-ca");
    // Trusted through the bundle, so that only authgate's own rule keeps the token from it.
    TlsListener other(ca.issue("other-origin", {}));
    const std::string bundle = trust_both(sandbox, ca);

    // The control: addressed directly, the listener is sent authgate's requests.
    const RunResult direct = run(sandbox, plan_args(), {other.origin(), other.origin(), bundle});
    CHECK(direct.exit_code == 1);
    const auto seen = other.requests();
    REQUIRE(seen.size() >= 1);
    CHECK_THAT(seen.front(), Catch::StartsWith("POST /" + tenant + "/oauth2/v2.0/token "));
    const int connections_before = other.connections();

    sandbox.set_faults(R"({"foreign_next_link": ")" + other.origin() + R"("})");
    const std::string refused = "refusing to follow @odata.nextLink to another origin (" + other.origin() +
                                "); the token is only sent to " + sandbox.origin();
    const RunResult plan = run(sandbox, plan_args(), {sandbox.origin(), sandbox.origin(), bundle});
    CHECK(plan.exit_code == 1);
    CHECK_THAT(plan.err, Catch::StartsWith("error: Get-CASMailbox failed: " + refused));
    const RunResult reconcile = run(sandbox,
                                    {"reconcile", "-c", "examples/contoso", "--once", "--log-format", "json",
                                     "--log-level", "debug", "--state", (sandbox.folder() / "state.db").string()},
                                    {sandbox.origin(), sandbox.origin(), bundle});
    CHECK(reconcile.exit_code == 1);
    CHECK_THAT(reconcile.err, Catch::Contains(refused));

    CHECK(sandbox.state().at("faults").at("fired").at("foreign_next_link").as_integer() >= 2);
    CHECK(other.connections() == connections_before);  // not even a connection, so no bearer
    CHECK(other.requests().size() == seen.size());
    CHECK(mutations(sandbox) == 0);
}

TEST_CASE("a key file that group or others can read is refused before anything is sent", "[integration][safety]") {
    Sandbox sandbox;
    const std::map<std::string, std::string> password{{"AUTHGATE_CERT_PASSWORD", "pfx-secret"}};
    for (const std::string& original : {client_credentials().pem, client_credentials().pfx}) {
        for (const auto mode : {0644, 0640, 0604, 0660, 0606}) {
            char octal[8];
            std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
            const fs::path folder = sandbox.folder() / "keys" / octal;
            fs::create_directories(folder);
            const fs::path copy = folder / fs::path(original).filename();
            fs::copy_file(original, copy, fs::copy_options::overwrite_existing);
            fs::permissions(copy, static_cast<fs::perms>(mode));
            auto args = plan_args();
            const auto flags = sandbox.connection_flags(copy.string());
            args.insert(args.end(), flags.begin(), flags.end());
            const RunResult plan = sandbox.authgate(args, password, false);
            INFO(copy.string());
            CHECK(plan.exit_code == 1);
            CHECK(plan.out.empty());
            CHECK(plan.err == "error: the private key in " + copy.string() + " is readable by group or others (mode " +
                                  octal + "); run: chmod 600 " + copy.string() +
                                  "\nThe live state could not be read; no plan is made.\n");

            if (mode == 0644) {  // the same file, once only its owner can read it, signs in
                fs::permissions(copy, fs::perms::owner_read | fs::perms::owner_write);
                CHECK(sandbox.authgate(args, password, false).exit_code == 0);
            }
        }
    }
    CHECK(sandbox.token_requests() == 2);  // the two owner-only files; none of the others
}

TEST_CASE("a redirect from the Exchange endpoint is never followed: the token goes nowhere else",
          "[integration][tls][safety][live]") {
    // The other origin is trusted through the bundle, so that only authgate's own rule keeps the
    // request and its token from it.
    const fs::path pki = fs::temp_directory_path() / ("authgate-redirect-" + std::to_string(::getpid()));
    const TestCa ca(pki, "elsewhere-ca");
    TlsListener elsewhere(ca.issue("elsewhere", {}));
    Sandbox sandbox({"examples/contoso/live.json", {"--redirect-to", elsewhere.origin()}});
    const std::string bundle = trust_both(sandbox, ca);
    const std::string state = (sandbox.folder() / "state.db").string();
    for (const auto& args : {plan_args(), std::vector<std::string>{"apply", "-c", sandbox.example(), "--auto-approve",
                                                                   "--state", state}}) {
        const RunResult run_result = run(sandbox, args, {sandbox.origin(), sandbox.origin(), bundle});
        INFO(run_result.err);
        CHECK(run_result.exit_code == 1);
        CHECK_THAT(run_result.err, Catch::Contains("Get-TransportConfig failed: HTTP 302: a redirect (HTTP 302) to " +
                                                   elsewhere.origin() + "/adminapi/beta/") &&
                                       Catch::Contains("which authgate never follows"));
    }
    CHECK(elsewhere.connections() == 0);
    CHECK(sandbox.state().at("mutations").size() == 0);
    std::error_code ignored;
    fs::remove_all(pki, ignored);
}
