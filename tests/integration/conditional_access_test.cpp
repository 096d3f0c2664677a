// Whether an exception works through every layer: Exchange, then Entra's security defaults and
// Conditional Access, read from the sandbox's Graph over HTTPS. explain gives the effective
// answer; plan warns about each basic_auth exception that cannot work, naming the policy and the
// exclusion that would make it work; a read that fails says so and is never "nothing blocks".
#include <catch2/catch.hpp>

#include <cpprest/json.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sandbox_fixture.h"

using namespace authgate::testing;
namespace fs = std::filesystem;
using web::json::value;

namespace {

// mfp-lobby@contoso.com: a basic_auth exception of the example, which Exchange lets use Basic SMTP
// in the seed (no override, no authentication policy).
const std::string mailbox = "mfp-lobby@contoso.com";
const std::string exchange_app = "00000002-0000-0ff1-ce00-000000000000";

std::string policy(const std::string& name, const std::string& state, const std::string& users,
                   const std::string& extra_conditions = "", const std::string& applications = R"(["All"])",
                   const std::string& client_apps = R"(["exchangeActiveSync", "other"])") {
    return R"({"displayName": ")" + name + R"(", "state": ")" + state + R"(", "conditions": {"clientAppTypes": )" +
           client_apps + R"(, "applications": {"includeApplications": )" + applications + R"(}, "users": )" + users +
           extra_conditions + R"(}, "grantControls": {"operator": "OR",
           "builtInControls": ["block"]}})";
}

std::string block_all(const std::string& state = "enabled", const std::string& excludes = "") {
    return policy("Block legacy authentication", state,
                  R"({"includeUsers": ["All"])" + (excludes.empty() ? "" : ", " + excludes) + "}");
}

// Nested groups: mfp-lobby is in g-printers, which is in g-smtp-exceptions.
const std::string groups = R"("groups": [
    {"id": "5e1f0000-0000-4000-8000-00000000000a", "display_name": "SMTP exceptions",
     "members": ["5e1f0000-0000-4000-8000-00000000000b"]},
    {"id": "5e1f0000-0000-4000-8000-00000000000b", "display_name": "Printers", "members": ["mfp-lobby@contoso.com"]}],
  "roles": [{"template_id": "fe930be7-5e62-47db-91af-98c3a49a38b1", "display_name": "User Administrator",
             "members": ["5e1f0000-0000-4000-8000-00000000000a"]}])";

std::string entra(const std::string& policies, bool security_defaults = false, const std::string& extra = "") {
    return std::string(R"({"security_defaults": )") + (security_defaults ? "true" : "false") + ", " + groups +
           R"(, "policies": [)" + policies + "]" + extra + "}";
}

value explain_json(const Sandbox& sandbox, const std::map<std::string, std::string>& environment = {}) {
    const RunResult result = sandbox.authgate({"explain", mailbox, "-c", sandbox.example(), "--format", "json"},
                                              environment);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return value::parse(result.out);
}

// The example asking for usage evidence (unused_days): a plan that reads Graph checks Entra too.
std::string with_evidence(const Sandbox& sandbox) {
    const fs::path copy = sandbox.folder() / "with-evidence";
    if (!fs::exists(copy)) {
        fs::copy(sandbox.example(), copy, fs::copy_options::recursive);
        std::ifstream in(copy / "tenant.toml");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        in.close();
        const std::string section = "[exceptions]\n";
        text.insert(text.find(section) + section.size(), "unused_days = 60\n");
        std::ofstream(copy / "tenant.toml") << text;
    }
    return copy.string();
}

std::string plan_text(const Sandbox& sandbox, const std::map<std::string, std::string>& environment = {}) {
    const RunResult result = sandbox.authgate({"plan", "-c", with_evidence(sandbox)}, environment);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return result.out;
}

std::string reasons(const value& answer) {
    std::string text;
    for (const value& reason : answer.at("reasons").as_array()) text += reason.as_string() + "\n";
    return text;
}

}  // namespace

