// authgate apply over real HTTPS against the sandbox tenant: changes, verification, journal.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
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

const std::string& state_db(const Sandbox& sandbox) { return sandbox.journal(); }

// Apply of `desired`, else of the bundled example as it reads today.
std::vector<std::string> apply_args(const Sandbox& sandbox, const std::string& desired = "") {
    return {"apply",          "-c",      desired.empty() ? sandbox.example() : desired,
            "--auto-approve", "--state", state_db(sandbox)};
}

int mutations(const Sandbox& sandbox) { return static_cast<int>(sandbox.state().at("mutations").size()); }

// Whether a run holds the tenant's lock in the sandbox's journal (which may not be made yet).
bool lock_held(const Sandbox& sandbox) {
    try {
        return journal_exists(state_db(sandbox)) && !query(state_db(sandbox), "SELECT holder FROM locks").empty();
    } catch (const std::runtime_error&) {
        return false;  // the journal is being created
    }
}

// Waits (generously: the machine may be loaded) until the lock is held.
bool wait_for_lock(const Sandbox& sandbox) {
    for (int i = 0; i < 1200; ++i) {
        if (lock_held(sandbox)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

// A copy of the bundled example as it reads today with one file's text changed, under the sandbox's folder.
std::string contoso_with(const Sandbox& sandbox, const std::string& file, const std::string& from,
                         const std::string& to) {
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

TEST_CASE("apply converges, every change is verified and journalled, and a second plan is empty",
          "[integration][apply][clock]") {
    Sandbox sandbox;
    const RunResult applied = sandbox.authgate(apply_args(sandbox));
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    // Revocations too: StsRefreshTokensValidFrom is read back one user at a time.
    CHECK_THAT(applied.out,
               Catch::Contains("Apply finished: 15 verified, 0 applied (cannot be read back), 0 failed, 0 not made."));
    CHECK(mutations(sandbox) == 15);

    const RunResult again = sandbox.authgate({"plan", "-c", sandbox.example(), "--detailed-exitcode"});
    INFO(again.out << again.err);
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Catch::Contains("Plan: 0 to change, 0 to report, 1 skipped."));

    const auto runs = query(state_db(sandbox),
                            "SELECT command, tenant, tenant_name, outcome, planned, applied, failed, "
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
    const auto changes = query(state_db(sandbox),
                               "SELECT status, COUNT(*) AS n FROM changes GROUP BY status ORDER BY status");
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].at("status") == "verified");
    CHECK(changes[0].at("n") == "15");
    const auto events = query(state_db(sandbox),
                              "SELECT mailbox, event, owner, expires FROM exception_events ORDER BY mailbox");
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
    CHECK_THAT(applied.err,
               Catch::Contains("error: transport_config organization SmtpClientAuthenticationDisabled: not "
                               "made: the exception grant for mfp-lobby@contoso.com failed"));
    const auto state = sandbox.state();
    CHECK(state.at("transport_config").at("SmtpClientAuthenticationDisabled").as_bool() == false);
    const auto runs = query(state_db(sandbox), "SELECT outcome FROM runs");
    CHECK(runs.at(0).at("outcome") == "partial");
    const auto failed =
        query(state_db(sandbox),
              "SELECT target, attribute, status, error FROM changes WHERE status != 'verified' ORDER BY sequence");
    std::vector<std::string> rows;
    for (const auto& row : failed)
        rows.push_back(row.at("status") + " " + row.at("target") + " " + row.at("attribute"));
    CHECK(rows == std::vector<std::string>{"failed mfp-lobby@contoso.com AuthenticationPolicy",
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
    if (!wait_for_lock(sandbox)) {
        a.join();  // what the first apply said is the clue
        FAIL("the first apply's lock was never seen; it exited " << first.exit_code << ":\n" << first.out << first.err);
    }
    const RunResult second = sandbox.authgate(apply_args(sandbox));
    sandbox.set_faults("{}");  // the second has met the lock: the first need not be slow any more
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

TEST_CASE("apply and reconcile judge exceptions as at --at only when it is not earlier than now",
          "[integration][apply][safety][clock]") {
    Sandbox sandbox;
    // Earlier would keep in force the exceptions that have expired: refused before anything is read.
    for (const std::string command : {"apply", "reconcile"}) {
        const RunResult earlier =
            sandbox.authgate({command, "-c", sandbox.example(), command == "apply" ? "--auto-approve" : "--once",
                              "--at", "2026-01-01", "--state", state_db(sandbox)});
        INFO(earlier.err);
        CHECK(earlier.exit_code == 1);
        CHECK_THAT(earlier.err, Catch::Contains("--at 2026-01-01 is earlier than the system clock"));
    }
    CHECK(sandbox.token_requests() == 0);
    CHECK(mutations(sandbox) == 0);
    // Later: as at 200 days on, every exception of the example has expired, and each is reverted.
    const std::string later = authgate::format_instant(authgate::now_utc() + std::chrono::days(200));
    const RunResult applied = sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--allow-large",
                                                "--at", later, "--state", state_db(sandbox)});
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
    CHECK_THAT(refused.err,
               Catch::Contains("standard input is not a terminal: add --auto-approve to apply without asking"));
    CHECK(mutations(sandbox) == 0);
}

TEST_CASE("a saved plan is applied as reviewed, and refused when stale, old, for another tenant or desired state",
          "[integration][apply][clock]") {
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
        CHECK_THAT(refused.err,
                   Catch::StartsWith("error: the saved plan is stale; the tenant changed since it was made:\n") &&
                       Catch::Contains("  mailbox scanner-3f@contoso.com SmtpClientAuthenticationDisabled is "
                                       "false, the plan expected null\n") &&
                       Catch::EndsWith("Nothing was changed; make a new plan.\n"));
        CHECK(mutations(sandbox) == 15);  // the first apply's, none more
        CHECK(query(state_db(sandbox), "SELECT outcome FROM runs ORDER BY id").at(1).at("outcome") == "refused");
    }
    SECTION("made for another tenant") {
        const RunResult refused = sandbox.authgate(
            {"apply", plan_file, "--state", state_db(sandbox), "--tenant", "fabrikam.onmicrosoft.com"});
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err,
                   Catch::Contains("the plan was made for tenant contoso.onmicrosoft.com, not "
                                   "fabrikam.onmicrosoft.com; a saved plan is applied only to its own tenant"));
        CHECK(mutations(sandbox) == 0);
    }
    SECTION("older than --max-plan-age") {
        const std::string day_old = authgate::format_instant(authgate::now_utc() - std::chrono::hours(25));
        std::ofstream(plan_file) << std::regex_replace(original, std::regex("\"evaluated_at\": \"[^\"]+\""),
                                                       "\"evaluated_at\": \"" + day_old + "\"");
        const RunResult refused = sandbox.authgate({"apply", plan_file, "--state", state_db(sandbox)});
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::StartsWith("error: the saved plan was made " + day_old +
                                                  ", more than "
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

namespace {

web::json::value read_json(const std::string& path) {
    std::ifstream in(path);
    return web::json::value::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

void write_json(const std::string& path, const web::json::value& json) { std::ofstream(path) << json.serialize(); }

// A reviewed saved plan of the bundled example, and its path.
std::string reviewed_plan(const Sandbox& sandbox, const std::string& desired = "") {
    const std::string plan_file = (sandbox.folder() / "reviewed.plan.json").string();
    const RunResult planned =
        sandbox.authgate({"plan", "-c", desired.empty() ? sandbox.example() : desired, "--out", plan_file});
    INFO(planned.err);
    REQUIRE(planned.exit_code == 0);
    return plan_file;
}

}  // namespace

TEST_CASE("a saved plan edited after review is refused whole, naming the first difference",
          "[integration][apply][safety]") {
    Sandbox sandbox;
    const std::string plan_file = reviewed_plan(sandbox);
    web::json::value plan = read_json(plan_file);
    web::json::value& changes = plan["changes"];
    // The CEO's user put on the policy that allows Basic SMTP, and a mailbox removed.
    web::json::value ceo = changes[changes.size() - 1];
    ceo["resource"] = web::json::value::string("user");
    ceo["target"] = web::json::value::string("ceo@contoso.com");
    ceo["attribute"] = web::json::value::string("AuthenticationPolicy");
    ceo["action"] = web::json::value::string("update");
    ceo["before"] = web::json::value::null();
    ceo["after"] = web::json::value::string("Allow Basic SMTP and POP");
    ceo["cmdlet"]["name"] = web::json::value::string("Remove-Mailbox");
    ceo["cmdlet"]["parameters"] = web::json::value::object();
    ceo["cmdlet"]["parameters"]["Identity"] = web::json::value::string("ceo@contoso.com");
    changes[0] = ceo;
    write_json(plan_file, plan);

    const RunResult refused = sandbox.authgate({"apply", plan_file, "--state", state_db(sandbox)});
    INFO(refused.out << refused.err);
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err,
               Catch::StartsWith("error: the saved plan is not the plan made now from the desired state and "
                                 "the tenant: change 1 is user ceo@contoso.com AuthenticationPolicy null -> "
                                 "'Allow Basic SMTP and POP' in the saved plan, but authentication_policy "
                                 "Allow Basic SMTP and POP Name null -> 'Allow Basic SMTP and POP' (create) "
                                 "in the plan made now; make and review a new plan\nNothing was changed.\n"));
    CHECK(mutations(sandbox) == 0);
    CHECK(sandbox.cmdlet_calls("Remove-Mailbox") == 0);
    CHECK(query(state_db(sandbox), "SELECT outcome FROM runs").at(0).at("outcome") == "refused");
}

TEST_CASE("the cmdlets and endpoints of a saved plan are never the file's", "[integration][apply][safety]") {
    Sandbox sandbox;
    // Endpoints and trust from the desired state; who signs in from the environment.
    const std::string desired = contoso_with(sandbox, "tenant.toml", "\\[connection\\]\n",
                                             "[connection]\nlogin_endpoint = \"" + sandbox.origin() +
                                                 "\"\nexchange_endpoint = \"" + sandbox.origin() +
                                                 "\"\nca_bundle = \"" + sandbox.ca_bundle() + "\"\n");
    const std::map<std::string, std::string> environment{{"AUTHGATE_CERTIFICATE", client_credentials().pem}};
    const std::string plan_file = (sandbox.folder() / "reviewed.plan.json").string();
    REQUIRE(sandbox.authgate({"plan", "-c", desired, "--out", plan_file}, environment, false).exit_code == 0);
    web::json::value plan = read_json(plan_file);
    for (auto& change : plan["changes"].as_array()) {
        change["cmdlet"]["name"] = web::json::value::string("Remove-Mailbox");
        change["cmdlet"]["parameters"] = web::json::value::object();
        change["cmdlet"]["parameters"]["Identity"] = change.at("target");
    }
    // Where a token would go, and whom TLS would trust, pointed elsewhere.
    plan["saved"]["connection"]["login_endpoint"] = web::json::value::string("https://127.0.0.1:1");
    plan["saved"]["connection"]["exchange_endpoint"] = web::json::value::string("https://127.0.0.1:1");
    plan["saved"]["connection"]["ca_bundle"] = web::json::value::string("/dev/null");
    write_json(plan_file, plan);

    const RunResult applied = sandbox.authgate({"apply", plan_file, "--state", state_db(sandbox)}, environment, false);
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    CHECK(mutations(sandbox) == 15);
    CHECK(sandbox.cmdlet_calls("Remove-Mailbox") == 0);
    CHECK(sandbox.authgate({"plan", "-c", desired, "--detailed-exitcode"}, environment, false).exit_code == 0);
}

TEST_CASE("a saved plan's revocation counts from when it is made, not from when the plan was",
          "[integration][apply][clock]") {
    Sandbox sandbox;
    const std::string plan_file = reviewed_plan(sandbox);
    // The plan says its revocations are from a day ago.
    const std::string day_old = authgate::format_instant(authgate::now_utc() - std::chrono::hours(23));
    web::json::value plan = read_json(plan_file);
    for (auto& change : plan["changes"].as_array())
        if (change.at("attribute").as_string() == "STSRefreshTokensValidFrom") {
            change["after"] = web::json::value::string(day_old);
            change["cmdlet"]["parameters"]["STSRefreshTokensValidFrom"] = web::json::value::string(day_old);
        }
    write_json(plan_file, plan);
    const std::string before = authgate::format_instant(authgate::now_utc());
    const RunResult applied = sandbox.authgate({"apply", plan_file, "--state", state_db(sandbox)});
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    int revocations = 0;
    const web::json::value state = sandbox.state();
    for (const auto& mutation : state.at("mutations").as_array()) {
        const auto& parameters = mutation.at("parameters");
        if (!parameters.has_field("STSRefreshTokensValidFrom")) continue;
        ++revocations;
        CHECK(parameters.at("STSRefreshTokensValidFrom").as_string().substr(0, 19) >= before.substr(0, 19));
    }
    CHECK(revocations == 2);
}

TEST_CASE("every spelling of one tenant shares one lock", "[integration][apply][safety]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"latency_ms": 300})");
    auto first = sandbox.start_authgate(apply_args(sandbox));
    REQUIRE(wait_for_lock(sandbox));
    for (const std::string& spelling : {std::string("CONTOSO.ONMICROSOFT.COM"), sandbox.tenant_id()}) {
        auto args = apply_args(sandbox);
        args.insert(args.end(), {"--tenant", spelling});
        const RunResult second = sandbox.authgate(args);
        INFO(second.err);
        CHECK(second.exit_code == 1);
        CHECK_THAT(second.err, Catch::StartsWith("error: another apply holds the lock for " + spelling + ": "));
    }
    sandbox.set_faults("{}");  // every spelling has met the lock: the first need not be slow any more
    const RunResult done = first->finish();
    INFO(done.err);
    CHECK(done.exit_code == 0);
    CHECK(mutations(sandbox) == 15);  // each change once
}

TEST_CASE("a run that lost its lock writes nothing more", "[integration][apply][safety]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"latency_ms": 300})");
    auto apply = sandbox.start_authgate(apply_args(sandbox));
    for (int i = 0; i < 1200 && mutations(sandbox) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    // Its lease ran out, and another run took the lock.
    modify(state_db(sandbox), "UPDATE locks SET holder = 'another-host:4242', boot_id = ''");
    const RunResult result = apply->finish();
    INFO(result.out << result.err);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Catch::Contains("error: the apply stopped: this run no longer holds the tenant's lock"));
    CHECK(mutations(sandbox) < 15);
    CHECK_THAT(result.out, Catch::Contains("not made: this run no longer holds the tenant's lock"));
    CHECK(query(state_db(sandbox), "SELECT holder FROM locks").at(0).at("holder") ==
          "another-host:4242");  // not its to free
}

// The lease and the dead-holder check are the SQLite journal's; in PostgreSQL the holder's
// connection decides (postgresql_test.cpp).
TEST_CASE("a lock whose holder died on this host is taken over at once, a live one is not",
          "[integration][apply][safety][sqlite]") {
    Sandbox sandbox;
    // A journal (made by an apply the guardrail refuses), then a lock in it held, lease far
    // ahead, by a process of this host and boot.
    REQUIRE(
        sandbox
            .authgate(apply_args(sandbox, contoso_with(sandbox, "tenant.toml", "max_changes = 50", "max_changes = 1")))
            .exit_code == 1);
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::string boot;
    std::getline(std::ifstream("/proc/sys/kernel/random/boot_id"), boot);
    const auto hold = [&](pid_t pid) {
        modify(state_db(sandbox), "DELETE FROM locks");
        modify(state_db(sandbox), "INSERT INTO locks(tenant, holder, acquired_at, lease_until, boot_id) VALUES('" +
                                      sandbox.tenant_id() + "', '" + host + ":" + std::to_string(pid) +
                                      "', '2026-01-01T00:00:00Z', '2999-01-01T00:00:00Z', '" + boot + "')");
    };
    SECTION("alive: refused") {
        hold(getpid());
        const RunResult refused = sandbox.authgate(apply_args(sandbox));
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::StartsWith("error: another apply holds the lock"));
        CHECK(mutations(sandbox) == 0);
    }
    SECTION("dead: taken over") {
        // A pid that was alive and is gone.
        pid_t dead = 0;
        {
            RunningProgram child({"/bin/true"}, {});
            dead = child.pid();
            child.finish();
        }
        hold(dead);
        const RunResult applied = sandbox.authgate(apply_args(sandbox));
        INFO(applied.err);
        CHECK(applied.exit_code == 0);
        CHECK(mutations(sandbox) == 15);
    }
}

TEST_CASE("Ctrl-C or SIGTERM during apply stops before the next write, journals the run interrupted and frees the lock",
          "[integration][apply][safety]") {
    const auto [signal, exit_code, name] = GENERATE(std::make_tuple(SIGINT, 130, std::string("SIGINT")),
                                                    std::make_tuple(SIGTERM, 143, std::string("SIGTERM")));
    Sandbox sandbox;
    sandbox.set_faults(R"({"latency_ms": 300})");
    auto apply = sandbox.start_authgate(apply_args(sandbox));
    for (int i = 0; i < 1200 && mutations(sandbox) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    REQUIRE(mutations(sandbox) > 0);
    apply->signal(signal);
    const RunResult result = apply->finish();
    INFO(result.out << result.err);
    CHECK(result.exit_code == exit_code);
    const int made = mutations(sandbox);
    CHECK(made < 15);
    CHECK_THAT(result.out, Catch::Contains("Apply stopped (interrupted by " + name + "): "));
    CHECK_THAT(result.err, Catch::Contains("Interrupted by " + name + ": " + std::to_string(made) +
                                           " of 15 changes were sent and accepted; the rest were not sent."));
    const auto runs = query(state_db(sandbox), "SELECT outcome, error FROM runs");
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].at("outcome") == "interrupted");
    CHECK(query(state_db(sandbox), "SELECT * FROM locks").empty());
    CHECK(query(state_db(sandbox), "SELECT * FROM changes WHERE status = 'sending'").empty());
    CHECK(std::stoi(
              query(state_db(sandbox), "SELECT COUNT(*) AS n FROM changes WHERE status = 'applied'").at(0).at("n")) ==
          made);
    // The next apply finishes the job at once (and need not be slow).
    sandbox.set_faults("{}");
    const RunResult next = sandbox.authgate(apply_args(sandbox));
    CHECK(next.exit_code == 0);
    CHECK(mutations(sandbox) == 15);
}

