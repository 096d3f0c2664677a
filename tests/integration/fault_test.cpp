// The fault-injection suite: plan, apply and reconcile --once on the Contoso example while the
// sandbox throttles, fails, drops connections, cuts answers, answers late, expires page links,
// garbles tokens and refuses cmdlets. For each fault: the outcome (converged, or exit 1 naming the
// cause), no change lost or made twice (the sandbox's mutation record against the plan), and what
// the journal says. Each case appends a row to fault-results.tsv in the build folder;
// scripts/fault-table prints them as a table.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "journal_reader.h"
#include "sandbox_fixture.h"

using namespace authgate::testing;
namespace fs = std::filesystem;
using web::json::value;

namespace {

const std::string& state_db(const Sandbox& sandbox) { return sandbox.journal(); }

// One write as the sandbox records it and as the plan states it: the cmdlet and its parameters,
// with the revocation's timestamp left out (each run stamps its own time).
std::string write_key(const std::string& cmdlet, const value& parameters) {
    std::string key = cmdlet;
    std::map<std::string, std::string> sorted;
    for (const auto& [name, parameter] : parameters.as_object())
        sorted[name] = name == "STSRefreshTokensValidFrom" ? "*" : parameter.serialize();
    for (const auto& [name, text] : sorted) key += " " + name + "=" + text;
    return key;
}

std::multiset<std::string> planned_writes(const Sandbox& sandbox) {
    const RunResult plan = sandbox.authgate({"plan", "-c", sandbox.example(), "--format", "json"});
    REQUIRE(plan.exit_code == 0);
    std::multiset<std::string> keys;
    const value document = value::parse(plan.out);
    for (const value& change : document.at("changes").as_array()) {
        const std::string action = change.at("action").as_string();
        if (action != "update" && action != "create") continue;
        keys.insert(write_key(change.at("cmdlet").at("name").as_string(), change.at("cmdlet").at("parameters")));
    }
    return keys;
}

std::multiset<std::string> made_writes(const Sandbox& sandbox) {
    std::multiset<std::string> keys;
    const value state = sandbox.state();
    for (const value& mutation : state.at("mutations").as_array())
        keys.insert(write_key(mutation.at("cmdlet").as_string(), mutation.at("parameters")));
    return keys;
}

struct Tally {
    int lost = 0;        // planned and never made
    int duplicated = 0;  // sent to the tenant more than once
    int unplanned = 0;   // made and never planned
};

Tally tally(const std::multiset<std::string>& planned, const std::multiset<std::string>& made) {
    Tally tally;
    for (const std::string& key : std::set<std::string>(planned.begin(), planned.end())) {
        const auto count = made.count(key);
        if (count == 0) ++tally.lost;
        if (count > 1) tally.duplicated += static_cast<int>(count) - 1;
    }
    for (const std::string& key : std::set<std::string>(made.begin(), made.end()))
        if (!planned.count(key)) tally.unplanned += static_cast<int>(made.count(key));
    return tally;
}

void record_row(const std::string& fault_class, const std::string& command, int runs, const std::string& outcome,
                const Tally& tally) {
    std::ofstream(AUTHGATE_FAULT_RESULTS, std::ios::app)
        << fault_class << "\t" << command << "\t" << runs << "\t" << outcome << "\t" << tally.lost << "\t"
        << tally.duplicated + tally.unplanned << "\n";
}

struct FaultCase {
    std::string fault_class;    // the row's label
    std::string command;        // plan, apply or reconcile
    std::string faults;         // the fault document, set before the run
    int exit_code;              // of the faulted run
    std::string message;        // in its standard error when it fails
    std::string run_outcome;    // the journal's outcome of the faulted run ("" for plan)
    std::string change_status;  // a status one of its journalled changes has ("" for none)
    std::vector<std::string> sandbox_flags = {};
    std::vector<std::string> flags = {};  // more authgate flags
    bool read_failed = false;             // the faulted run could not read: it made no write at all
};

std::vector<std::string> command_args(const Sandbox& sandbox, const FaultCase& fault) {
    std::vector<std::string> args;
    if (fault.command == "plan") args = {"plan", "-c", sandbox.example(), "--detailed-exitcode"};
    if (fault.command == "apply")
        args = {"apply", "-c", sandbox.example(), "--auto-approve", "--state", state_db(sandbox)};
    if (fault.command == "reconcile")
        args = {"reconcile", "-c", sandbox.example(), "--once", "--state", state_db(sandbox)};
    args.insert(args.end(), fault.flags.begin(), fault.flags.end());
    return args;
}

// Runs the faulted command, then (faults cleared) applies until a plan shows nothing to change,
// and checks the invariants every fault must keep.
void run_case(const FaultCase& fault) {
    Sandbox sandbox({"examples/contoso/live.json", fault.sandbox_flags});
    const std::multiset<std::string> planned = planned_writes(sandbox);
    REQUIRE(planned.size() == 15);

    sandbox.set_faults(fault.faults);
    // Backoff from 100 ms, not 2 s: the same retries, without sleeping through them.
    const RunResult faulted = sandbox.authgate(command_args(sandbox, fault), {{"AUTHGATE_RETRY_DELAY_MS", "100"}});
    INFO(fault.fault_class << " / " << fault.command << "\n" << faulted.out << faulted.err);
    CHECK(faulted.exit_code == fault.exit_code);
    // Writes whose outcome stayed unknown: each may be sent once more by the next run.
    const int uncertain =
        fault.command == "plan"
            ? 0
            : static_cast<int>(query(state_db(sandbox), "SELECT * FROM changes WHERE status = 'uncertain'").size());
    if (!fault.message.empty()) CHECK_THAT(faulted.err, Catch::Contains(fault.message));
    if (fault.read_failed || fault.command == "plan") CHECK(made_writes(sandbox).empty());
    if (!fault.run_outcome.empty()) {
        const auto runs = query(state_db(sandbox), "SELECT outcome, error FROM runs ORDER BY id");
        REQUIRE(runs.size() == 1);
        CHECK(runs[0].at("outcome") == fault.run_outcome);
        if (fault.run_outcome != "succeeded") CHECK_FALSE(runs[0].at("error").empty());
        // Nothing is left "sending" by a run that finished.
        CHECK(query(state_db(sandbox), "SELECT * FROM changes WHERE status = 'sending'").empty());
    }
    if (!fault.change_status.empty())
        CHECK_FALSE(
            query(state_db(sandbox), "SELECT * FROM changes WHERE status = '" + fault.change_status + "'").empty());

    // The next runs, with the tenant healthy again, converge.
    sandbox.set_faults("{}");
    int runs = 1;
    const bool converged_at_once = fault.command != "plan" && faulted.exit_code == 0;
    if (!converged_at_once) {
        const RunResult again =
            sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state", state_db(sandbox)});
        INFO(again.out << again.err);
        CHECK(again.exit_code == 0);
        ++runs;
    }
    const RunResult check = sandbox.authgate({"plan", "-c", sandbox.example(), "--detailed-exitcode"});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);

