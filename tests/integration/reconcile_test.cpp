// authgate reconcile against the sandbox tenant: drift, the exception lifecycle, the service.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include "journal_reader.h"
#include "policies/time.h"
#include "sandbox_fixture.h"

using namespace authgate;
using namespace authgate::testing;
namespace fs = std::filesystem;

namespace {

const std::string& state_db(const Sandbox& sandbox) { return sandbox.journal(); }

// A small desired state for the contoso seed: the org switch, one exception, the webhook.
std::string write_desired(const Sandbox& sandbox, const std::string& exception_expires, const std::string& extra = "") {
    const fs::path file = sandbox.folder() / "desired.toml";
    std::ofstream(file)
        << "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n"
           "[smtp_auth]\norg_disabled = true\nunlisted_overrides = \"report\"\n"
           "[[smtp_auth.exception]]\nmailbox = \"scanner-3f@contoso.com\"\nowner = \"facilities-it@contoso.com\"\n"
           "reason = \"MFP firmware\"\nexpires = "
        << exception_expires
        << "\nticket = \"CHG1\"\nreplacement = \"hve\"\n"
           "[notifications]\nwebhook_url = \""
        << sandbox.origin() << "/_sandbox/webhook\"\n"
        << extra;
    return file.string();
}

std::vector<std::string> webhook_events(const Sandbox& sandbox) {
    std::vector<std::string> events;
    const auto state = sandbox.state();  // kept alive while its members are walked
    for (const auto& hook : state.at("webhooks").as_array()) events.push_back(hook.at("event").as_string());
    return events;
}

std::optional<bool> scanner_override(const Sandbox& sandbox) {
    const auto state = sandbox.state();
    for (const auto& mailbox : state.at("cas_mailboxes").as_array())
        if (mailbox.at("PrimarySmtpAddress").as_string() == "scanner-3f@contoso.com") {
            const auto& value = mailbox.at("SmtpClientAuthenticationDisabled");
            return value.is_null() ? std::nullopt : std::optional<bool>(value.as_bool());
        }
    return std::nullopt;
}

}  // namespace

TEST_CASE("an exception that expires between two reconciles is reverted by the second",
          "[integration][reconcile][clock]") {
    Sandbox sandbox;
    // Three days from now: granted by a pass now, expired for a pass as at four days on.
    const Instant now = now_utc();
    const std::string desired = write_desired(sandbox, format_instant(now + std::chrono::days(3)));
    const std::string four_days_on = format_instant(now + std::chrono::days(4));
    const RunResult first = sandbox.authgate({"reconcile", "-c", desired, "--once", "--state", state_db(sandbox)});
    INFO(first.out << first.err);
    REQUIRE(first.exit_code == 0);
    CHECK(scanner_override(sandbox) == false);  // granted

    const RunResult second = sandbox.authgate(
        {"reconcile", "-c", desired, "--once", "--mode", "expiry", "--at", four_days_on, "--state", state_db(sandbox)});
    INFO(second.out << second.err);
    CHECK(second.exit_code == 0);
    CHECK(scanner_override(sandbox) == std::nullopt);  // reverted to inherit

    const auto events = query(state_db(sandbox),
                              "SELECT event, mailbox, owner, expires FROM exception_events ORDER BY id");
    std::vector<std::string> names;
    for (const auto& row : events) names.push_back(row.at("event"));
    // Three days from expiry it is within warn_days too: warned once, granted, expired, reverted.
    CHECK(names == std::vector<std::string>{"warned", "granted", "expired", "reverted"});
    CHECK(events.at(3).at("owner") == "facilities-it@contoso.com");
    const auto runs = query(state_db(sandbox), "SELECT command, mode, outcome FROM runs ORDER BY id");
    REQUIRE(runs.size() == 2);
    CHECK(runs[1].at("mode") == "expiry");
    CHECK(runs[1].at("outcome") == "succeeded");
    const auto hooks = webhook_events(sandbox);
    CHECK(std::count(hooks.begin(), hooks.end(), "expired") == 1);
    CHECK(std::count(hooks.begin(), hooks.end(), "reverted") == 1);
    // expiry mode changed nothing else: the unlisted overrides are still there.
    const RunResult third = sandbox.authgate(
        {"reconcile", "-c", desired, "--once", "--mode", "expiry", "--at", four_days_on, "--state", state_db(sandbox)});
    CHECK(third.exit_code == 0);
    const auto later = webhook_events(sandbox);
    CHECK(std::count(later.begin(), later.end(), "expired") == 1);  // once
}

