// authgate apply over real HTTPS against the sandbox tenant: changes, verification, journal.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "journal_reader.h"
#include "policies/time.h"
#include "sandbox_fixture.h"

using namespace authgate::testing;
namespace fs = std::filesystem;

namespace {

std::string state_db(const Sandbox& sandbox) { return (sandbox.folder() / "state.db").string(); }

// Apply of `desired`, else of the bundled example as it reads today.
std::vector<std::string> apply_args(const Sandbox& sandbox, const std::string& desired = "") {
    return {"apply", "-c", desired.empty() ? sandbox.example() : desired, "--auto-approve", "--state", state_db(sandbox)};
}

int mutations(const Sandbox& sandbox) { return static_cast<int>(sandbox.state().at("mutations").size()); }

// A copy of the bundled example as it reads today with one file's text changed, under the sandbox's folder.
std::string contoso_with(const Sandbox& sandbox, const std::string& file, const std::string& from, const std::string& to) {
    const fs::path copy = sandbox.folder() / "desired";
    fs::copy(sandbox.example(), copy, fs::copy_options::recursive);
    std::ifstream in(copy / file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    text = std::regex_replace(text, std::regex(from), to);
    std::ofstream(copy / file) << text;
    return copy.string();
}

}  // namespace

TEST_CASE("apply converges, every change is verified and journalled, and a second plan is empty", "[integration][apply][clock]") {
    Sandbox sandbox;
    const RunResult applied = sandbox.authgate(apply_args(sandbox));
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    // Revocations too: StsRefreshTokensValidFrom is read back one user at a time.
    CHECK_THAT(applied.out, Catch::Contains("Apply finished: 15 verified, 0 applied (cannot be read back), 0 failed, 0 not made."));
    CHECK(mutations(sandbox) == 15);

    const RunResult again = sandbox.authgate({"plan", "-c", sandbox.example(), "--detailed-exitcode"});
    INFO(again.out << again.err);
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Catch::Contains("Plan: 0 to change, 0 to report, 1 skipped."));

    const auto runs = query(state_db(sandbox), "SELECT command, tenant, tenant_name, outcome, planned, applied, failed, "
                                               "desired_digest FROM runs");
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].at("command") == "apply");
    CHECK(runs[0].at("tenant") == sandbox.tenant_id());  // keyed by the GUID the sign-in names
    CHECK(runs[0].at("tenant_name") == tenant);
    CHECK(runs[0].at("outcome") == "succeeded");
    CHECK(runs[0].at("planned") == "15");
    CHECK(runs[0].at("applied") == "15");
    CHECK(runs[0].at("failed") == "0");
    CHECK_THAT(runs[0].at("desired_digest"), Catch::StartsWith("sha256:"));
    const auto changes = query(state_db(sandbox), "SELECT status, COUNT(*) AS n FROM changes GROUP BY status ORDER BY status");
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].at("status") == "verified");
    CHECK(changes[0].at("n") == "15");
    const auto events = query(state_db(sandbox), "SELECT mailbox, event, owner, expires FROM exception_events ORDER BY mailbox");
    REQUIRE(events.size() == 3);
    CHECK(events[0].at("mailbox") == "legacy-erp@contoso.com");
    CHECK(events[0].at("event") == "reverted");
    CHECK(events[1].at("mailbox") == "mfp-lobby@contoso.com");
    CHECK(events[1].at("event") == "granted");
    CHECK(events[2].at("mailbox") == "scanner-3f@contoso.com");
    CHECK(events[2].at("owner") == "facilities-it@contoso.com");
    CHECK(events[2].at("expires") == example_date("2027-03-31"));
    CHECK(query(state_db(sandbox), "SELECT * FROM locks").empty());

    const RunResult nothing = sandbox.authgate(apply_args(sandbox));
    CHECK(nothing.exit_code == 0);
    CHECK_THAT(nothing.out, Catch::EndsWith("Nothing to apply.\n"));
    CHECK(mutations(sandbox) == 15);
}

