// Usage evidence over real HTTPS: the sandbox answers Graph's sign-in logs and email apps report
// as Microsoft does (pages, errors, concealed names), and authgate joins what it sees to the plan.
#include <catch2/catch.hpp>

#include <cpprest/json.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "journal_reader.h"
#include "policies/time.h"
#include "sandbox_fixture.h"

using namespace authgate::testing;
namespace fs = std::filesystem;
using web::json::value;

namespace {

std::string days_ago(int days) { return authgate::format_instant(authgate::now_utc() - std::chrono::hours(24) * days); }

// Sales-bot (no exception: the org switch cuts it off) sent yesterday with Basic SMTP; the
// scanner (an exception) sends too; legacy-erp's exception expired, and it still sends.
std::string senders() {
    return R"({"signins": [
        {"user": "sales-bot@contoso.com", "count": 312, "failures": 2, "errorCode": 50126,
         "first": ")" +
           days_ago(6) + R"(", "last": ")" + days_ago(1) + R"("},
        {"user": "scanner-3f@contoso.com", "count": 40, "first": ")" +
           days_ago(5) + R"(", "last": ")" + days_ago(2) + R"("},
        {"user": "legacy-erp@contoso.com", "count": 7, "first": ")" +
           days_ago(4) + R"(", "last": ")" + days_ago(3) + R"("}],
      "email_app_usage": [{"user": "sales-bot@contoso.com", "smtp": "Yes", "lastActivity": ")" +
           days_ago(1).substr(0, 10) + R"("}]})";
}