// A SQLite file that cannot grow; in PostgreSQL, a lost connection (postgresql_test.cpp).
TEST_CASE("a journal that cannot be written mid-apply stops the writes, says what was made, and does not crash",
          "[integration][apply][safety][sqlite]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"latency_ms": 300})");
    // The disk fills: a file-size limit of 0 makes every write to the journal fail (as ENOSPC
    // does), with SIGXFSZ ignored so that it is an error and not the end of the process.
    std::signal(SIGXFSZ, SIG_IGN);
    auto apply = sandbox.start_authgate(apply_args(sandbox));
    for (int i = 0; i < 1200 && mutations(sandbox) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    REQUIRE(mutations(sandbox) > 0);
    const rlimit none{0, 0};
    REQUIRE(prlimit(apply->pid(), RLIMIT_FSIZE, &none, nullptr) == 0);
    const RunResult result = apply->finish();
    std::signal(SIGXFSZ, SIG_DFL);
    INFO(result.out << result.err);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Catch::Contains("error: the journal could not be written ("));
    CHECK_THAT(result.err, Catch::Contains("no change was sent after that"));
    CHECK(mutations(sandbox) < 15);
    // The process ended by itself, not by a signal, and the next run (not slowed) recovers.
    sandbox.set_faults("{}");
    const RunResult next = sandbox.authgate(apply_args(sandbox));
    INFO(next.out << next.err);
    CHECK(next.exit_code == 0);
    CHECK(sandbox.authgate({"plan", "-c", sandbox.example(), "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("on a terminal, apply of a saved plan asks, and reads the tenant again after the answer",
          "[integration][apply][safety]") {
    Sandbox sandbox;
    const std::string plan_file = reviewed_plan(sandbox);
    SECTION("only yes goes on") {
        auto apply = sandbox.start_authgate({"apply", plan_file, "--state", state_db(sandbox)}, {}, true);
        REQUIRE(apply->wait_for_output("Only 'yes' goes on: "));
        apply->type("no\n");
        const RunResult result = apply->finish();
        CHECK(result.exit_code == 1);
        CHECK_THAT(result.out, Catch::Contains("Apply cancelled; nothing was changed."));
        CHECK(mutations(sandbox) == 0);
        // The journal says the admin declined, not that the run failed.
        const auto runs = query(state_db(sandbox), "SELECT outcome FROM runs");
        REQUIRE(runs.size() == 1);
        CHECK(runs[0].at("outcome") == "declined");
    }
    SECTION("yes: applied") {
        auto apply = sandbox.start_authgate({"apply", plan_file, "--state", state_db(sandbox)}, {}, true);
        REQUIRE(apply->wait_for_output("Only 'yes' goes on: "));
        apply->type("yes\n");
        const RunResult result = apply->finish();
        INFO(result.out);
        CHECK(result.exit_code == 0);
        CHECK(mutations(sandbox) == 15);
    }
    SECTION("the tenant changed while the prompt waited: refused") {
        auto apply = sandbox.start_authgate({"apply", plan_file, "--state", state_db(sandbox)}, {}, true);
        REQUIRE(apply->wait_for_output("Only 'yes' goes on: "));
        // Someone else applied meanwhile (under another journal: the lock does not see it).
        REQUIRE(sandbox
                    .authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state",
                               (sandbox.folder() / "other.db").string()})
                    .exit_code == 0);
        apply->type("yes\n");
        const RunResult result = apply->finish();
        INFO(result.out);
        CHECK(result.exit_code == 1);
        CHECK_THAT(result.out, Catch::Contains("error: the tenant changed while waiting for the answer: "));
        CHECK(mutations(sandbox) == 15);  // the other run's only
    }
    SECTION("the lock went to another run while the prompt waited: refused") {
        auto apply = sandbox.start_authgate({"apply", plan_file, "--state", state_db(sandbox)}, {}, true);
        REQUIRE(apply->wait_for_output("Only 'yes' goes on: "));
        modify(state_db(sandbox), "UPDATE locks SET holder = 'another-host:4242', boot_id = ''");
        apply->type("yes\n");
        const RunResult result = apply->finish();
        INFO(result.out);
        CHECK(result.exit_code == 1);
        CHECK_THAT(result.out, Catch::Contains("error: this run lost the tenant's lock while waiting for the answer"));
        CHECK(mutations(sandbox) == 0);
    }
}