    Tally counted = tally(planned, made_writes(sandbox));
    CHECK(counted.lost == 0);
    CHECK(counted.duplicated <= uncertain);  // at most once more, and only what was uncertain
    counted.duplicated = std::max(0, counted.duplicated - uncertain);
    CHECK(counted.unplanned == 0);
    std::string outcome = "exit " + std::to_string(faulted.exit_code);
    if (faulted.exit_code == 1) outcome += " (" + fault.message + ")";
    if (fault.command == "plan" && faulted.exit_code == 2) outcome += " (plan complete)";
    if (!fault.change_status.empty()) outcome += ", journal: " + fault.change_status;
    if (uncertain > 0) outcome += " (" + std::to_string(uncertain) + " re-sent by the next run)";
    outcome += check.exit_code == 0 ? (converged_at_once ? ", converged" : ", converged on the next apply")
                                    : ", NOT converged";
    record_row(fault.fault_class, fault.command, runs, outcome, counted);
}

}  // namespace

TEST_CASE("throttling: 429 storms with Retry-After, without it, and fractional", "[integration][faults]") {
    const auto fault =
        GENERATE(FaultCase{"429 storm, Retry-After 1", "apply", R"({"throttle": {"count": 5, "retry_after": "1"}})", 0,
                           "", "succeeded", "verified"},
                 FaultCase{"429 storm, no Retry-After", "plan", R"({"throttle": {"count": 2, "retry_after": null}})", 2,
                           "", "", ""},
                 FaultCase{"429 storm, Retry-After 0.3", "reconcile",
                           R"({"throttle": {"count": 5, "retry_after": "0.3"}})", 0, "", "succeeded", "verified"},
                 FaultCase{"429 on $batch items", "apply",
                           R"({"throttle": {"count": 4, "retry_after": "0.2", "cmdlet": "Set-CASMailbox"}})", 0, "",
                           "succeeded", "verified"},
                 // Six in a row for one cmdlet: the reads beside it are not throttled.
                 FaultCase{"429 beyond 5 retries",
                           "plan",
                           R"({"throttle": {"count": 6, "retry_after": "0.1", "cmdlet": "Get-TransportConfig"}})",
                           1,
                           "gave up after 5 retries",
                           "",
                           "",
                           {},
                           {},
                           true});
    run_case(fault);
}

