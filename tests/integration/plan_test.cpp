// authgate plan over real HTTPS against the sandbox tenant, with the real binary.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "policies/time.h"
#include "sandbox_fixture.h"

using namespace authgate;
using namespace authgate::testing;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> plan_args(const std::string& format = "json") {
    return {"plan", "-c", "examples/contoso", "--at", fixed_time, "--format", format};
}

int mutations(const Sandbox& sandbox) { return static_cast<int>(sandbox.state().at("mutations").size()); }

}  // namespace

TEST_CASE("plan against the tenant equals the offline plan of the same snapshot", "[integration]") {
    Sandbox sandbox;
    for (const std::string format : {"json", "text"}) {
        const RunResult live = sandbox.authgate(plan_args(format));
        auto offline_args = plan_args(format);
        offline_args.insert(offline_args.end(), {"--snapshot", "examples/contoso/live.json"});
        const RunResult offline = sandbox.authgate(offline_args, {}, false);
        INFO(live.err);
        CHECK(live.exit_code == 0);
        CHECK(live.err.empty());
        CHECK(offline.exit_code == 0);
        CHECK(live.out == offline.out);
    }
    CHECK(mutations(sandbox) == 0);
    // One token for the whole run, reused for every cmdlet.
    CHECK(sandbox.token_requests() == 2);
    CHECK(sandbox.cmdlet_calls("Get-CASMailbox") == 2);
}

TEST_CASE("a token about to expire is replaced before it is used", "[integration]") {
    Sandbox sandbox({"examples/contoso/live.json", {"--token-lifetime", "2"}});
    const RunResult plan = sandbox.authgate(plan_args());
    INFO(plan.err);
    CHECK(plan.exit_code == 0);
    // Every cmdlet call found the token within five minutes of expiry and asked for a new one;
    // one more is the first sign-in, whose token names the tenant's GUID for the first URL.
    const auto requests = sandbox.state().at("requests");
    CHECK(requests.at("token").as_integer() == requests.at("invoke").as_integer() + 1);
}

TEST_CASE("throttling and busy servers are survived with the expected number of calls", "[integration]") {
    Sandbox sandbox;
    SECTION("a 429 storm with fractional Retry-After") {
        sandbox.set_faults(R"({"throttle": {"count": 4, "retry_after": "0.2", "cmdlet": "Get-CASMailbox"}})");
        const RunResult plan = sandbox.authgate(plan_args());
        INFO(plan.err);
        CHECK(plan.exit_code == 0);
        CHECK(sandbox.cmdlet_calls("Get-CASMailbox") == 5);
        CHECK(sandbox.state().at("faults").at("fired").at("throttle").as_integer() == 4);
    }
    SECTION("503 and a transient exception") {
        sandbox.set_faults(R"({"server_error": {"count": 1, "status": 503, "cmdlet": "Get-TransportConfig"},
                               "transient_exception": {"count": 1, "name": "DCOverloadedException", "cmdlet": "Get-AuthenticationPolicy"}})");
        const RunResult plan = sandbox.authgate(plan_args());
        INFO(plan.err);
        CHECK(plan.exit_code == 0);
        CHECK(sandbox.cmdlet_calls("Get-TransportConfig") == 2);
        CHECK(sandbox.cmdlet_calls("Get-AuthenticationPolicy") == 2);
    }
    SECTION("and the plan is the same as without faults") {
        const RunResult calm = sandbox.authgate(plan_args());
        sandbox.set_faults(R"({"throttle": {"count": 2, "retry_after": "0.1"}})");
        const RunResult stormy = sandbox.authgate(plan_args());
        CHECK(stormy.exit_code == 0);
        CHECK(stormy.out == calm.out);
    }
}

TEST_CASE("a page that fails fails the plan, and nothing is changed", "[integration][safety]") {
    Sandbox sandbox({"examples/contoso/live.json", {"--page-size-max", "100"}});
    // A status no client retries (a 500 would be, and succeed).
    sandbox.set_faults(R"({"fail_page": {"count": 1, "page": 2, "status": 501, "cmdlet": "Get-CASMailbox"}})");
    const RunResult plan = sandbox.authgate(plan_args());
    CHECK(plan.exit_code == 1);
    CHECK(plan.out.empty());
    CHECK_THAT(plan.err, Catch::StartsWith("error: Get-CASMailbox failed: HTTP 501: ") &&
                             Catch::EndsWith("\nThe live state could not be read; no plan is made.\n"));
    CHECK_THAT(plan.err, Catch::Contains("(client-request-id "));
    CHECK(mutations(sandbox) == 0);
}

