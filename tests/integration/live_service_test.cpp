// What live tenants do that a well-behaved server does not: the sandbox answers each way a live
// tenant has been seen to (its "Real-service behaviours"), and authgate plans, applies, reads
// back and plans again under each, as it does against the plain sandbox.
#include <catch2/catch.hpp>

#include <set>

#include "journal_reader.h"
#include "sandbox_fixture.h"

using namespace authgate::testing;

namespace {

std::string state_db(const Sandbox& sandbox) { return (sandbox.folder() / "state.db").string(); }

int mutations(const Sandbox& sandbox) { return static_cast<int>(sandbox.state().at("mutations").size()); }

// Plan, apply, then a second plan: the first shows the example's changes, the apply makes each
// once and verifies what can be read back, and the second finds nothing left to do.
void converges(const Sandbox& sandbox) {
    const RunResult plan = sandbox.authgate({"plan", "-c", sandbox.example(), "--detailed-exitcode"});
    INFO("plan:\n" << plan.out << plan.err);
    REQUIRE(plan.exit_code == 2);
    CHECK_THAT(plan.out, Catch::Contains("Plan: 15 to change, 0 to report, 1 skipped."));

    const RunResult apply =
        sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state", state_db(sandbox)});
    INFO("apply:\n" << apply.out << apply.err);
    CHECK(apply.exit_code == 0);
    CHECK_THAT(apply.out,
               Catch::Contains("Apply finished: 15 verified, 0 applied (cannot be read back), 0 failed, 0 not made."));
    CHECK(mutations(sandbox) == 15);
    std::set<std::string> results;
    const auto state = sandbox.state();  // kept alive while its members are walked
    for (const auto& mutation : state.at("mutations").as_array()) results.insert(mutation.at("result").as_string());
    CHECK(results == std::set<std::string>{"changed"});  // each made once, none refused

    const RunResult again = sandbox.authgate({"plan", "-c", sandbox.example(), "--detailed-exitcode"});
    INFO("second plan:\n" << again.out << again.err);
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Catch::Contains("Plan: 0 to change, 0 to report, 1 skipped."));
}

}  // namespace

TEST_CASE("an empty list answered as value [], absent or null is no rows", "[integration][live]") {
    const std::string form = GENERATE(as<std::string>{}, "array", "absent", "null");
    INFO("--empty-value " << form);
    // A policy without users and the Set-* answers are empty lists.
    Sandbox sandbox({"examples/contoso/live.json", {"--empty-value", form}});
    converges(sandbox);
}

TEST_CASE("continuations refused at once: the list is read whole without paging", "[integration][live]") {
    Sandbox sandbox(
        {"examples/contoso/live.json", {"--page-size-max", "100", "--refuse-continuations", "--whole-without-prefer"}});
    converges(sandbox);
}

TEST_CASE("continuations bound to the first request's anchor, the tenant addressed by its GUID",
          "[integration][live]") {
    Sandbox sandbox({"examples/contoso/live.json",
                     {"--page-size-max", "100", "--bind-continuations-to-anchor", "--tenant-guid-only"}});
    converges(sandbox);
}

TEST_CASE("continuations refused and no whole answer: the plan fails naming the cause, nothing is changed",
          "[integration][live][safety]") {
    Sandbox sandbox({"examples/contoso/live.json", {"--page-size-max", "100", "--refuse-continuations"}});
    const RunResult plan = sandbox.authgate({"plan", "-c", sandbox.example()});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 1);
    CHECK(plan.out.empty());
    CHECK_THAT(plan.err,
               Catch::StartsWith("error: Get-CASMailbox failed: HTTP 400: Expired or Invalid pagination request") &&
                   Catch::Contains("Exchange refused to continue the list 4 times, and an answer without "
                                   "paging was not whole either: the read is not complete") &&
                   Catch::EndsWith("The live state could not be read; no plan is made.\n"));
    const RunResult apply =
        sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state", state_db(sandbox)});
    CHECK(apply.exit_code == 1);
    CHECK(mutations(sandbox) == 0);
}

TEST_CASE("$batch items that must carry their own bearer and anchor", "[integration][live]") {
    Sandbox sandbox({"examples/contoso/live.json", {"--batch-items-need-token"}});
    converges(sandbox);
    CHECK(sandbox.state().at("requests").at("batch").as_integer() >= 1);  // the mailbox changes went as a batch
}

TEST_CASE("policy references answered as a name, a DN or a Guid plan the same, and verify", "[integration][live]") {
    const std::string form = GENERATE(as<std::string>{}, "name", "dn", "guid");
    INFO("--policy-references " << form);
    Sandbox sandbox({"examples/contoso/live.json", {"--policy-references", form}});
    converges(sandbox);
}

TEST_CASE("the app role without a directory role: a 403 of NUL bytes, with the grant to add", "[integration][live]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"nul_403": {"count": 1000}})");
    const RunResult plan = sandbox.authgate({"plan", "-c", sandbox.example()});
    CHECK(plan.exit_code == 1);
    CHECK_THAT(plan.err, Catch::StartsWith("error: Get-TransportConfig failed: HTTP 403: ") &&
                             Catch::Contains("what to check: the app has the Exchange.ManageAsApp permission but no "
                                             "Entra directory role"));
    CHECK(plan.err.find('\0') == std::string::npos);
}

TEST_CASE("a slow write is waited for, as the module does, and never taken as uncertain", "[integration][live]") {
    // A write held back 3 s, and the default timeout far above it (the
    // module's 960 s, 1,800 s for Set-OrganizationConfig), so the write is verified, never uncertain.
    Sandbox sandbox;
    sandbox.set_faults(R"({"slow_answer": {"count": 1, "delay_ms": 3000, "cmdlet": "Set-OrganizationConfig"}})");
    const RunResult apply =
        sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state", state_db(sandbox)});
    INFO(apply.out << apply.err);
    CHECK(apply.exit_code == 0);
    CHECK(query(state_db(sandbox), "SELECT * FROM changes WHERE status = 'uncertain'").empty());
    CHECK(sandbox.state().at("faults").at("fired").at("slow_answer").as_integer() == 1);
}

TEST_CASE("the tenant is addressed by the GUID its token names, however [tenant] id is written",
          "[integration][live]") {
    // The admin API of this sandbox takes the GUID only; authgate is given the domain in capitals.
    Sandbox sandbox(
        {"examples/contoso/live.json", {"--tenant-id", "4f7d2a1c-93b8-4e61-a0d5-2c8e6b9f1a37", "--tenant-guid-only"}});
    const auto with_domain = [&](std::vector<std::string> args) {
        args.insert(args.end(), {"--tenant", "CONTOSO.onmicrosoft.com"});
        return sandbox.authgate(args);
    };
    const RunResult plan = with_domain({"plan", "-c", sandbox.example(), "--detailed-exitcode"});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 2);
    const RunResult apply =
        with_domain({"apply", "-c", sandbox.example(), "--auto-approve", "--state", state_db(sandbox)});
    INFO(apply.out << apply.err);
    CHECK(apply.exit_code == 0);
    CHECK(mutations(sandbox) == 15);
    CHECK(with_domain({"plan", "-c", sandbox.example(), "--detailed-exitcode"}).exit_code == 0);
}
