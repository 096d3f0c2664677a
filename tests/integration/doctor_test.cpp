// authgate doctor against the sandbox tenant: a healthy tenant, and each grant or setting that
// a first contact with a real tenant finds missing, with the fix it names.
#include <catch2/catch.hpp>

#include <cstdlib>

#include <cpprest/json.h>

#include "sandbox_fixture.h"

using namespace authgate::testing;
using web::json::value;

namespace {

struct Doctor {
    RunResult run;
    value report;

    std::string status(const std::string& check) const {
        for (const auto& entry : report.at("checks").as_array())
            if (entry.at("name").as_string() == check) return entry.at("status").as_string();
        return "absent";
    }
    std::string field(const std::string& check, const std::string& name) const {
        for (const auto& entry : report.at("checks").as_array())
            if (entry.at("name").as_string() == check && entry.at(name).is_string()) return entry.at(name).as_string();
        return "";
    }
};

Doctor doctor(const Sandbox& sandbox, std::vector<std::string> extra = {}, const std::string& certificate = "") {
    std::vector<std::string> args{"doctor", "--tenant", tenant, "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto flags = sandbox.connection_flags(certificate);
    args.insert(args.end(), flags.begin(), flags.end());
    Doctor result{sandbox.authgate(args, {}, false), value::null()};
    INFO(result.run.out << result.run.err);
    REQUIRE_NOTHROW(result.report = value::parse(result.run.out));
    return result;
}

}  // namespace

TEST_CASE("doctor on a healthy tenant: every check passes, plan and apply are ready", "[integration][doctor]") {
    Sandbox sandbox;
    const Doctor checked = doctor(sandbox);
    CHECK(checked.run.exit_code == 0);
    for (const std::string name :
         {"certificate", "sign-in", "clock", "token", "cmdlets to plan", "cmdlets to apply", "reads", "paging"}) {
        INFO(name << ": " << checked.field(name, "detail"));
        CHECK(checked.status(name) == "ok");
    }
    CHECK_THAT(checked.field("reads", "detail"), Catch::Contains("301 mailboxes, 4 authentication policies"));
    CHECK_THAT(checked.field("token", "detail"), Catch::Contains("roles: Exchange.ManageAsApp"));
    CHECK(checked.report.at("plan_ready").as_bool());
    CHECK(checked.report.at("apply_ready").as_bool());
    CHECK(sandbox.state().at("mutations").size() == 0);  // read-only

    const RunResult text = sandbox.authgate({"doctor", "-c", sandbox.example()});
    CHECK(text.exit_code == 0);
    CHECK_THAT(text.out,
               Catch::Contains("  ok       desired state") && Catch::EndsWith("Plan: ready.  Apply: ready.\n"));
}

TEST_CASE("doctor: a role too small to apply is named, with the role to assign", "[integration][doctor]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"forbidden_cmdlets": ["Set-User", "Set-CASMailbox"]})");
    const Doctor checked = doctor(sandbox);
    CHECK(checked.run.exit_code == 0);  // plan is possible
    CHECK(checked.status("cmdlets to plan") == "ok");
    CHECK(checked.status("cmdlets to apply") == "failed");
    CHECK(checked.field("cmdlets to apply", "detail") == "the app's roles do not let it run Set-CASMailbox, Set-User");
    CHECK_THAT(checked.field("cmdlets to apply", "fix"), Catch::StartsWith("assign Exchange Administrator"));
    CHECK_FALSE(checked.report.at("apply_ready").as_bool());
    CHECK(doctor(sandbox, {"--apply"}).run.exit_code == 1);
}

TEST_CASE("doctor: the app role without a directory role", "[integration][doctor]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"nul_403": {"count": 1000}})");
    const Doctor checked = doctor(sandbox);
    CHECK(checked.run.exit_code == 1);
    CHECK(checked.status("token") == "ok");
    CHECK(checked.status("reads") == "failed");
    CHECK_THAT(checked.field("reads", "fix"), Catch::Contains("no Entra directory role"));
    CHECK(checked.status("paging") == "skipped");
    CHECK(checked.run.out.find('\0') == std::string::npos);
}

TEST_CASE("doctor: an expired certificate stops it at the first check", "[integration][doctor]") {
    Sandbox sandbox;
    const Doctor checked = doctor(sandbox, {}, client_credentials().expired_pem);
    CHECK(checked.run.exit_code == 1);
    CHECK(checked.status("certificate") == "failed");
    CHECK_THAT(checked.field("sign-in", "detail"), Catch::StartsWith("not checked"));
    CHECK(sandbox.token_requests() == 0);
}

TEST_CASE("doctor: a clock ten minutes fast is named as the reason sign-in fails", "[integration][doctor]") {
    Sandbox sandbox;
    std::vector<std::string> argv{"/usr/bin/faketime", "+10 minutes", AUTHGATE_BINARY, "doctor",
                                  "--tenant",          tenant,        "--format",      "json"};
    const auto flags = sandbox.connection_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    // Under the sanitizers libfaketime is preloaded ahead of ASan's runtime, which ASan allows
    // when told to.
    const char* asan = std::getenv("ASAN_OPTIONS");
    const RunResult run = run_program(argv,
                                      {{"FAKETIME_DONT_FAKE_MONOTONIC", "1"},
                                       {"ASAN_OPTIONS", std::string(asan ? asan : "") + ":verify_asan_link_order=0"}});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 1);
    const value report = value::parse(run.out);
    for (const auto& entry : report.at("checks").as_array()) {
        const std::string name = entry.at("name").as_string();
        if (name == "sign-in") CHECK_THAT(entry.at("detail").as_string(), Catch::Contains("AADSTS700024"));
        if (name == "clock") {
            CHECK(entry.at("status").as_string() == "failed");
            CHECK_THAT(entry.at("detail").as_string(),
                       Catch::Matches("this machine's clock is 60[0-9] s from the token endpoint's"));
        }
    }
}

TEST_CASE("doctor: continuations refused are a warning, the list read whole", "[integration][doctor]") {
    Sandbox sandbox({"examples/contoso/live.json", {"--refuse-continuations", "--whole-without-prefer"}});
    const Doctor checked = doctor(sandbox);
    CHECK(checked.run.exit_code == 0);
    CHECK(checked.status("paging") == "warning");
    CHECK_THAT(checked.field("paging", "detail"), Catch::StartsWith("the service refused to continue a list"));
}