TEST_CASE("an expired nextLink restarts the read, and one that keeps expiring fails it", "[integration]") {
    Sandbox sandbox({"examples/contoso/live.json", {"--page-size-max", "100"}});
    sandbox.set_faults(R"({"expire_links": true})");
    const RunResult plan = sandbox.authgate(plan_args());
    CHECK(plan.exit_code == 1);
    CHECK_THAT(plan.err, Catch::Contains("Expired or Invalid pagination request"));
    // The first page, then three restarts of it, each failing on its second page.
    CHECK(sandbox.cmdlet_calls("Get-CASMailbox") == 8);
}

TEST_CASE("a nextLink to another origin is refused and the token is not sent there", "[integration][safety]") {
    Sandbox sandbox({"examples/contoso/live.json", {"--page-size-max", "100"}});
    sandbox.set_faults(R"({"foreign_next_link": true})");
    const RunResult plan = sandbox.authgate(plan_args());
    CHECK(plan.exit_code == 1);
    CHECK_THAT(plan.err, Catch::StartsWith("error: Get-CASMailbox failed: refusing to follow @odata.nextLink to "
                                           "another origin (https://attacker.invalid); the token is only sent to " +
                                           sandbox.origin()));
}

TEST_CASE("sign-in problems give the documented messages", "[integration]") {
    Sandbox sandbox;
    const auto run_with = [&](std::vector<std::string> replace) {
        auto args = plan_args();
        auto flags = sandbox.connection_flags();
        for (std::size_t i = 0; i + 1 < replace.size(); i += 2)
            for (std::size_t j = 0; j + 1 < flags.size(); j += 2)
                if (flags[j] == replace[i]) flags[j + 1] = replace[i + 1];
        args.insert(args.end(), flags.begin(), flags.end());
        return sandbox.authgate(args, {}, false);
    };
    SECTION("an expired certificate is refused before any request") {
        const RunResult plan = run_with({"--certificate", client_credentials().expired_pem});
        CHECK(plan.exit_code == 1);
        CHECK_THAT(plan.err,
                   Catch::StartsWith("error: the certificate in " + client_credentials().expired_pem + " expired "));
        CHECK(sandbox.token_requests() == 0);
    }
    SECTION("a wrong application id") {
        const RunResult plan = run_with({"--app-id", "00000000-0000-4000-8000-000000000bad"});
        CHECK(plan.exit_code == 1);
        CHECK_THAT(plan.err,
                   Catch::Contains("failed: HTTP 400: AADSTS700016: Application with identifier "
                                   "'00000000-0000-4000-8000-000000000bad' was not found") &&
                       Catch::Contains("what to check: application 00000000-0000-4000-8000-000000000bad is not "
                                       "in tenant contoso.onmicrosoft.com"));
    }
    SECTION("a key that is not registered, after trying RS256 too") {
        const RunResult plan = run_with({"--certificate", client_credentials().other_pem});
        CHECK(plan.exit_code == 1);
        CHECK_THAT(plan.err, Catch::Contains("AADSTS700027: Client assertion contains an invalid signature. [Reason - "
                                             "The key was not found.") &&
                                 Catch::Contains("what to check: upload this certificate (thumbprint "));
        CHECK(sandbox.token_requests() == 2);
    }
    SECTION("TLS is verified: without the sandbox's CA the connection is refused") {
        auto args = plan_args();
        const auto flags = sandbox.connection_flags();
        for (std::size_t j = 0; j + 1 < flags.size(); j += 2)
            if (flags[j] != "--ca-bundle") args.insert(args.end(), {flags[j], flags[j + 1]});
        const RunResult plan = sandbox.authgate(args, {}, false);
        CHECK(plan.exit_code == 1);
        CHECK_THAT(plan.err, Catch::StartsWith("error: token request to " + sandbox.origin() + "/" + tenant +
                                               "/oauth2/v2.0/token failed: cannot reach " + sandbox.origin() +
                                               ": Error in SSL handshake (the server's certificate is not signed "
                                               "by the system's trust anchors: self-signed certificate in "
                                               "certificate chain; a private CA needs --ca-bundle)"));
        CHECK(sandbox.token_requests() == 0);
    }
}

TEST_CASE("a PFX with its password from the environment signs in", "[integration]") {
    Sandbox sandbox;
    auto args = plan_args();
    const auto flags = sandbox.connection_flags(client_credentials().pfx);
    args.insert(args.end(), flags.begin(), flags.end());
    const RunResult plan = sandbox.authgate(args, {{"AUTHGATE_CERT_PASSWORD", "pfx-secret"}}, false);
    INFO(plan.err);
    CHECK(plan.exit_code == 0);
}

TEST_CASE("a tenant that refuses PS256 is signed in to with RS256", "[integration]") {
    Sandbox sandbox({"examples/contoso/live.json", {"--reject-pss"}});
    const RunResult plan = sandbox.authgate(plan_args());
    INFO(plan.err);
    CHECK(plan.exit_code == 0);
    CHECK(sandbox.token_requests() == 2);
}