TEST_CASE("report mode changes nothing, exits 2 on drift and remembers it", "[integration][reconcile][clock]") {
    Sandbox sandbox;
    const std::string desired = write_desired(sandbox, format_date(now_utc() + std::chrono::days(120)));
    const auto report = [&] {
        return sandbox.authgate(
            {"reconcile", "-c", desired, "--once", "--mode", "report", "--state", state_db(sandbox)});
    };
    const RunResult first = report();
    INFO(first.out << first.err);
    CHECK(first.exit_code == 2);
    CHECK(sandbox.state().at("mutations").size() == 0);
    const auto drift =
        query(state_db(sandbox),
              "SELECT target, attribute, expected, actual, first_seen, last_seen, resolved_at FROM drift ORDER BY id");
    REQUIRE(drift.size() == 9);  // the grant, the org switch, the seed's seven unlisted overrides (reported)
    CHECK(drift[0].at("target") == "scanner-3f@contoso.com");
    CHECK(drift[0].at("expected") == "false");
    CHECK(drift[0].at("actual") == "null");
    CHECK(drift[1].at("target") == "organization");
    CHECK(drift[0].at("resolved_at").empty());
    CHECK(webhook_events(sandbox) == std::vector<std::string>{"drift"});
    CHECK_THAT(sandbox.state().at("webhooks").at(0).at("text").as_string(),
               Catch::StartsWith("authgate (contoso.onmicrosoft.com): 9 new drifts: scanner-3f@contoso.com "
                                 "SmtpClientAuthenticationDisabled is null, desired false; organization "
                                 "SmtpClientAuthenticationDisabled is false, desired true; ") &&
                   Catch::EndsWith("; and 4 more"));

    CHECK(report().exit_code == 2);
    CHECK(query(state_db(sandbox), "SELECT COUNT(*) AS n FROM drift").at(0).at("n") ==
          "9");                                  // the same rows, seen again
    CHECK(webhook_events(sandbox).size() == 1);  // nothing new to announce

    // What a run that changes the tenant would make of it.
    CHECK_THAT(first.out, Catch::Contains(", reconcile --mode enforce would make 2 changes.\n"));
    CHECK_THAT(first.out, Catch::Contains(", reconcile --mode expiry would make 0 changes.\n"));

    REQUIRE(sandbox.authgate({"reconcile", "-c", desired, "--once", "--state", state_db(sandbox)}).exit_code == 0);
    // The run that fixed the grant and the org switch closed their drift itself.
    CHECK(query(state_db(sandbox), "SELECT COUNT(*) AS n FROM drift WHERE resolved_at IS NULL").at(0).at("n") == "7");
    const RunResult after = report();
    CHECK(after.exit_code == 2);  // the unlisted overrides stay reported
    // The grant and the org switch are resolved; the reported overrides stay open.
    CHECK(query(state_db(sandbox), "SELECT COUNT(*) AS n FROM drift WHERE resolved_at IS NULL").at(0).at("n") == "7");
}

TEST_CASE("an apply closes the drift a reconcile recorded and it fixed", "[integration][reconcile]") {
    Sandbox sandbox;
    const std::string desired = write_desired(sandbox, format_date(now_utc() + std::chrono::days(120)));
    REQUIRE(sandbox.authgate({"reconcile", "-c", desired, "--once", "--mode", "report", "--state", state_db(sandbox)})
                .exit_code == 2);
    const auto open = [&] {
        return query(state_db(sandbox), "SELECT COUNT(*) AS n FROM drift WHERE resolved_at IS NULL").at(0).at("n");
    };
    CHECK(open() == "9");
    REQUIRE(sandbox.authgate({"apply", "-c", desired, "--auto-approve", "--state", state_db(sandbox)}).exit_code == 0);
    CHECK(open() == "7");  // the grant and the org switch, made; the reported overrides stay open
    CHECK(query(state_db(sandbox), "SELECT COUNT(*) AS n FROM drift").at(0).at("n") == "9");  // none opened
}