TEST_CASE("server errors: bursts of 500, 502, 503 and 504 on reads and writes", "[integration][faults]") {
    const auto fault = GENERATE(
        // Retried like a 503, as production clients do.
        FaultCase{"500 on a read", "plan", R"({"server_error": {"count": 1, "status": 500}})", 2, "", "", ""},
        FaultCase{"500 burst on reads", "apply",
                  R"({"server_error": {"count": 2, "status": 500, "cmdlet": "Get-CASMailbox"}})", 0, "", "succeeded",
                  "verified"},
        FaultCase{"502 burst", "apply", R"({"server_error": {"count": 2, "status": 502}})", 0, "", "succeeded",
                  "verified"},
        FaultCase{"503 burst", "reconcile", R"({"server_error": {"count": 2, "status": 503}})", 0, "", "succeeded",
                  "verified"},
        FaultCase{"504 burst", "plan", R"({"server_error": {"count": 2, "status": 504}})", 2, "", "", ""},
        FaultCase{"504 on a write", "apply",
                  R"({"server_error": {"count": 1, "status": 504, "cmdlet": "Set-TransportConfig"}})", 1,
                  "the read-back shows it was not made", "partial", "failed"},
        FaultCase{"503 on $batch items", "reconcile",
                  R"({"server_error": {"count": 2, "status": 503, "cmdlet": "Set-CASMailbox"}})", 1,
                  "the read-back shows it was not made", "partial", "failed"});
    run_case(fault);
}

TEST_CASE("dropped connections: before the request was processed and after it was", "[integration][faults]") {
    const auto fault = GENERATE(
        FaultCase{"drop before processing, write", "apply",
                  R"({"drop_connection": {"count": 1, "when": "before_processing", "cmdlet": "Set-TransportConfig"}})",
                  1, "the read-back shows it was not made", "partial", "failed"},
        FaultCase{
            "drop after processing, write", "apply",
            R"({"drop_connection": {"count": 1, "when": "before_response", "cmdlet": "New-AuthenticationPolicy"}})", 0,
            "", "succeeded", "verified"},
        FaultCase{"drop after processing, write", "reconcile",
                  R"({"drop_connection": {"count": 1, "when": "before_response", "cmdlet": "Set-OrganizationConfig"}})",
                  0, "", "succeeded", "verified"},
        FaultCase{"drop after processing, $batch", "reconcile",
                  R"({"drop_connection": {"count": 1, "when": "before_response", "cmdlet": "Set-CASMailbox"}})", 0, "",
                  "succeeded", "verified"},
        FaultCase{"drop on a read", "plan", R"({"drop_connection": {"count": 2, "cmdlet": "Get-CASMailbox"}})", 2, "",
                  "", ""},
        // Not a byte of answer on a kept-alive connection: the case where an HTTP client may
        // silently send the request again. Written once, and verified by the read-back.
        FaultCase{
            "closed without answer, after processing", "apply",
            R"({"drop_connection": {"count": 1, "when": "before_response", "answer": "nothing", "cmdlet": "New-AuthenticationPolicy"}})",
            0, "", "succeeded", "verified"},
        FaultCase{
            "closed without answer, after processing", "reconcile",
            R"({"drop_connection": {"count": 1, "when": "before_response", "answer": "nothing", "cmdlet": "Set-TransportConfig"}})",
            0, "", "succeeded", "verified"},
        // Every Set-User made but its answer lost: the policy changes and the revocations (read
        // back one user at a time) are all settled by the read-back.
        FaultCase{
            "closed without answer, every Set-User", "apply",
            R"({"drop_connection": {"count": 5, "when": "before_response", "answer": "nothing", "cmdlet": "Set-User"}})",
            0, "", "succeeded", "verified"},
        FaultCase{"closed without answer, read", "plan",
                  R"({"drop_connection": {"count": 1, "answer": "nothing", "cmdlet": "Get-User"}})", 2, "", "", ""});
    run_case(fault);
}