TEST_CASE("a token that expires while in use is replaced once and the plan goes on", "[integration]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"expire_tokens": {"count": 1}})");
    const RunResult plan = sandbox.authgate(plan_args());
    INFO(plan.err);
    CHECK(plan.exit_code == 0);
    // The first cmdlet call got 401, authgate asked for a new token and called again.
    CHECK(sandbox.token_requests() == 2);
    CHECK(sandbox.state().at("faults").at("fired").at("expire_tokens").as_integer() == 1);
}

TEST_CASE("a snapshot saved from the tenant plans offline exactly as the tenant does", "[integration]") {
    Sandbox sandbox;
    const std::string saved = (sandbox.folder() / "evidence.json").string();
    const RunResult snapshot = sandbox.authgate({"snapshot", "--out", saved, "-c", sandbox.example()});
    INFO(snapshot.err);
    REQUIRE(snapshot.exit_code == 0);
    CHECK(snapshot.out == "Saved the live state of contoso.onmicrosoft.com to " + saved +
                              ": 301 mailboxes, 4 authentication policies, 6 users with a policy.\n");
    const RunResult live = sandbox.authgate(plan_args());
    auto offline_args = plan_args();
    offline_args.insert(offline_args.end(), {"--snapshot", saved});
    const RunResult offline = sandbox.authgate(offline_args, {}, false);
    CHECK(offline.exit_code == 0);
    CHECK(offline.out == live.out);
}

TEST_CASE("import then plan: no change against the tenant it was imported from", "[integration]") {
    Sandbox sandbox;
    const std::string imported = (sandbox.folder() / "imported.toml").string();
    const RunResult import = sandbox.authgate({"import", "--out", imported, "--tenant", tenant});
    INFO(import.err);
    REQUIRE(import.exit_code == 0);
    CHECK_THAT(import.out, Catch::StartsWith("Wrote " + imported +
                                             " from contoso.onmicrosoft.com: 7 explicit mailbox overrides to review"));
    const RunResult plan = sandbox.authgate({"plan", "-c", imported, "--detailed-exitcode"});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 0);
    CHECK_THAT(plan.out, Catch::Contains("Plan: 0 to change, 0 to report, 0 skipped."));
    CHECK(sandbox.authgate({"import", "--out", imported, "--tenant", tenant}).exit_code == 1);  // never overwrites
}

TEST_CASE("a terminal gets colour and progress, --no-color and pipes get plain text", "[integration][clock]") {
    Sandbox sandbox;
    std::string command = std::string(AUTHGATE_BINARY) + " plan -c " + sandbox.example();
    for (const auto& flag : sandbox.connection_flags()) command += " '" + flag + "'";
    // script(1) runs the command on a pseudo-terminal, as a person at a terminal would.
    const RunResult tty = run_program({"/usr/bin/script", "-qec", command, "/dev/null"},
                                      {{"TERM", "xterm"}, {"NO_COLOR", ""}});
    INFO(tty.out);
    CHECK(tty.exit_code == 0);
    CHECK_THAT(tty.out, Catch::Contains("\033[33m~\033[0m mailbox scanner-3f@contoso.com"));
    CHECK_THAT(tty.out, Catch::Contains("\033[1mPlan: 15 to change, 0 to report, 1 skipped.\033[0m"));
    CHECK_THAT(tty.out, Catch::Contains("Get-CASMailbox: reading"));
    const RunResult plain = run_program({"/usr/bin/script", "-qec", command + " --no-color", "/dev/null"},
                                        {{"TERM", "xterm"}, {"NO_COLOR", ""}});
    CHECK(plain.exit_code == 0);
    CHECK(plain.out.find("\033[") == std::string::npos);
    const RunResult piped = sandbox.authgate({"plan", "-c", sandbox.example()});
    CHECK(piped.out.find("\033[") == std::string::npos);
    CHECK(piped.err.find("\033[") == std::string::npos);
}

TEST_CASE("trust anchors come from OpenSSL's defaults too: a hashed SSL_CERT_DIR is honoured", "[integration][tls]") {
    Sandbox sandbox;
    const fs::path anchors = sandbox.folder() / "anchors";
    fs::create_directories(anchors);
    fs::copy_file(sandbox.ca_bundle(), anchors / "sandbox-ca.pem");
    REQUIRE(run_program({"/usr/bin/openssl", "rehash", anchors.string()}).exit_code == 0);
    std::vector<std::string> args{"plan", "-c", "examples/contoso"};
    const auto flags = sandbox.connection_flags();
    for (std::size_t i = 0; i < flags.size(); ++i) {
        if (flags[i] == "--ca-bundle") ++i;  // not given: the anchors come from OpenSSL's defaults
        else args.push_back(flags[i]);
    }

    const RunResult trusted = sandbox.authgate(args, {{"SSL_CERT_DIR", anchors.string()}}, false);
    INFO(trusted.err);
    CHECK(trusted.exit_code == 0);
    const RunResult untrusted = sandbox.authgate(args, {}, false);
    CHECK(untrusted.exit_code == 1);
    CHECK_THAT(untrusted.err, Catch::Contains("a private CA needs --ca-bundle"));
}