TEST_CASE("a cmdlet the tenant refuses leaves the others applied and journalled, exit 1", "[integration][apply]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"forbidden_cmdlets": ["Set-User"]})");
    const RunResult applied = sandbox.authgate(apply_args(sandbox));
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 1);
    CHECK_THAT(applied.err, Catch::Contains("error: user mfp-lobby@contoso.com AuthenticationPolicy: Set-User failed: "
                                            "HTTP 401: User is not allowed to call Set-User"));
    // The grant of mfp-lobby's policy failed: the org switch and the tightening wait for it.
    CHECK_THAT(applied.err, Catch::Contains("error: transport_config organization SmtpClientAuthenticationDisabled: not "
                                            "made: the exception grant for mfp-lobby@contoso.com failed"));
    const auto state = sandbox.state();
    CHECK(state.at("transport_config").at("SmtpClientAuthenticationDisabled").as_bool() == false);
    const auto runs = query(state_db(sandbox), "SELECT outcome FROM runs");
    CHECK(runs.at(0).at("outcome") == "partial");
    const auto failed = query(state_db(sandbox), "SELECT target, attribute, status, error FROM changes WHERE status != 'verified' ORDER BY sequence");
    std::vector<std::string> rows;
    for (const auto& row : failed) rows.push_back(row.at("status") + " " + row.at("target") + " " + row.at("attribute"));
    CHECK(rows == std::vector<std::string>{
                      "failed mfp-lobby@contoso.com AuthenticationPolicy",
                      "skipped organization SmtpClientAuthenticationDisabled",
                      "skipped Block Basic Auth AllowBasicAuthImap",
                      "skipped organization DefaultAuthenticationPolicy",
                      // Its revert to inherit waits for the org switch, which waits for the grant.
                      "skipped hr-payroll@contoso.com SmtpClientAuthenticationDisabled",
                      "failed legacy-erp@contoso.com AuthenticationPolicy",
                      "skipped legacy-erp@contoso.com STSRefreshTokensValidFrom",
                      "failed sales-bot@contoso.com AuthenticationPolicy",
                      "skipped sales-bot@contoso.com STSRefreshTokensValidFrom"});
    CHECK_THAT(failed.at(0).at("error"), Catch::Contains("(client-request-id "));
    // Once the role is there, the next apply finishes the job.
    sandbox.set_faults("{}");
    const RunResult second = sandbox.authgate(apply_args(sandbox));
    CHECK(second.exit_code == 0);
    CHECK(sandbox.authgate({"plan", "-c", sandbox.example(), "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("two applies at once: one runs, the other is refused by the lock, never both write", "[integration][apply]") {
    Sandbox sandbox;
    // Slow enough that the first apply still holds the lock for seconds after taking it.
    sandbox.set_faults(R"({"latency_ms": 300})");
    RunResult first;
    std::thread a([&] { first = sandbox.authgate(apply_args(sandbox)); });
    // The second starts once the first holds the lock, not merely at about the same time.
    // (Bounded generously: on a loaded machine the first may take long to start.)
    bool locked = false;
    for (int i = 0; i < 1200 && !locked; ++i) {
        locked = fs::exists(state_db(sandbox)) && !query(state_db(sandbox), "SELECT holder FROM locks").empty();
        if (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!locked) a.join();
    REQUIRE(locked);
    const RunResult second = sandbox.authgate(apply_args(sandbox));
    a.join();
    INFO(first.err << second.err);
    CHECK(first.exit_code == 0);
    CHECK(second.exit_code == 1);
    CHECK_THAT(second.err, Catch::StartsWith("error: another apply holds the lock for contoso.onmicrosoft.com: ") &&
                               Catch::EndsWith("\nNothing was changed.\n"));
    CHECK(mutations(sandbox) == 15);
    CHECK(query(state_db(sandbox), "SELECT * FROM locks").empty());  // released when the first finished
}

TEST_CASE("guardrails: a plan larger than max_changes needs --allow-large", "[integration][apply][safety]") {
    Sandbox sandbox;
    const std::string desired = contoso_with(sandbox, "tenant.toml", "max_changes = 50", "max_changes = 5");
    const RunResult refused = sandbox.authgate(apply_args(sandbox, desired));
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::StartsWith("error: the plan has 15 changes, more than [guardrails] max_changes = 5; "
                                              "review it and run again with --allow-large"));
    CHECK(mutations(sandbox) == 0);
    CHECK(query(state_db(sandbox), "SELECT outcome FROM runs").at(0).at("outcome") == "refused");
    auto args = apply_args(sandbox, desired);
    args.push_back("--allow-large");
    CHECK(sandbox.authgate(args).exit_code == 0);
    CHECK(mutations(sandbox) == 15);
}

TEST_CASE("apply and reconcile judge exceptions as at --at only when it is not earlier than now", "[integration][apply][safety][clock]") {
    Sandbox sandbox;
    // Earlier would keep in force the exceptions that have expired: refused before anything is read.
    for (const std::string command : {"apply", "reconcile"}) {
        const RunResult earlier = sandbox.authgate({command, "-c", sandbox.example(), command == "apply" ? "--auto-approve" : "--once",
                                                    "--at", "2026-01-01", "--state", state_db(sandbox)});
        INFO(earlier.err);
        CHECK(earlier.exit_code == 1);
        CHECK_THAT(earlier.err, Catch::Contains("--at 2026-01-01 is earlier than the system clock"));
    }
    CHECK(sandbox.token_requests() == 0);
    CHECK(mutations(sandbox) == 0);
    // Later: as at 200 days on, every exception of the example has expired, and each is reverted.
    const std::string later = authgate::format_instant(authgate::now_utc() + std::chrono::days(200));
    const RunResult applied = sandbox.authgate(
        {"apply", "-c", sandbox.example(), "--auto-approve", "--allow-large", "--at", later, "--state", state_db(sandbox)});
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    CHECK_THAT(applied.out, Catch::StartsWith("Plan for contoso.onmicrosoft.com at " + later.substr(0, 10)));
    CHECK_THAT(applied.out, !Catch::Contains("exception_active"));
    const auto events = query(state_db(sandbox), "SELECT event, COUNT(*) AS n FROM exception_events GROUP BY event");
    REQUIRE(events.size() == 1);  // the overrides the tenant had for them reverted; none granted
    CHECK(events.at(0).at("event") == "reverted");
    const auto run = query(state_db(sandbox), "SELECT started_at FROM runs ORDER BY id DESC LIMIT 1");
    CHECK_THAT(run.at(0).at("started_at"), Catch::StartsWith(later.substr(0, 10)));
}

TEST_CASE("apply without a terminal needs --auto-approve", "[integration][apply][safety]") {
    Sandbox sandbox;
    const RunResult refused = sandbox.authgate({"apply", "-c", sandbox.example(), "--state", state_db(sandbox)});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::Contains("standard input is not a terminal: add --auto-approve to apply without asking"));
    CHECK(mutations(sandbox) == 0);
}

TEST_CASE("a saved plan is applied as reviewed, and refused when stale, old, for another tenant or desired state", "[integration][apply][clock]") {
    Sandbox sandbox;
    const std::string plan_file = (sandbox.folder() / "reviewed.plan.json").string();
    const RunResult planned = sandbox.authgate({"plan", "-c", sandbox.example(), "--out", plan_file});
    INFO(planned.err);
    REQUIRE(planned.exit_code == 0);
    const auto read_plan = [&] {
        std::ifstream in(plan_file);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    const std::string original = read_plan();

    SECTION("applied as saved, with no prompt") {
        const RunResult applied = sandbox.authgate({"apply", plan_file, "--state", state_db(sandbox)});
        INFO(applied.out << applied.err);
        CHECK(applied.exit_code == 0);
        CHECK(mutations(sandbox) == 15);
        CHECK(query(state_db(sandbox), "SELECT mode FROM runs").at(0).at("mode") == "saved-plan");
        CHECK(sandbox.authgate({"plan", "-c", sandbox.example(), "--detailed-exitcode"}).exit_code == 0);
    }
    SECTION("stale: the tenant changed since the plan was made") {
        REQUIRE(sandbox.authgate(apply_args(sandbox)).exit_code == 0);  // someone applied in between
        const RunResult refused = sandbox.authgate({"apply", plan_file, "--state", state_db(sandbox)});
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::StartsWith("error: the saved plan is stale; the tenant changed since it was made:\n") &&
                                    Catch::Contains("  mailbox scanner-3f@contoso.com SmtpClientAuthenticationDisabled is "
                                                    "false, the plan expected null\n") &&
                                    Catch::EndsWith("Nothing was changed; make a new plan.\n"));
        CHECK(mutations(sandbox) == 15);  // the first apply's, none more
        CHECK(query(state_db(sandbox), "SELECT outcome FROM runs ORDER BY id").at(1).at("outcome") == "refused");
    }
    SECTION("made for another tenant") {
        const RunResult refused =
            sandbox.authgate({"apply", plan_file, "--state", state_db(sandbox), "--tenant", "fabrikam.onmicrosoft.com"});
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::Contains("the plan was made for tenant contoso.onmicrosoft.com, not "
                                                "fabrikam.onmicrosoft.com; a saved plan is applied only to its own tenant"));
        CHECK(mutations(sandbox) == 0);
    }
    SECTION("older than --max-plan-age") {
        const std::string day_old = authgate::format_instant(authgate::now_utc() - std::chrono::hours(25));
        std::ofstream(plan_file) << std::regex_replace(original, std::regex("\"evaluated_at\": \"[^\"]+\""),
                                                       "\"evaluated_at\": \"" + day_old + "\"");
        const RunResult refused = sandbox.authgate({"apply", plan_file, "--state", state_db(sandbox)});
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::StartsWith("error: the saved plan was made " + day_old + ", more than "
                                                  "--max-plan-age ago; make a new plan"));
        CHECK(mutations(sandbox) == 0);
    }
    SECTION("the desired state changed since") {
        const std::string desired = contoso_with(sandbox, "tenant.toml", "max_changes = 50", "max_changes = 60");
        const RunResult refused = sandbox.authgate({"apply", plan_file, "-c", desired, "--state", state_db(sandbox)});
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::StartsWith("error: the desired state has changed since the plan was made"));
        CHECK(mutations(sandbox) == 0);
    }
}
