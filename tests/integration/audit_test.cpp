// What auditors read after an apply (status, history, explain), and that no secret is anywhere.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "journal_reader.h"
#include "sandbox_fixture.h"

using namespace authgate::testing;
namespace fs = std::filesystem;

namespace {

std::string file_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("after an apply, status, history and explain tell what was done", "[integration][audit]") {
    Sandbox sandbox;
    const std::string state = (sandbox.folder() / "state.db").string();
    REQUIRE(sandbox.authgate({"apply", "-c", "examples/contoso", "--auto-approve", "--state", state}).exit_code == 0);

    const RunResult status = sandbox.authgate({"status", "--format", "json", "--state", state}, {}, false);
    REQUIRE(status.exit_code == 0);
    const auto report = web::json::value::parse(status.out);
    REQUIRE(report.at("exceptions").size() == 2);
    CHECK(report.at("exceptions").at(0).at("mailbox").as_string() == "mfp-lobby@contoso.com");
    CHECK(report.at("exceptions").at(0).at("owner").as_string() == "facilities-it@contoso.com");
    CHECK(report.at("exceptions").at(0).at("days_left").is_integer());
    CHECK(report.at("exceptions").at(1).at("mailbox").as_string() == "scanner-3f@contoso.com");
    CHECK(report.at("runs").at(0).at("outcome").as_string() == "succeeded");
    CHECK(report.at("open_drift").size() == 0);  // apply does not record drift; reconcile does

    const RunResult text_status = sandbox.authgate({"status", "--state", state}, {}, false);
    CHECK_THAT(text_status.out, Catch::StartsWith("Exceptions in force (2):\n  mfp-lobby@contoso.com  owner facilities-it@contoso.com  expires 2027-02-28"));

    const RunResult history = sandbox.authgate({"history", "--format", "json", "--state", state}, {}, false);
    REQUIRE(history.exit_code == 0);
    const auto runs = web::json::value::parse(history.out).at("runs");
    REQUIRE(runs.size() == 1);
    CHECK(runs.at(0).at("changes").size() == 15);
    const auto first = runs.at(0).at("changes").at(0);
    CHECK(first.at("resource").as_string() == "authentication_policy");
    CHECK(first.at("status").as_string() == "verified");
    CHECK(first.at("client_request_id").as_string().size() == 36);

    const RunResult explained = sandbox.authgate({"explain", "mfp-lobby@contoso.com", "-c", "examples/contoso", "--format", "json"});
    INFO(explained.err);
    REQUIRE(explained.exit_code == 0);
    const auto verdict = web::json::value::parse(explained.out);
    // Off for the organisation, on for this mailbox, and Basic allowed by its own policy.
    CHECK(verdict.at("organization_smtp_auth_disabled").as_bool() == true);
    CHECK(verdict.at("mailbox_smtp_auth_disabled").as_bool() == false);
    CHECK(verdict.at("smtp_auth_oauth").as_bool() == true);
    CHECK(verdict.at("smtp_auth_basic").as_bool() == true);
    CHECK(verdict.at("user_authentication_policy").as_string() == "Allow Basic SMTP");
    CHECK(verdict.at("default_authentication_policy").as_string() == "Block Basic Auth");
    const RunResult ceo = sandbox.authgate({"explain", "ceo@contoso.com", "-c", "examples/contoso"});
    CHECK_THAT(ceo.out, Catch::Contains("SMTP AUTH with OAuth (XOAUTH2): refused"));
}

TEST_CASE("no token, assertion, key or password appears in any output, log, journal or saved plan", "[integration][audit][safety]") {
    Sandbox sandbox;
    const std::string state = (sandbox.folder() / "state.db").string();
    const std::string plan_file = (sandbox.folder() / "saved.plan.json").string();
    std::string everything;
    const auto keep = [&](const RunResult& run) { everything += run.out + run.err; };
    const std::map<std::string, std::string> password{{"AUTHGATE_CERT_PASSWORD", "pfx-secret"}};
    keep(sandbox.authgate({"plan", "-c", "examples/contoso", "--out", plan_file, "--format", "markdown"}));
    auto pfx_plan = std::vector<std::string>{"plan", "-c", "examples/contoso", "--format", "json"};
    const auto pfx_flags = sandbox.connection_flags(client_credentials().pfx);
    pfx_plan.insert(pfx_plan.end(), pfx_flags.begin(), pfx_flags.end());
    keep(sandbox.authgate(pfx_plan, password, false));
    keep(sandbox.authgate({"apply", "-c", "examples/contoso", "--auto-approve", "--state", state}, password));
    keep(sandbox.authgate({"reconcile", "-c", "examples/contoso", "--once", "--mode", "report", "--log-format", "json",
                           "--log-level", "debug", "--state", state}, password));
    sandbox.set_faults(R"({"token_error": {"count": 2, "code": 700027}})");
    keep(sandbox.authgate({"plan", "-c", "examples/contoso"}));  // a refused sign-in, with its message
    keep(sandbox.authgate({"history", "--format", "json", "--state", state}, {}, false));
    keep(sandbox.authgate({"status", "--state", state}, {}, false));
    everything += file_text(state) + file_text(state + "-wal") + file_text(plan_file);
    REQUIRE(everything.size() > 10000);  // the sweep looked at real output

    const std::string key = file_text(client_credentials().pem);
    const std::string key_body = key.substr(key.find("PRIVATE KEY-----") + 17, 64);
    for (const std::string& secret : {std::string("PRIVATE KEY"), key_body, std::string("pfx-secret"),
                                     std::string("Bearer "), std::string("eyJ"),  // a JWT's header, base64url of '{"'
                                     std::string("client_assertion="), std::string("access_token")}) {
        INFO(secret);
        CHECK(everything.find(secret) == std::string::npos);
    }
}