TEST_CASE("an SSL_CERT_FILE bundle is honoured, read when a server's issuer is not already trusted",
          "[integration][tls]") {
    Sandbox sandbox;
    const auto pem_of = [](const fs::path& path) {
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    };
    // Certificates only: another CA's certificate with the sandbox's, or without it.
    std::string other = pem_of(client_credentials().other_pem);
    other = other.substr(other.find("-----BEGIN CERTIFICATE-----"));
    const fs::path with_sandbox = sandbox.folder() / "bundle.pem", without = sandbox.folder() / "other.pem";
    std::ofstream(with_sandbox) << other << pem_of(sandbox.ca_bundle());
    std::ofstream(without) << other;
    const fs::path empty_dir = sandbox.folder() / "no-anchors";
    fs::create_directories(empty_dir);

    std::vector<std::string> args{"plan", "-c", "examples/contoso"};
    const auto flags = sandbox.connection_flags();
    for (std::size_t i = 0; i < flags.size(); ++i) {
        if (flags[i] == "--ca-bundle") ++i;  // not given: the anchors come from SSL_CERT_FILE
        else args.push_back(flags[i]);
    }
    const RunResult trusted =
        sandbox.authgate(args, {{"SSL_CERT_FILE", with_sandbox.string()}, {"SSL_CERT_DIR", empty_dir.string()}}, false);
    INFO(trusted.err);
    CHECK(trusted.exit_code == 0);
    const RunResult untrusted =
        sandbox.authgate(args, {{"SSL_CERT_FILE", without.string()}, {"SSL_CERT_DIR", empty_dir.string()}}, false);
    CHECK(untrusted.exit_code == 1);
    CHECK_THAT(untrusted.err, Catch::Contains("a private CA needs --ca-bundle"));
    // A default bundle that cannot be read is no error, as in OpenSSL, when --ca-bundle holds the issuer.
    const RunResult bundled = sandbox.authgate({"plan", "-c", "examples/contoso"},
                                               {{"SSL_CERT_FILE", (sandbox.folder() / "missing.pem").string()},
                                                {"SSL_CERT_DIR", empty_dir.string()}});
    INFO(bundled.err);
    CHECK(bundled.exit_code == 0);
}

TEST_CASE("exception renew and remove edit the desired state in place, keep its layout and its mode",
          "[integration][exception]") {
    Sandbox sandbox;
    const fs::path file = fs::path(sandbox.example()) / "exceptions" / "it-ops.toml";
    fs::permissions(file,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    std::string before;
    {
        std::ifstream in(file);
        before.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const auto read = [&] {
        std::ifstream in(file);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    // Renewed within max_days from now (the real clock: the example is dated to today).
    const std::string expires = format_date(now_utc() + std::chrono::days(60));
    const RunResult renewed = sandbox.authgate({"exception", "renew", "monitoring@contoso.com", "-c", sandbox.example(),
                                                "--expires", expires, "--ticket", "CHG0013100"},
                                               {}, false);
    INFO(renewed.out << renewed.err);
    REQUIRE(renewed.exit_code == 0);
    CHECK_THAT(renewed.out,
               Catch::Contains("+expires = " + expires + "\n") && Catch::Contains("+ticket = \"CHG0013100\"\n") &&
                   Catch::EndsWith("Exception for monitoring@contoso.com renewed in " + file.string() + ".\n"));
    const std::string after = read();
    CHECK(after.size() > before.size());
    CHECK(after.substr(0, after.find("monitoring@contoso.com")) ==
          before.substr(0, before.find("monitoring@contoso.com")));
    CHECK((fs::status(file).permissions() & fs::perms::others_read) == fs::perms::others_read);
    CHECK(sandbox.authgate({"validate", "-c", sandbox.example()}, {}, false).exit_code == 0);

    // Past max_days: refused, and the file is left as it was.
    const RunResult refused = sandbox.authgate({"exception", "renew", "monitoring@contoso.com", "-c", sandbox.example(),
                                                "--expires", "2999-01-01"},
                                               {}, false);
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::Contains("more than max_days") && Catch::Contains("nothing was written"));
    CHECK(read() == after);

    REQUIRE(sandbox.authgate({"exception", "remove", "monitoring@contoso.com", "-c", sandbox.example()}, {}, false)
                .exit_code == 0);
    CHECK(read().find("monitoring@contoso.com") == std::string::npos);
    CHECK(sandbox.authgate({"validate", "-c", sandbox.example()}, {}, false).exit_code == 0);
}