// The bundled example as it reads today, with `from` replaced by `to` in tenant.toml.
std::string example_with(const Sandbox& sandbox, const std::string& from, const std::string& to,
                         const std::string& name = "desired") {
    const fs::path copy = sandbox.folder() / name;
    fs::copy(sandbox.example(), copy, fs::copy_options::recursive);
    std::ifstream in(copy / "tenant.toml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    std::ofstream(copy / "tenant.toml") << std::regex_replace(text, std::regex(from), to);
    return copy.string();
}

std::string guarded(const Sandbox& sandbox, const std::string& extra_smtp = "", const std::string& name = "desired") {
    const std::string desired = example_with(sandbox, "max_changes = 50", "max_changes = 50\nrecent_use_days = 14",
                                             name);
    if (extra_smtp.empty()) return desired;
    std::ifstream in(fs::path(desired) / "tenant.toml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    std::ofstream(fs::path(desired) / "tenant.toml")
        << std::regex_replace(text, std::regex("deny = \\["), extra_smtp + "\ndeny = [");
    return desired;
}

const value* sender_of(const value& report, const std::string& address) {
    for (const value& sender : report.at("senders").as_array())
        if (sender.at("sender").as_string() == address) return &sender;
    return nullptr;
}

}  // namespace

TEST_CASE("usage lists every sender, joined to its exception and to what the plan does to it", "[integration][usage]") {
    Sandbox sandbox;
    sandbox.load_usage(senders());
    const fs::path trace = sandbox.folder() / "trace";
    const RunResult result = sandbox.authgate({"usage", "-c", sandbox.example(), "--format", "json", "--state",
                                               sandbox.journal(), "--trace", trace.string()});
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    // The report's download link is a credential while it lives: no trace holds it.
    std::string traced;
    for (const auto& entry : fs::directory_iterator(trace)) {
        std::ifstream in(entry.path());
        traced += std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    CHECK(traced.find("getEmailAppUsageUserDetail") != std::string::npos);
    CHECK(traced.find("/_reports/download/") == std::string::npos);
    const value report = value::parse(result.out);
    REQUIRE(report.at("senders").size() == 3);
    const value* bot = sender_of(report, "sales-bot@contoso.com");
    REQUIRE(bot);
    CHECK(bot->at("messages").as_integer() == 312);
    CHECK(bot->at("failures").as_integer() == 2);
    CHECK(bot->at("basic").as_bool());
    CHECK(bot->at("standing").as_string() == "no exception");
    CHECK(bot->at("cut_off").as_bool());
    CHECK_THAT(bot->at("plan").as_string(), Catch::StartsWith("cut off: transport_config organization"));
    CHECK(bot->at("sources").size() == 2);  // the sign-in logs and the email apps report
    const value* scanner = sender_of(report, "scanner-3f@contoso.com");
    REQUIRE(scanner);
    CHECK_THAT(scanner->at("standing").as_string(), Catch::StartsWith("exception active"));
    CHECK_FALSE(scanner->at("cut_off").as_bool());
    const value* erp = sender_of(report, "legacy-erp@contoso.com");
    REQUIRE(erp);
    CHECK_THAT(erp->at("standing").as_string(), Catch::StartsWith("exception expired"));
    CHECK(erp->at("cut_off").as_bool());
    for (const value& source : report.at("sources").as_array()) CHECK(source.at("read").as_bool());
    // The report was fetched from its one-time link without the bearer token.
    const value state = sandbox.state();
    REQUIRE(state.at("report_downloads").size() == 1);
    CHECK_FALSE(state.at("report_downloads").at(0).at("authorization").as_bool());

    // The evidence outlives the sources: the journal keeps it.
    CHECK(query(sandbox.journal(), "SELECT address FROM sender_usage WHERE source = 'signin_logs' ORDER BY address")
              .size() == 3);
    sandbox.load_usage(R"({"signins": []})");
    const RunResult later = sandbox.authgate(
        {"usage", "-c", sandbox.example(), "--format", "json", "--state", sandbox.journal(), "--no-graph"});
    INFO(later.out << later.err);
    CHECK(later.exit_code == 0);
    CHECK(sender_of(value::parse(later.out), "sales-bot@contoso.com"));
}

TEST_CASE("a plan that cuts off a mailbox that sent yesterday is refused by the recent-use guardrail",
          "[integration][usage][safety]") {
    Sandbox sandbox;
    sandbox.load_usage(senders());
    const std::string desired = guarded(sandbox);
    const RunResult refused = sandbox.authgate({"plan", "-c", desired, "--state", sandbox.journal()});
    INFO(refused.out << refused.err);
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::Contains("error: this plan cuts off sales-bot@contoso.com, seen sending within 14 "
                                            "days ([guardrails] recent_use_days): 312 messages with Basic SMTP"));
    CHECK_THAT(refused.err, Catch::Contains("tenant.toml:"));
    CHECK_THAT(refused.err, Catch::Contains("cuts off legacy-erp@contoso.com"));
    // The plan says it, on the org switch's change.
    CHECK_THAT(refused.out,
               Catch::Contains("cuts off sales-bot@contoso.com: 312 messages with Basic SMTP, 2 failures"));
    CHECK_THAT(refused.out, Catch::Contains("of them seen sending in the last 14 days"));
    // apply refuses it too, and changes nothing.
    const RunResult apply = sandbox.authgate({"apply", "-c", desired, "--auto-approve", "--state", sandbox.journal()});
    CHECK(apply.exit_code == 1);
    CHECK(sandbox.state().at("mutations").size() == 0);

    // Accepted by the command, or by name in the desired state, the plan goes ahead.
    const RunResult accepted =
        sandbox.authgate({"plan", "-c", desired, "--accept-impact", "--format", "json", "--state", sandbox.journal()});
    INFO(accepted.err);
    CHECK(accepted.exit_code == 0);
    const value plan = value::parse(accepted.out);
    bool named = false;
    for (const value& impact : plan.at("usage").at("impacts").as_array())
        for (const value& cutoff : impact.at("cutoffs").as_array())
            if (cutoff.at("mailbox").as_string() == "sales-bot@contoso.com")
                named = cutoff.at("accepted").as_string() == "--accept-impact";
    CHECK(named);
    const std::string acknowledged = guarded(
        sandbox,
        R"(accept_cutoff = [{ mailbox = "sales-bot@contoso.com", reason = "moves to Graph sendMail, CHG0013000" }, )"
        R"({ mailbox = "legacy-erp@contoso.com", reason = "retired" }])",
        "acknowledged");
    const RunResult markdown =
        sandbox.authgate({"plan", "-c", acknowledged, "--format", "markdown", "--state", sandbox.journal()});
    INFO(markdown.err);
    CHECK(markdown.exit_code == 0);
    // At the top, for reviewers.
    CHECK(markdown.out.find("#### Impact on senders") < markdown.out.find("| resource | reason |"));
    CHECK_THAT(markdown.out, Catch::Contains("moves to Graph sendMail, CHG0013000"));
}

TEST_CASE("usage that cannot be read is said, never taken as no use", "[integration][usage][safety]") {
    Sandbox sandbox;
    sandbox.load_usage(senders());
    const std::string desired = guarded(sandbox);
    SECTION("no Entra ID P1 licence") {
        sandbox.set_faults(R"({"graph_no_premium": {"count": 10}})");
        const RunResult refused = sandbox.authgate({"plan", "-c", desired, "--state", sandbox.journal()});
        INFO(refused.out << refused.err);
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::Contains("the usage evidence could not be read"));
        CHECK_THAT(refused.err, Catch::Contains("the tenant needs Entra ID P1 or P2"));
        CHECK_THAT(refused.out, Catch::Contains("signin_logs: not read"));
    }
    SECTION("a Graph permission missing") {
        sandbox.set_faults(R"({"graph_missing_roles": ["AuditLog.Read.All"]})");
        const RunResult refused = sandbox.authgate({"plan", "-c", desired, "--state", sandbox.journal()});
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::Contains("AuditLog.Read.All and Directory.Read.All, with admin consent"));
    }
    SECTION("names concealed in reports") {
        sandbox.load_usage(
            R"({"email_app_usage": [{"user": "sales-bot@contoso.com", "smtp": "Yes"}], "concealed": true})");
        const RunResult result =
            sandbox.authgate({"usage", "-c", sandbox.example(), "--format", "json", "--state", sandbox.journal()});
        INFO(result.out << result.err);
        const value report = value::parse(result.out);
        for (const value& source : report.at("sources").as_array())
            if (source.at("source").as_string() == "email_app_report") {
                CHECK_FALSE(source.at("read").as_bool());
                CHECK_THAT(source.at("why_not").as_string(),
                           Catch::Contains("Display concealed user, group, and site names"));
            }
        CHECK_FALSE(sandbox.state().at("graph_requests").has_field("reportSettings_changes"));  // never changed
    }
}