TEST_CASE("answers cut in the middle of the JSON body", "[integration][faults]") {
    const auto fault = GENERATE(
        FaultCase{"body cut, read", "plan",
                  R"({"drop_connection": {"count": 2, "answer": "partial_body", "cmdlet": "Get-CASMailbox"}})", 2, "",
                  "", ""},
        FaultCase{"body cut, $batch write", "apply",
                  R"({"drop_connection": {"count": 1, "answer": "partial_body", "cmdlet": "Set-CASMailbox"}})", 0, "",
                  "succeeded", "verified"},
        FaultCase{"body cut, write", "reconcile",
                  R"({"drop_connection": {"count": 1, "answer": "partial_body", "cmdlet": "Set-OrganizationConfig"}})",
                  0, "", "succeeded", "verified"});
    run_case(fault);
}

TEST_CASE("answers slower than --http-timeout", "[integration][faults]") {
    const auto fault =
        GENERATE(FaultCase{"answer past the timeout, read",
                           "plan",
                           R"({"slow_answer": {"count": 1, "delay_ms": 4000, "cmdlet": "Get-TransportConfig"}})",
                           2,
                           "",
                           "",
                           "",
                           {},
                           {"--http-timeout", "2s"}},
                 FaultCase{"answer past the timeout, write",
                           "apply",
                           R"({"slow_answer": {"count": 1, "delay_ms": 4000, "cmdlet": "Set-OrganizationConfig"}})",
                           0,
                           "",
                           "succeeded",
                           "verified",
                           {},
                           {"--http-timeout", "2s"}});
    run_case(fault);
}

TEST_CASE("page links: expired in the middle of a read, and a failing page", "[integration][faults]") {
    const std::vector<std::string> small_pages{"--page-size-max", "100"};
    const auto fault =
        GENERATE_COPY(FaultCase{"expired nextLink",
                                "plan",
                                R"({"expire_links": true})",
                                1,
                                "Expired or Invalid pagination request",
                                "",
                                "",
                                small_pages,
                                {},
                                true},
                      FaultCase{"expired nextLink",
                                "apply",
                                R"({"expire_links": true})",
                                1,
                                "Expired or Invalid pagination request",
                                "failed",
                                "",
                                small_pages,
                                {},
                                true},
                      FaultCase{"failing page, retried", "reconcile",
                                R"({"fail_page": {"count": 2, "page": 2, "status": 503, "cmdlet": "Get-CASMailbox"}})",
                                0, "", "succeeded", "verified", small_pages});
    run_case(fault);
}

TEST_CASE("the token endpoint fails or answers garbage", "[integration][faults]") {
    const auto fault = GENERATE(FaultCase{"token refused (AADSTS700027)",
                                          "apply",
                                          R"({"token_error": {"count": 2, "code": 700027}})",
                                          1,
                                          "AADSTS700027",
                                          "failed",
                                          "",
                                          {},
                                          {},
                                          true},
                                FaultCase{"token answer not JSON",
                                          "plan",
                                          R"({"token_garbage": {"count": 1, "kind": "not_json"}})",
                                          1,
                                          "with a body that is not JSON",
                                          "",
                                          "",
                                          {},
                                          {},
                                          true},
                                FaultCase{"token answer an HTML page",
                                          "apply",
                                          R"({"token_garbage": {"count": 1, "kind": "html"}})",
                                          1,
                                          "a web page answered in place of the token endpoint",
                                          "failed",
                                          "",
                                          {},
                                          {},
                                          true},
                                FaultCase{"token answer without access_token",
                                          "reconcile",
                                          R"({"token_garbage": {"count": 1, "kind": "no_access_token"}})",
                                          1,
                                          "without an access_token",
                                          "failed",
                                          "",
                                          {},
                                          {},
                                          true});
    run_case(fault);
}