TEST_CASE("a warning is sent once per warn_days threshold", "[integration][reconcile][clock]") {
    Sandbox sandbox;
    const std::string expires = format_date(now_utc() + std::chrono::days(5));
    const std::string desired = write_desired(sandbox, expires);
    for (int i = 0; i < 2; ++i)
        sandbox.authgate({"reconcile", "-c", desired, "--once", "--mode", "report", "--state", state_db(sandbox)});
    const auto warned = query(state_db(sandbox), "SELECT threshold_days FROM exception_events WHERE event = 'warned'");
    REQUIRE(warned.size() == 1);
    CHECK(warned[0].at("threshold_days") == "7");
    const auto hooks = webhook_events(sandbox);
    CHECK(std::count(hooks.begin(), hooks.end(), "warning") == 1);
}

TEST_CASE("a webhook that fails is logged and never fails the run", "[integration][reconcile]") {
    Sandbox sandbox;
    const fs::path file = sandbox.folder() / "desired.toml";
    std::ofstream(file) << "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n[smtp_auth]\norg_disabled = true\n"
                           "[notifications]\nwebhook_url = \"https://127.0.0.1:1/hook\"\n";
    const RunResult run = sandbox.authgate(
        {"reconcile", "-c", file.string(), "--once", "--mode", "report", "--state", state_db(sandbox)});
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains("warning a notification could not be sent webhook=https://127.0.0.1:1"));
    CHECK_THAT(run.err, !Catch::Contains("/hook"));
}

TEST_CASE("as a service it runs every interval, logs JSON lines, and stops cleanly on SIGTERM",
          "[integration][reconcile]") {
    Sandbox sandbox;
    const std::string desired = write_desired(sandbox, format_date(now_utc() + std::chrono::days(120)));
    std::vector<std::string> argv{AUTHGATE_BINARY, "reconcile",    "-c",   desired,   "--interval",     "1s", "--mode",
                                  "report",        "--log-format", "json", "--state", state_db(sandbox)};
    const auto flags = sandbox.connection_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    const std::string log = (sandbox.folder() / "service.log").string();
    BackgroundProgram service(argv, log);
    const auto passes = [&]() -> std::size_t {
        try {
            return journal_exists(state_db(sandbox))
                       ? query(state_db(sandbox), "SELECT id FROM runs WHERE outcome = 'succeeded'").size()
                       : 0;
        } catch (const std::runtime_error&) {
            return 0;  // the journal is being made: its file is there before its tables
        }
    };
    for (int i = 0; i < 600 && passes() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(service.stop() == 0);
    std::ifstream in(log);
    int runs = 0, lines = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] != '{') continue;  // the report text goes to stdout, logged lines are JSON
        const auto json = web::json::value::parse(line);
        ++lines;
        CHECK(json.has_string_field("time"));
        if (json.at("event").as_string() == "run") {
            ++runs;
            CHECK(json.at("mode").as_string() == "report");
            CHECK(json.at("tenant").as_string() == "contoso.onmicrosoft.com");
        }
    }
    CHECK(runs >= 2);
    CHECK(lines >= runs);
    CHECK_THAT(std::string((std::istreambuf_iterator<char>(std::ifstream(log).rdbuf())),
                           std::istreambuf_iterator<char>()),
               Catch::Contains("\"message\":\"reconcile stopped\""));
}

