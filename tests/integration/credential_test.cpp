// Signing in without a stored certificate, over real HTTPS: the sandbox stands in for GitHub
// Actions, Azure DevOps, a Kubernetes token file and the managed identity endpoints, and its
// Entra endpoint checks each federated token as Entra does.
#include <catch2/catch.hpp>

#include <cpprest/http_client.h>

#include <filesystem>
#include <fstream>

#include "journal_reader.h"
#include "sandbox_fixture.h"

using namespace authgate::testing;
namespace fs = std::filesystem;

namespace {

// The connection flags of the sandbox without a certificate: no key is stored anywhere.
std::vector<std::string> keyless(const Sandbox& sandbox, const std::string& kind) {
    std::vector<std::string> flags{"--credential", kind};
    const auto all = sandbox.connection_flags();
    for (std::size_t i = 0; i + 1 < all.size(); i += 2)
        if (all[i] != "--certificate") flags.insert(flags.end(), {all[i], all[i + 1]});
    return flags;
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& flags) {
    args.insert(args.end(), flags.begin(), flags.end());
    return args;
}

void control(const Sandbox& sandbox, const std::string& path, const std::string& document) {
    web::http::client::http_client_config config;
    config.set_ssl_context_callback(
        [&](boost::asio::ssl::context& context) { context.load_verify_file(sandbox.ca_bundle()); });
    web::http::client::http_client client(sandbox.origin(), config);
    const auto response = client.request(web::http::methods::POST, path, document, "application/json").get();
    if (response.status_code() != 200) throw std::runtime_error(path + " refused: " + response.extract_string().get());
}

std::map<std::string, std::string> github(const Sandbox& sandbox) {
    return {{"ACTIONS_ID_TOKEN_REQUEST_URL", sandbox.origin() + "/_github/idtoken?api-version=2.0"},
            {"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "sandbox-github-request-token"}};
}

}  // namespace

TEST_CASE("GitHub Actions' OIDC token signs in: plan and apply with no certificate anywhere",
          "[integration][credential]") {
    Sandbox sandbox;
    const auto flags = keyless(sandbox, "workload-identity");
    const RunResult plan = sandbox.authgate(with({"plan", "-c", sandbox.example()}, flags), github(sandbox), false);
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 0);
    CHECK_THAT(plan.out, Catch::Contains("Plan: 15 to change"));
    const RunResult apply = sandbox.authgate(
        with({"apply", "-c", sandbox.example(), "--auto-approve", "--state", sandbox.journal()}, flags),
        github(sandbox), false);
    INFO(apply.out << apply.err);
    CHECK(apply.exit_code == 0);
    CHECK(sandbox.state().at("mutations").size() == 15);
    // The platform's token is a secret: no output shows it (nor any JWT).
    CHECK(plan.out.find("eyJ") == std::string::npos);
    CHECK(plan.err.find("eyJ") == std::string::npos);
    CHECK(apply.out.find("eyJ") == std::string::npos);
    CHECK(apply.err.find("eyJ") == std::string::npos);
}

TEST_CASE("Azure DevOps' service connection and a Kubernetes token file sign in", "[integration][credential]") {
    Sandbox sandbox;
    const auto flags = keyless(sandbox, "workload-identity");
    SECTION("Azure DevOps") {
        const RunResult plan =
            sandbox.authgate(with({"plan", "-c", sandbox.example()}, flags),
                             {{"SYSTEM_OIDCREQUESTURI", sandbox.origin() + "/_azure-devops/oidctoken"},
                              {"SYSTEM_ACCESSTOKEN", "sandbox-system-accesstoken"},
                              {"AUTHGATE_SERVICE_CONNECTION_ID", "a2d0a2d0-0000-4000-8000-000000000003"}},
                             false);
        INFO(plan.out << plan.err);
        CHECK(plan.exit_code == 0);
    }
    SECTION("a Kubernetes token file") {
        const fs::path file = sandbox.folder() / "azure-identity-token";
        control(sandbox, "/_sandbox/oidc/token", R"({"issuer": "kubernetes", "file": ")" + file.string() + R"("})");
        const RunResult plan = sandbox.authgate(with({"plan", "-c", sandbox.example()}, flags),
                                                {{"AZURE_FEDERATED_TOKEN_FILE", file.string()}}, false);
        INFO(plan.out << plan.err);
        CHECK(plan.exit_code == 0);
    }
}

TEST_CASE("a federated token Entra refuses is explained, and nothing is read or changed", "[integration][credential]") {
    Sandbox sandbox;
    const auto flags = keyless(sandbox, "workload-identity");
    SECTION("a pull request's subject where an environment's is registered") {
        sandbox.set_faults(R"({"github_pull_request_subject": {"count": 10}})");
        const RunResult plan = sandbox.authgate(with({"plan", "-c", sandbox.example()}, flags), github(sandbox), false);
        INFO(plan.out << plan.err);
        CHECK(plan.exit_code == 1);
        CHECK_THAT(plan.err, Catch::Contains("AADSTS700213"));
        CHECK_THAT(plan.err, Catch::Contains("repo:contoso/policies:pull_request"));
    }
    SECTION("no platform gives a token") {
        const RunResult plan = sandbox.authgate(with({"plan", "-c", sandbox.example()}, flags), {}, false);
        INFO(plan.out << plan.err);
        CHECK(plan.exit_code == 1);
        CHECK_THAT(plan.err, Catch::Contains("id-token: write"));
    }
    CHECK(sandbox.state().at("mutations").size() == 0);
}

TEST_CASE("a managed identity signs in through IMDS, App Service and Azure Arc", "[integration][credential]") {
    Sandbox sandbox;
    const auto flags = keyless(sandbox, "managed-identity");
    std::map<std::string, std::string> environment;
    SECTION("IMDS") { environment = {{"AZURE_POD_IDENTITY_AUTHORITY_HOST", sandbox.origin()}}; }
    SECTION("App Service") {
        environment = {{"IDENTITY_ENDPOINT", sandbox.origin() + "/_appservice/msi/token"},
                       {"IDENTITY_HEADER", "sandbox-identity-header"}};
    }
    SECTION("Azure Arc") {
        environment = {{"IDENTITY_ENDPOINT", sandbox.origin() + "/_arc/metadata/identity/oauth2/token"},
                       {"IMDS_ENDPOINT", sandbox.origin() + "/_arc"},
                       {"AUTHGATE_ARC_TOKEN_DIR", (sandbox.folder() / "tls" / "azcmagent-tokens").string()}};
    }
    const RunResult apply = sandbox.authgate(
        with({"apply", "-c", sandbox.example(), "--auto-approve", "--state", sandbox.journal()}, flags), environment,
        false);
    INFO(apply.out << apply.err);
    CHECK(apply.exit_code == 0);
    CHECK(sandbox.state().at("mutations").size() == 15);
}

TEST_CASE("a managed identity without the Exchange role is told what to assign", "[integration][credential]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"managed_identity_no_role": true})");
    const RunResult plan =
        sandbox.authgate(with({"plan", "-c", sandbox.example()}, keyless(sandbox, "managed-identity")),
                         {{"AZURE_POD_IDENTITY_AUTHORITY_HOST", sandbox.origin()}}, false);
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 1);
    CHECK_THAT(plan.err, Catch::Contains("role"));
}