TEST_CASE("explain and plan through Entra's layers, each combination", "[integration][conditional-access]") {
    Sandbox sandbox;
    struct Case {
        const char* name;
        std::string document;
        const char* basic;         // effective_basic
        const char* oauth;         // effective_oauth
        const char* reason;        // in Entra's reasons for Basic auth
        const char* plan_warning;  // in the plan's warnings; "" for none of Entra's
    };
    const std::vector<Case> cases = {
        {"nothing in Entra blocks", entra(""), "allowed", "allowed", "security defaults: off", ""},
        {"security defaults on", entra("", true), "refused", "allowed", "security defaults: on",
         "cannot work: Entra's security defaults are on"},
        {"an enabled policy blocks legacy clients for all users", entra(block_all()), "refused", "allowed",
         "'Block legacy authentication' (enabled): refuses it: it includes all users and no exclusion matches",
         "cannot work: Conditional Access policy 'Block legacy authentication' refuses Basic auth for it"},
        {"the user is excluded through a nested group",
         entra(block_all("enabled", R"("excludeGroups": ["5e1f0000-0000-4000-8000-00000000000a"])")), "allowed",
         "allowed", "excludes the group 5e1f0000-0000-4000-8000-00000000000a, of which the user is a member", ""},
        {"the user is excluded by name", entra(block_all("enabled", R"("excludeUsers": ["mfp-lobby@contoso.com"])")),
         "allowed", "allowed", "excludes the user by name", ""},
        {"an excluded group the user is not in",
         entra(block_all("enabled", R"("excludeGroups": ["5e1f0000-0000-4000-8000-0000000000ff"])")), "refused",
         "allowed", "no exclusion matches", "refuses Basic auth for it"},
        {"a report-only policy", entra(block_all("enabledForReportingButNotEnforced")), "allowed", "allowed",
         "(report-only): would refuse it", "would stop working if Conditional Access policy"},
        {"a disabled policy", entra(block_all("disabled")), "allowed", "allowed",
         "no enabled or report-only policy refuses legacy clients", ""},
        {"a policy on a role the user holds through its group",
         entra(policy("Admins no legacy", "enabled", R"({"includeRoles": ["fe930be7-5e62-47db-91af-98c3a49a38b1"]})")),
         "refused", "allowed", "includes the role fe930be7-5e62-47db-91af-98c3a49a38b1",
         "'Admins no legacy' refuses Basic auth"},
        {"a policy on Exchange Online only, from named locations",
         entra(policy("Untrusted places", "enabled", R"({"includeUsers": ["All"]})",
                      R"(, "locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]})",
                      R"([")" + exchange_app + R"("])")),
         "depends on where it signs in from", "allowed", "may refuse it", "may not work"},
        {"a policy that blocks modern clients too",
         entra(policy("Block everything", "enabled", R"({"includeUsers": ["All"]})", "", R"(["Office365"])",
                      R"(["all"])")),
         "refused", "refused", "'Block everything' (enabled): refuses it", "'Block everything' refuses Basic auth"},
        {"a policy of another application",
         entra(policy("SharePoint", "enabled", R"({"includeUsers": ["All"]})", "",
                      R"(["00000003-0000-0ff1-ce00-000000000000"])")),
         "allowed", "allowed", "(1 policies read)", ""},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            sandbox.load_entra(c.document);
            const value explained = explain_json(sandbox);
            INFO(explained.serialize());
            CHECK(explained.at("smtp_auth_basic").as_bool() == true);  // Exchange's own answer
            CHECK(explained.at("effective_basic").as_string() == c.basic);
            CHECK(explained.at("effective_oauth").as_string() == c.oauth);
            CHECK_THAT(reasons(explained.at("entra").at("basic")), Catch::Contains(c.reason));
            CHECK_FALSE(explained.has_field("outside_exchange"));

            const std::string plan = plan_text(sandbox);
            if (std::string(c.plan_warning).empty()) {
                CHECK_THAT(plan, !Catch::Contains("basic_auth exception of"));
            } else {
                CHECK_THAT(plan,
                           Catch::Contains("facilities.toml:11: the basic_auth exception of mfp-lobby@contoso.com"));
                CHECK_THAT(plan, Catch::Contains(c.plan_warning));
            }
        }
    }
}

TEST_CASE("explain in text: the effective answer first, the exclusion that would let Basic auth through",
          "[integration][conditional-access]") {
    Sandbox sandbox;
    sandbox.load_entra(entra(block_all()));
    const RunResult result = sandbox.authgate({"explain", mailbox, "-c", sandbox.example()});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK_THAT(result.out, Catch::StartsWith("mfp-lobby@contoso.com\n"
                                             "  SMTP AUTH with OAuth (XOAUTH2): allowed\n"
                                             "  SMTP AUTH with Basic auth:      refused\n"));
    CHECK_THAT(result.out, Catch::Contains("  Basic auth: refused by Entra\n"));
    CHECK_THAT(result.out, Catch::Contains("    to let Basic auth through: exclude the user ("));
    CHECK_THAT(result.out, Catch::Contains("  Effective: OAuth allowed, Basic auth refused.\n"));
    CHECK_THAT(result.out, !Catch::Contains("Exchange cannot tell"));

    // Markdown puts the same warning before reviewers.
    const RunResult markdown = sandbox.authgate({"plan", "-c", with_evidence(sandbox), "--format", "markdown"});
    REQUIRE(markdown.exit_code == 0);
    CHECK_THAT(markdown.out, Catch::Contains("basic_auth exception of mfp-lobby@contoso.com cannot work"));
}