TEST_CASE("an exception deleted from the desired state is reverted like an expired one",
          "[integration][reconcile][clock]") {
    Sandbox sandbox;
    const std::string state = state_db(sandbox);
    REQUIRE(sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state", state}).exit_code == 0);
    REQUIRE(scanner_override(sandbox) == false);  // granted

    // The facilities team deletes the scanner's exception in a pull request.
    const fs::path copy = sandbox.folder() / "desired";
    fs::copy(sandbox.example(), copy, fs::copy_options::recursive);
    std::ifstream in(copy / "exceptions" / "facilities.toml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    const std::size_t from = text.find("[[smtp_auth.exception]]\nmailbox = \"scanner-3f@contoso.com\"");
    const std::size_t to = text.find("[[smtp_auth.exception]]", from + 1);
    REQUIRE((from != std::string::npos && to != std::string::npos));
    text.erase(from, to - from);
    std::ofstream(copy / "exceptions" / "facilities.toml") << text;

    const RunResult expiry =
        sandbox.authgate({"reconcile", "-c", copy.string(), "--once", "--mode", "expiry", "--state", state});
    INFO(expiry.out << expiry.err);
    CHECK(expiry.exit_code == 0);
    CHECK(scanner_override(sandbox) == std::nullopt);
    CHECK_THAT(expiry.out, Catch::Contains("exception removed from the desired state (was granted until " +
                                           example_date("2027-03-31") + ", owner facilities-it@contoso.com)"));
    const auto events =
        query(state, "SELECT event FROM exception_events WHERE mailbox = 'scanner-3f@contoso.com' ORDER BY id");
    REQUIRE(events.size() == 2);
    CHECK(events[0].at("event") == "granted");
    CHECK(events[1].at("event") == "removed");
}

TEST_CASE("a webhook URL is a secret: refused URLs are named by host only, and an unset variable is said",
          "[integration][reconcile][secrets]") {
    Sandbox sandbox;
    const fs::path file = sandbox.folder() / "desired.toml";
    std::ofstream(file) << "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n[smtp_auth]\norg_disabled = true\n"
                           "[notifications]\nwebhook_url_env = \"AUTHGATE_WEBHOOK\"\n";
    const auto reconcile = [&](const std::map<std::string, std::string>& environment) {
        return sandbox.authgate({"reconcile", "-c", file.string(), "--once", "--mode", "report", "--state",
                                 state_db(sandbox)},
                                environment);
    };
    for (const std::string url : {"http://hooks.example.com/services/T0/B0/s3cr3t-path",
                                  "https://user:s3cr3t-password@hooks.example.com/services/T0/B0/s3cr3t-path"}) {
        INFO(url);
        const RunResult run = reconcile({{"AUTHGATE_WEBHOOK", url}});
        CHECK(run.exit_code == 2);
        CHECK_THAT(run.err, Catch::Contains("the webhook URL is refused: it must be https:// and carry no user name or "
                                            "password; no notification will be sent webhook=") &&
                                Catch::Contains("hooks.example.com"));
        CHECK(run.err.find("s3cr3t") == std::string::npos);
        CHECK(run.out.find("s3cr3t") == std::string::npos);
    }
    CHECK(sandbox.state().at("webhooks").size() == 0);
    const RunResult unset = reconcile({{"AUTHGATE_WEBHOOK", ""}});
    CHECK_THAT(unset.err,
               Catch::Contains("no notification will be sent: the variable named by webhook_url_env is not set "
                               "variable=AUTHGATE_WEBHOOK"));
}

TEST_CASE("tenant text in a webhook is inert in the chat: no mention, link or markup",
          "[integration][reconcile][safety]") {
    const fs::path folder = fs::temp_directory_path() / ("authgate-hostile-seed-" + std::to_string(::getpid()));
    fs::create_directories(folder);
    const fs::path seed = folder / "live.json";
    std::ofstream(seed) << R"({"transport_config":{"SmtpClientAuthenticationDisabled":true},
      "cas_mailboxes":[{"Identity":"m","Guid":"1f1d2c3b-4a59-4e7f-8d21-0a9b8c7d6e51",
        "PrimarySmtpAddress":"<!channel><https://evil.example|click here>@contoso.com","SmtpClientAuthenticationDisabled":false}],
      "authentication_policies":[],"organization_config":{"DefaultAuthenticationPolicy":null},"users":[]})";
    Sandbox sandbox({seed.string(), {}});
    const fs::path file = sandbox.folder() / "desired.toml";
    std::ofstream(file) << "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n[smtp_auth]\norg_disabled = true\n"
                           "unlisted_overrides = \"report\"\n[notifications]\nwebhook_url = \""
                        << sandbox.origin() << "/_sandbox/webhook\"\n";
    const RunResult run = sandbox.authgate(
        {"reconcile", "-c", file.string(), "--once", "--mode", "report", "--state", state_db(sandbox)});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 2);
    const auto state = sandbox.state();
    REQUIRE(state.at("webhooks").size() == 1);
    const std::string text = state.at("webhooks").at(0).at("text").as_string();
    CHECK_THAT(text, Catch::Contains("&lt;!channel&gt;&lt;https://evil.example|click here&gt;@contoso.com"));
    CHECK(text.find('<') == std::string::npos);
    std::error_code ignored;
    fs::remove_all(folder, ignored);
}