TEST_CASE("throttling and an expired page link are survived", "[integration][usage]") {
    Sandbox sandbox;
    sandbox.load_usage(R"({"generate_signins": 2500, "users": 40, "from": ")" + days_ago(5) + R"(", "to": ")" +
                       days_ago(1) + R"("})");
    sandbox.set_faults(
        R"({"graph_throttle": {"count": 2, "retry_after": "1", "endpoint": "signIns"}, "graph_stale_skiptoken": {"count": 1, "page": 2}})");
    const RunResult result =
        sandbox.authgate({"usage", "-c", sandbox.example(), "--format", "json", "--state", sandbox.journal()});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
    const value report = value::parse(result.out);
    bool read = false;
    for (const value& source : report.at("sources").as_array())
        if (source.at("source").as_string() == "signin_logs") read = source.at("read").as_bool();
    CHECK(read);
    CHECK(report.at("senders").size() >= 40);
}

TEST_CASE("the SMTP AUTH clients report exported as CSV tells Basic from OAuth", "[integration][usage]") {
    Sandbox sandbox;
    const fs::path csv = sandbox.folder() / "smtp-auth-clients.csv";
    std::ofstream(csv) << "Sender address,Domain,TLS 1.2 (percentage),Messages sent,Authentication Protocol\r\n"
                          "sales-bot@contoso.com,contoso.com,100%,120,OAuth\r\n"
                          "mfp-lobby@contoso.com,contoso.com,100%,\"1,020\",Basic\r\n";
    const RunResult result = sandbox.authgate({"usage", "-c", sandbox.example(), "--no-graph", "--smtp-auth-report",
                                               csv.string(), "--format", "json", "--state", sandbox.journal()});
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    const value report = value::parse(result.out);
    const value* bot = sender_of(report, "sales-bot@contoso.com");
    REQUIRE(bot);
    CHECK(bot->at("oauth").as_bool());
    CHECK_FALSE(bot->at("basic").as_bool());
    const value* lobby = sender_of(report, "mfp-lobby@contoso.com");
    REQUIRE(lobby);
    CHECK(lobby->at("messages").as_integer() == 1020);
    // Not the report: said, and nothing read from it.
    const fs::path wrong = sandbox.folder() / "apps.csv";
    std::ofstream(wrong) << "User Principal Name,SMTP App\nsales-bot@contoso.com,Yes\n";
    const RunResult refused = sandbox.authgate({"usage", "-c", sandbox.example(), "--no-graph", "--smtp-auth-report",
                                                wrong.string(), "--state", sandbox.journal()});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.out, Catch::Contains("apps.csv:1:1: not the SMTP AUTH clients report"));
}