TEST_CASE("a read of Entra that fails says so and never reads as nothing blocks", "[integration][conditional-access]") {
    Sandbox sandbox;
    const std::map<std::string, std::string> fast{{"AUTHGATE_RETRY_DELAY_MS", "50"}};
    SECTION("no Policy.Read.All") {
        sandbox.load_entra(entra(block_all()));
        sandbox.set_faults(R"({"graph_missing_roles": ["Policy.Read.All"]})");
        const value explained = explain_json(sandbox);
        CHECK(explained.at("effective_basic").as_string() == "unknown");
        CHECK(explained.at("effective_oauth").as_string() == "unknown");
        CHECK(explained.at("entra").at("security_defaults").is_null());
        CHECK_THAT(explained.at("entra").at("conditional_access_not_read").as_string(),
                   Catch::Contains("HTTP 403") && Catch::Contains("Policy.Read.All"));
        const std::string plan = plan_text(sandbox);
        CHECK_THAT(plan, Catch::Contains("whether Conditional Access lets the 1 basic_auth exception work is unknown"));
        CHECK_THAT(plan, Catch::Contains("whether Entra's security defaults let the 1 basic_auth exception work is "
                                         "unknown"));
    }
    SECTION("no Entra ID P1 for Conditional Access") {
        sandbox.load_entra(entra("", false, R"(, "premium": false)"));
        const value explained = explain_json(sandbox, fast);
        CHECK(explained.at("effective_basic").as_string() == "unknown");
        CHECK(explained.at("entra").at("security_defaults").as_bool() == false);
        CHECK_THAT(explained.at("entra").at("conditional_access_not_read").as_string(),
                   Catch::Contains("Authentication_RequestFromNonPremiumTenantOrB2CTenant") &&
                       Catch::Contains("Entra ID P1"));
        CHECK_THAT(plan_text(sandbox, fast), Catch::Contains("Entra ID P1"));
    }
    SECTION("no permission to read the user's groups") {
        sandbox.load_entra(entra(block_all("enabled", R"("excludeGroups": ["5e1f0000-0000-4000-8000-00000000000a"])")));
        sandbox.set_faults(R"({"graph_missing_roles": ["GroupMember.Read.All", "Directory.Read.All"]})");
        const value explained = explain_json(sandbox);
        CHECK(explained.at("effective_basic").as_string() == "unknown");
        CHECK_THAT(reasons(explained.at("entra").at("basic")), Catch::Contains("GroupMember.Read.All"));
        CHECK_THAT(plan_text(sandbox), Catch::Contains("lets the basic_auth exception of mfp-lobby@contoso.com work "
                                                       "is unknown"));
    }
    SECTION("a page link to another origin is not followed") {
        sandbox.load_entra(entra(block_all() + "," + block_all("disabled"), false, R"(, "page_size": 1)"));
        sandbox.set_faults(R"({"foreign_next_link": "https://elsewhere.example"})");
        const value explained = explain_json(sandbox);
        CHECK(explained.at("effective_basic").as_string() == "unknown");  // half a list is not read
        CHECK_THAT(explained.at("entra").at("conditional_access_not_read").as_string(),
                   Catch::Contains("refusing to follow @odata.nextLink to another origin"));
    }
}

TEST_CASE("policies over many pages are all read", "[integration][conditional-access]") {
    Sandbox sandbox;
    std::string policies;
    for (int i = 0; i < 4; ++i) policies += block_all("disabled") + ",";
    policies += block_all();
    sandbox.load_entra(entra(policies, false, R"(, "page_size": 2)"));
    const value explained = explain_json(sandbox);
    CHECK(explained.at("effective_basic").as_string() == "refused");
    CHECK(explained.at("entra").at("conditional_access_policies").as_integer() == 5);
    CHECK(sandbox.state().at("graph_requests").at("conditionalAccessPolicies").as_integer() == 3);
}

TEST_CASE("a plan that asks nothing of Graph reads nothing of Entra", "[integration][conditional-access]") {
    Sandbox sandbox;
    sandbox.load_entra(entra(block_all(), true));
    const RunResult planned = sandbox.authgate({"plan", "-c", sandbox.example()});
    REQUIRE(planned.exit_code == 0);
    CHECK_THAT(planned.out, !Catch::Contains("basic_auth exception of"));
    CHECK_FALSE(sandbox.state().has_field("graph_requests"));
}

TEST_CASE("plan --check-entra reads Entra without asking for usage evidence", "[integration][conditional-access]") {
    Sandbox sandbox;
    sandbox.load_entra(entra(block_all()));
    const RunResult planned =
        sandbox.authgate({"plan", "-c", sandbox.example(), "--check-entra", "--format", "markdown"});
    INFO(planned.err);
    REQUIRE(planned.exit_code == 0);
    CHECK_THAT(planned.out, Catch::Contains("basic_auth exception of"));
    CHECK_THAT(planned.out, Catch::Contains("Block legacy authentication"));
}

TEST_CASE("a snapshot plan and explain read nothing of Entra", "[integration][conditional-access]") {
    Sandbox sandbox;
    sandbox.load_entra(entra(block_all(), true));
    const RunResult explained =
        sandbox.authgate({"explain", mailbox, "-c", "examples/contoso", "--snapshot", "examples/contoso/live.json"});
    REQUIRE(explained.exit_code == 0);
    CHECK_THAT(explained.out, Catch::Contains("Exchange cannot tell"));
    const RunResult planned =
        sandbox.authgate({"plan", "-c", "examples/contoso", "--snapshot", "examples/contoso/live.json"});
    REQUIRE(planned.exit_code == 0);
    CHECK_THAT(planned.out, !Catch::Contains("basic_auth exception of"));
    const value state = sandbox.state();
    CHECK_FALSE(state.has_field("graph_requests"));
}

TEST_CASE("usage lists the basic_auth exceptions Entra refuses, doctor counts the policies",
          "[integration][conditional-access]") {
    Sandbox sandbox;
    sandbox.load_entra(entra(block_all() + "," + block_all("enabledForReportingButNotEnforced"), true));
    const RunResult used = sandbox.authgate({"usage", "-c", sandbox.example(), "--state", sandbox.journal()});
    INFO(used.err);
    REQUIRE(used.exit_code == 0);
    CHECK_THAT(used.out, Catch::Contains("\nbasic_auth exceptions Entra refuses:\n"));
    CHECK_THAT(used.out, Catch::Contains("cannot work: Entra's security defaults are on"));
    CHECK_THAT(used.out, Catch::Contains("cannot work: Conditional Access policy 'Block legacy authentication'"));
    const RunResult json =
        sandbox.authgate({"usage", "-c", sandbox.example(), "--state", sandbox.journal(), "--format", "json"});
    REQUIRE(json.exit_code == 0);
    const value report = value::parse(json.out);
    CHECK(report.at("entra_warnings").size() == 3);
    CHECK(report.at("entra_warnings").at(0).at("code").as_string() == "exception_blocked_by_entra");
    const RunResult offline = sandbox.authgate(
        {"usage", "-c", sandbox.example(), "--state", sandbox.journal(), "--no-graph", "--format", "json"});
    CHECK(value::parse(offline.out).at("entra_warnings").size() == 0);

    const RunResult doctor = sandbox.authgate({"doctor", "-c", sandbox.example(), "--format", "json"});
    INFO(doctor.out << doctor.err);
    CHECK(doctor.exit_code == 0);  // plan does not need Entra
    const value checks = value::parse(doctor.out).at("checks");
    for (const value& check : checks.as_array()) {
        if (check.at("name").as_string() != "entra") continue;
        CHECK(check.at("status").as_string() == "warning");
        CHECK(check.at("detail").as_string() ==
              "security defaults on; 2 Conditional Access policies, 1 enabled that refuse legacy clients (Basic SMTP)");
    }
    sandbox.set_faults(R"({"graph_missing_roles": ["Policy.Read.All"]})");
    const RunResult unread = sandbox.authgate({"doctor", "-c", sandbox.example()});
    CHECK(unread.exit_code == 0);
    CHECK_THAT(unread.out, Catch::Contains("security defaults not read") && Catch::Contains("Policy.Read.All"));
}

TEST_CASE("a policy's name from the tenant is shown inert in explain and in the plan",
          "[integration][conditional-access][safety]") {
    Sandbox sandbox;
    sandbox.load_entra(entra(policy(R"(Block\u001b[2J\nlegacy)", "enabled", R"({"includeUsers": ["All"]})")));
    const RunResult explained = sandbox.authgate({"explain", mailbox, "-c", sandbox.example()});
    REQUIRE(explained.exit_code == 0);
    CHECK_THAT(explained.out, Catch::Contains(R"(policy 'Block\x1b[2J\nlegacy' (enabled): refuses it)"));
    CHECK(explained.out.find('\x1b') == std::string::npos);
    for (const std::string format : {"text", "markdown", "json"}) {
        const RunResult planned = sandbox.authgate({"plan", "-c", with_evidence(sandbox), "--format", format});
        REQUIRE(planned.exit_code == 0);
        CHECK(planned.out.find('\x1b') == std::string::npos);
        CHECK_THAT(planned.out, Catch::Contains("legacy' refuses Basic auth"));
    }
}