TEST_CASE("a role missing for one cmdlet", "[integration][faults]") {
    const auto fault =
        GENERATE(FaultCase{"role missing for Set-User", "reconcile", R"({"forbidden_cmdlets": ["Set-User"]})", 1,
                           "User is not allowed to call Set-User", "partial", "failed"},
                 FaultCase{"role missing for Get-User",
                           "plan",
                           R"({"forbidden_cmdlets": ["Get-User"]})",
                           1,
                           "User is not allowed to call Get-User",
                           "",
                           "",
                           {},
                           {},
                           true});
    run_case(fault);
}

TEST_CASE("the token endpoint fails in the middle of an apply: the writes not sent fail, nothing crashes",
          "[integration][faults]") {
    // Tokens that live a minute are asked for before every request (they are renewed five
    // minutes before they expire): the token requests of one read can be counted.
    Sandbox sandbox({"examples/contoso/live.json", {"--token-lifetime", "60"}});
    const std::multiset<std::string> planned = planned_writes(sandbox);
    const int reads = sandbox.token_requests();
    REQUIRE(sandbox.authgate({"plan", "-c", sandbox.example()}).exit_code == 0);
    const int per_read = sandbox.token_requests() - reads;

    sandbox.set_faults(R"({"token_garbage": {"count": 1000, "kind": "html", "after": )" + std::to_string(per_read) +
                       "}}");
    const RunResult applied =
        sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state", state_db(sandbox)});
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 1);
    CHECK_THAT(applied.err, Catch::Contains("a web page answered in place of the token endpoint"));
    CHECK(made_writes(sandbox).empty());
    const auto runs = query(state_db(sandbox), "SELECT outcome FROM runs");
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].at("outcome") == "failed");
    CHECK(query(state_db(sandbox), "SELECT * FROM changes WHERE status NOT IN ('failed', 'skipped')").empty());

    sandbox.set_faults("{}");
    CHECK(sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state", state_db(sandbox)})
              .exit_code == 0);
    CHECK(sandbox.authgate({"plan", "-c", sandbox.example(), "--detailed-exitcode"}).exit_code == 0);
    const Tally counted = tally(planned, made_writes(sandbox));
    CHECK(counted.lost == 0);
    CHECK(counted.duplicated + counted.unplanned == 0);
    record_row(
        "token garbage mid-apply", "apply", 2,
        "exit 1 (a web page answered in place of the token endpoint), journal: failed, converged on the next apply",
        counted);
}

// A write goes out on a kept-alive connection. When that connection ends after the request went
// out and before a byte of answer came, an HTTP client would send the request again on a new
// connection; authgate never does: the write is uncertain, and the read-back settles it.
TEST_CASE("a write on a kept-alive connection that ends without an answer is never sent again",
          "[integration][faults][safety]") {
    Sandbox sandbox;
    sandbox.set_faults(
        R"({"drop_connection": {"count": 1, "when": "before_response", "answer": "nothing", "cmdlet": "Set-TransportConfig"}})");
    const fs::path trace = sandbox.folder() / "trace";
    const RunResult applied = sandbox.authgate(
        {"apply", "-c", sandbox.example(), "--auto-approve", "--state", state_db(sandbox), "--trace", trace.string()});
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    CHECK(sandbox.cmdlet_calls("Set-TransportConfig") == 1);  // sent once: never again on another connection
    const auto changes = query(state_db(sandbox),
                               "SELECT status, error FROM changes WHERE attribute = "
                               "'SmtpClientAuthenticationDisabled' AND resource = 'transport_config'");
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].at("status") == "verified");  // settled by the read-back
    // The trace of that request: the connection ended, and the request was not sent again.
    int refused = 0;
    for (const auto& entry : fs::directory_iterator(trace)) {
        std::ifstream in(entry.path());
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.find("Set-TransportConfig") != std::string::npos &&
            text.find("it is not sent again, so the server may or may not have acted on it") != std::string::npos)
            ++refused;
    }
    CHECK(refused == 1);
    // The writes went out on kept-alive connections: far fewer handshakes than requests.
    const auto tls = sandbox.state().at("tls");
    CHECK(tls.at("handshakes").as_integer() < sandbox.state().at("requests").at("invoke").as_integer());
}