TEST_CASE("import --only-used proposes exceptions only for mailboxes seen sending", "[integration][usage]") {
    Sandbox sandbox;
    sandbox.load_usage(senders());
    const std::string imported = (sandbox.folder() / "imported.toml").string();
    const RunResult import = sandbox.authgate({"import", "--out", imported, "--tenant", "contoso.onmicrosoft.com",
                                               "--only-used", "--state", sandbox.journal()});
    INFO(import.out << import.err);
    REQUIRE(import.exit_code == 0);
    std::ifstream in(imported);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find("mailbox = \"legacy-erp@contoso.com\"") != std::string::npos);   // enabled, and sends
    CHECK(text.find("mailbox = \"old-printer@contoso.com\"") == std::string::npos);  // enabled, silent
    CHECK(text.find("#   old-printer@contoso.com") != std::string::npos);
    CHECK(text.find("#   sales-bot@contoso.com: 312 messages with Basic SMTP") != std::string::npos);
    // Still a plan of no change: the silent override is reported (drift, exit 2), not reverted.
    const RunResult plan =
        sandbox.authgate({"plan", "-c", imported, "--detailed-exitcode", "--state", sandbox.journal()});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 2);
    CHECK_THAT(plan.out, Catch::Contains("Plan: 0 to change, 5 to report, 0 skipped."));
    CHECK_THAT(plan.out, Catch::Contains("! mailbox old-printer@contoso.com"));
    // A source that cannot be read writes nothing.
    sandbox.set_faults(R"({"graph_no_premium": {"count": 10}})");
    const std::string again = (sandbox.folder() / "again.toml").string();
    const RunResult refused = sandbox.authgate(
        {"import", "--out", again, "--tenant", "contoso.onmicrosoft.com", "--only-used", "--state", sandbox.journal()});
    CHECK(refused.exit_code == 1);
    CHECK_FALSE(fs::exists(again));
}

TEST_CASE("a plan shows the evidence the journal kept, and reconcile enforces the guardrail as apply does",
          "[integration][usage]") {
    Sandbox sandbox;
    sandbox.load_usage(senders());
    REQUIRE(sandbox.authgate({"usage", "-c", sandbox.example(), "--state", sandbox.journal()}).exit_code == 0);
    // No usage setting in the desired state: the plan joins what `usage` kept, and reads no source.
    sandbox.load_usage(R"({"signins": []})");
    const RunResult plan = sandbox.authgate({"plan", "-c", sandbox.example(), "--state", sandbox.journal()});
    INFO(plan.out << plan.err);
    CHECK(plan.exit_code == 0);
    CHECK_THAT(plan.out, Catch::Contains("cuts off sales-bot@contoso.com: 312 messages with Basic SMTP"));
    CHECK_THAT(plan.out, Catch::Contains("Usage evidence (last 7 days): 2 senders cut off"));

    const std::string desired = guarded(sandbox);
    const RunResult enforce =
        sandbox.authgate({"reconcile", "-c", desired, "--once", "--mode", "enforce", "--state", sandbox.journal()});
    INFO(enforce.out << enforce.err);
    CHECK(enforce.exit_code == 1);
    CHECK_THAT(enforce.err, Catch::Contains("this plan cuts off sales-bot@contoso.com"));
    CHECK(sandbox.state().at("mutations").size() == 0);
    CHECK(query(sandbox.journal(), "SELECT outcome FROM runs ORDER BY id DESC LIMIT 1").at(0).at("outcome") ==
          "refused");
}