TEST_CASE("the certificate authgate signs with is warned about before it expires", "[integration][credential]") {
    Sandbox sandbox;
    const fs::path desired = sandbox.folder() / "desired";
    fs::copy(sandbox.example(), desired, fs::copy_options::recursive);
    {
        std::ifstream in(desired / "tenant.toml");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        in.close();
        text.replace(text.find("max_changes = 50"), 16, "max_changes = 50\ncertificate_warn_days = 3650");
        std::ofstream(desired / "tenant.toml") << text;
    }
    const RunResult plan = sandbox.authgate({"plan", "-c", desired.string()});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 0);
    CHECK_THAT(plan.out, Catch::Contains("the certificate authgate signs with expires "));
    // Reconcile says it in every pass, and notifies once per expiry date.
    for (int pass = 0; pass < 2; ++pass)
        CHECK(sandbox
                  .authgate(
                      {"reconcile", "-c", desired.string(), "--once", "--mode", "report", "--state", sandbox.journal()})
                  .exit_code == 2);
    CHECK(query(sandbox.journal(), "SELECT COUNT(*) AS n FROM exception_events WHERE mailbox = '(certificate)'")
              .at(0)
              .at("n") == "1");
    const RunResult doctor = sandbox.authgate({"doctor", "-c", desired.string()});
    CHECK_THAT(doctor.out, Catch::Contains("renew it before it expires"));
    // Not under the default 30 days: no warning.
    CHECK_THAT(sandbox.authgate({"plan", "-c", sandbox.example()}).out,
               !Catch::Contains("the certificate authgate signs with expires"));
}