TEST_CASE("reconcile leaves alone, and reports, a mailbox that a missing exception's address may mean",
          "[integration][reconcile][safety][clock]") {
    Sandbox sandbox;
    // Judged by the real clock: a missing mailbox is missing whether its exception is in force or expired.
    const std::string desired = source_dir() + "/tests/cli/cases/plan_typo_mailbox/desired.toml";
    const RunResult result = sandbox.authgate({"reconcile", "-c", desired, "--once", "--state", state_db(sandbox)});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.out,
               Catch::Contains("no mailbox has the address 'old-prnter@contoso.com' (exception owned by "
                               "facilities-it@contoso.com); did you mean 'old-printer@contoso.com'? Its change "
                               "(SmtpClientAuthenticationDisabled false -> null, unlisted_override) is held, "
                               "reported and not made, until the address is corrected"));
    // Reported: its drift is remembered like any other.
    CHECK(query(state_db(sandbox), "SELECT 1 FROM drift WHERE target = 'old-printer@contoso.com'").size() == 1);
    const web::json::value state = sandbox.state();
    bool printer_changed = false, others_changed = false;
    for (const auto& mutation : state.at("mutations").as_array()) {
        const std::string text = mutation.serialize();
        (text.find("old-printer") != std::string::npos ? printer_changed : others_changed) = true;
    }
    CHECK_FALSE(printer_changed);
    CHECK(others_changed);  // the rest of the plan is made
    // plan and apply, with someone to correct the address, refuse instead.
    const RunResult plan = sandbox.authgate({"plan", "-c", desired});
    CHECK(plan.exit_code == 1);
    CHECK_THAT(plan.err, Catch::Contains("did you mean 'old-printer@contoso.com', which this plan would change"));
}

TEST_CASE("SIGTERM during a reconcile's writes stops it before the next: 143 once, a clean stop as a service",
          "[integration][reconcile][safety]") {
    const bool service = GENERATE(false, true);
    Sandbox sandbox;
    sandbox.set_faults(R"({"latency_ms": 300})");
    // The bundled example: fifteen changes in eight groups of writes.
    std::vector<std::string> args{"reconcile", "-c", sandbox.example(), "--state", state_db(sandbox)};
    if (service) args.insert(args.end(), {"--interval", "1h"});
    auto reconcile = sandbox.start_authgate(args);
    const auto mutations = [&] { return sandbox.state().at("mutations").size(); };
    for (int i = 0; i < 1200 && mutations() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    REQUIRE(mutations() > 0);
    reconcile->signal(SIGTERM);
    const RunResult result = reconcile->finish();
    INFO(result.out << result.err);
    CHECK(result.exit_code == (service ? 0 : 143));
    CHECK_THAT(result.err, Catch::Contains("Interrupted by SIGTERM: "));
    const auto runs = query(state_db(sandbox), "SELECT outcome FROM runs");
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].at("outcome") == "interrupted");
    CHECK(query(state_db(sandbox), "SELECT * FROM locks").empty());
}
