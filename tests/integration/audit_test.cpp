// What auditors read after an apply: status, history, explain. (That no secret is anywhere: secrets_test.)
#include <catch2/catch.hpp>

#include <map>

#include "journal_reader.h"
#include "sandbox_fixture.h"

using namespace authgate::testing;

TEST_CASE("after an apply, status, history and explain tell what was done", "[integration][audit][clock]") {
    Sandbox sandbox;
    const std::string state = sandbox.journal();
    REQUIRE(sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state", state}).exit_code == 0);

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
    CHECK_THAT(text_status.out,
               Catch::StartsWith(
                   "Exceptions in force (2):\n  mfp-lobby@contoso.com  owner facilities-it@contoso.com  expires " +
                   example_date("2027-02-28")));

    // With the desired state, every exception it declares, in force or not, with its file and line.
    const RunResult declared =
        sandbox.authgate({"status", "-c", sandbox.example(), "--format", "json", "--state", state}, {}, false);
    INFO(declared.err);
    REQUIRE(declared.exit_code == 0);
    const auto listed = web::json::value::parse(declared.out).at("desired_exceptions");
    REQUIRE(listed.size() == 7);
    std::map<std::string, std::string> states;
    for (const auto& entry : listed.as_array()) states[entry.at("mailbox").as_string()] = entry.at("state").as_string();
    CHECK(states.at("legacy-erp@contoso.com") == "expired");
    CHECK(states.at("scanner-3f@contoso.com") == "active");
    CHECK(listed.at(0).at("file").as_string().find(".toml") != std::string::npos);
    const RunResult declared_text = sandbox.authgate({"status", "-c", sandbox.example(), "--state", state}, {}, false);
    CHECK_THAT(declared_text.out, Catch::StartsWith("Exceptions in the desired state (7):\n"));

    // With the tenant as a snapshot shows it: every mailbox its own setting lets use SMTP AUTH,
    // declared or not, granted by authgate or not.
    const std::string snapshot = (sandbox.folder() / "live.json").string();
    REQUIRE(sandbox.authgate({"snapshot", "--out", snapshot, "-c", sandbox.example()}).exit_code == 0);
    const RunResult in_tenant = sandbox.authgate(
        {"status", "-c", sandbox.example(), "--snapshot", snapshot, "--format", "json", "--state", state}, {}, false);
    INFO(in_tenant.err);
    REQUIRE(in_tenant.exit_code == 0);
    const auto tenant_report = web::json::value::parse(in_tenant.out);  // kept: the loop reads into it
    std::map<std::string, web::json::value> tenant_side;
    for (const auto& entry : tenant_report.at("tenant_exceptions").as_array())
        tenant_side[entry.at("mailbox").as_string()] = entry;
    REQUIRE(tenant_side.count("scanner-3f@contoso.com"));
    CHECK(tenant_side.at("scanner-3f@contoso.com").at("granted_by_authgate").as_bool());
    CHECK_THAT(tenant_side.at("scanner-3f@contoso.com").at("declared").as_string(),
               Catch::Contains("facilities.toml:"));
    REQUIRE(tenant_side.count("monitoring@contoso.com"));
    CHECK_FALSE(tenant_side.at("monitoring@contoso.com").at("granted_by_authgate").as_bool());
    REQUIRE(tenant_side.count("breakglass@contoso.com"));  // protected: in force, declared nowhere
    CHECK(tenant_side.at("breakglass@contoso.com").at("declared").is_null());
    CHECK_FALSE(tenant_side.count("hr-payroll@contoso.com"));  // its own setting turns SMTP AUTH off
    const RunResult in_tenant_text =
        sandbox.authgate({"status", "-c", sandbox.example(), "--snapshot", snapshot, "--state", state}, {}, false);
    CHECK_THAT(in_tenant_text.out, Catch::Contains("breakglass@contoso.com  not declared: an unlisted override"));

    const RunResult history = sandbox.authgate({"history", "--format", "json", "--state", state}, {}, false);
    REQUIRE(history.exit_code == 0);
    const auto runs = web::json::value::parse(history.out).at("runs");
    REQUIRE(runs.size() == 1);
    CHECK(runs.at(0).at("changes").size() == 15);
    const auto first = runs.at(0).at("changes").at(0);
    CHECK(first.at("resource").as_string() == "authentication_policy");
    CHECK(first.at("status").as_string() == "verified");
    CHECK(first.at("client_request_id").as_string().size() == 36);

    const RunResult explained =
        sandbox.authgate({"explain", "mfp-lobby@contoso.com", "-c", sandbox.example(), "--format", "json"});
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
    const RunResult ceo = sandbox.authgate({"explain", "ceo@contoso.com", "-c", sandbox.example()});
    CHECK_THAT(ceo.out, Catch::Contains("SMTP AUTH with OAuth (XOAUTH2): refused"));
}
