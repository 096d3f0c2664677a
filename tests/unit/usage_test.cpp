// Usage evidence in the core: the SMTP AUTH clients report read from CSV, senders joined to
// mailboxes, a plan's impact on them, the recent-use guardrail and unused exceptions.
#include <catch2/catch.hpp>

#include "policies/impact.h"
#include "policies/usage.h"

using namespace authgate;

namespace {

const Instant now = *parse_instant("2026-11-30T12:00:00Z");

Instant days_ago(int days) { return now - std::chrono::hours(24) * days; }

Mailbox mailbox(const std::string& address, std::optional<bool> disabled, const std::string& object_id = "") {
    Mailbox result;
    result.primary_smtp_address = address;
    result.identity = address;
    result.external_directory_object_id = object_id;
    result.smtp_auth_disabled = disabled;
    return result;
}

UsageObservation seen(const std::string& address, SmtpProtocol protocol, long long messages, Instant last,
                      UsageSource source = UsageSource::signin_logs, const std::string& user_id = "") {
    UsageObservation observation;
    observation.address = address;
    observation.user_id = user_id;
    observation.source = source;
    observation.protocol = protocol;
    observation.messages = messages;
    observation.first_seen = last - std::chrono::hours(48);
    observation.last_seen = last;
    return observation;
}

SourceReport read(UsageSource source) {
    SourceReport report;
    report.source = source;
    report.read = true;
    report.from = days_ago(7);
    report.to = now;
    return report;
}

Change smtp_change(Resource resource, const std::string& target, SettingValue before, SettingValue after,
                   Reason reason = Reason::declared) {
    Change change;
    change.resource = resource;
    change.target = target;
    change.attribute = "SmtpClientAuthenticationDisabled";
    change.before = before;
    change.after = after;
    change.reason = reason;
    return change;
}

LiveState tenant() {
    LiveState live;
    live.org_smtp_auth_disabled = false;
    live.mailboxes = std::vector<Mailbox>{
        mailbox("scanner-2@contoso.com", std::nullopt, "11111111-1111-1111-1111-111111111111"),
        mailbox("quiet@contoso.com", std::nullopt),
        mailbox("legacy-erp@contoso.com", false),
        mailbox("app@contoso.com", std::nullopt),
    };
    live.users = std::vector<LiveUser>{};
    live.policies = std::vector<LivePolicy>{};
    return live;
}

}  // namespace

TEST_CASE("the SMTP AUTH clients report is read with any header spelling and column order", "[usage]") {
    const std::string csv =
        "\xEF\xBB\xBF\"Authentication Protocol\",Domain,\"Sender address\",\"TLS 1.2 (percentage)\",\"Messages "
        "sent\",Region\r\n"
        "Basic,contoso.com,Scanner-2@Contoso.com,100%,\"1,204\",EU\r\n"
        "OAuth,contoso.com,app@contoso.com,100%,12,EU\r\n"
        "Basic,contoso.com,scanner-2@contoso.com,100%,6,EU\r\n"
        ",,,,,\r\n";
    const ReportRead result = read_smtp_auth_report(csv, "smtp.csv", days_ago(7), now);
    REQUIRE(result.report.read);
    REQUIRE(result.observations.size() == 2);
    CHECK(result.observations[0].address == "scanner-2@contoso.com");
    CHECK(result.observations[0].protocol == SmtpProtocol::basic);
    CHECK(result.observations[0].messages == 1210);  // two rows of one sender and protocol
    CHECK(result.observations[1].protocol == SmtpProtocol::oauth);
    CHECK(result.observations[1].last_seen == now);
    REQUIRE(result.report.notes.size() == 2);
    CHECK(result.report.notes[0] == "column \"Region\" not recognised, ignored");

    const ReportRead other = read_smtp_auth_report("sender,message count\nx@contoso.com,3 \n", "x.csv", now, now);
    REQUIRE(other.report.read);
    CHECK(other.observations.at(0).messages == 3);
    CHECK(other.report.notes.at(0) == "no \"Authentication Protocol\" column: Basic and OAuth cannot be told apart");
}

TEST_CASE("a file that is not the report is said so, with the fix", "[usage]") {
    const ReportRead wrong = read_smtp_auth_report("User Principal Name,SMTP App\nx@contoso.com,Yes\n", "apps.csv",
                                                   days_ago(7), now);
    CHECK_FALSE(wrong.report.read);
    CHECK(wrong.report.why_not.rfind("apps.csv:1:1: not the SMTP AUTH clients report: its first line has no "
                                     "\"Sender address\" column",
                                     0) == 0);
    CHECK_FALSE(read_smtp_auth_report("", "empty.csv", now, now).report.read);
}

TEST_CASE("senders are joined to mailboxes by directory id, else by address", "[usage]") {
    UsageEvidence evidence;
    evidence.sources = {read(UsageSource::signin_logs)};
    evidence.observations = {
        seen("old-upn@contoso.com", SmtpProtocol::basic, 300, days_ago(1), UsageSource::signin_logs,
             "11111111-1111-1111-1111-111111111111"),
        seen("SCANNER-2@contoso.com", SmtpProtocol::oauth, 12, days_ago(3), UsageSource::smtp_auth_report),
        seen("nobody@contoso.com", SmtpProtocol::basic, 1, days_ago(2)),
        seen("app@contoso.com", SmtpProtocol::basic, 9, days_ago(40)),  // before the window
    };
    const auto senders = usage_by_sender(evidence, tenant(), days_ago(7));
    REQUIRE(senders.size() == 2);
    CHECK(senders[0].mailbox == "scanner-2@contoso.com");
    CHECK(senders[0].matched);
    CHECK(senders[0].messages == 312);
    CHECK(senders[0].basic);
    CHECK(senders[0].oauth);
    CHECK(senders[0].last_seen == days_ago(1));
    CHECK(senders[0].sources.size() == 2);
    CHECK(senders[1].mailbox == "nobody@contoso.com");
    CHECK_FALSE(senders[1].matched);
    CHECK(describe(senders[0], now) == "312 messages with Basic and OAuth SMTP, last 2026-11-29 (1 day ago) "
                                       "(sign-in logs, SMTP AUTH clients report)");
}

TEST_CASE("turning the org switch off counts who inherits it and names who was seen sending", "[usage]") {
    DesiredState desired;
    desired.smtp_auth.emplace();
    desired.smtp_auth->accept_cutoff.push_back({Name("app@contoso.com"), "retired with CHG0013000", {}});
    UsageEvidence evidence;
    evidence.sources = {read(UsageSource::signin_logs)};
    evidence.observations = {seen("scanner-2@contoso.com", SmtpProtocol::basic, 312, days_ago(1)),
                             seen("app@contoso.com", SmtpProtocol::basic, 2, days_ago(2)),
                             seen("legacy-erp@contoso.com", SmtpProtocol::basic, 40, days_ago(1))};
    Plan plan;
    plan.changes = {smtp_change(Resource::transport_config, "organization", false, true),
                    smtp_change(Resource::mailbox, "legacy-erp@contoso.com", false, SettingValue{},
                                Reason::exception_expired)};
    const PlanUsage usage = assess_impact(plan, desired, tenant(), evidence, now, {7, false});
    REQUIRE(usage.impacts.size() == 2);
    const ChangeImpact& org = usage.impacts[0];
    CHECK(org.inheriting == 4);        // three that inherit, and legacy-erp once reverted
    CHECK(org.inheriting_seen == 3);   // scanner-2, app and legacy-erp
    REQUIRE(org.cutoffs.size() == 2);  // legacy-erp is named under its own change
    CHECK(org.cutoffs[0].mailbox == "scanner-2@contoso.com");
    CHECK_FALSE(org.cutoffs[0].accepted);
    CHECK(org.cutoffs[1].accepted == "accept_cutoff: retired with CHG0013000");
    CHECK(describe(org, 7) == "inherited by 4 mailboxes, 3 of them seen sending in the last 7 days");
    REQUIRE(usage.impacts[1].cutoffs.size() == 1);
    CHECK(describe(usage.impacts[1].cutoffs[0]) ==
          "cuts off legacy-erp@contoso.com: 40 messages with Basic SMTP, last 2026-11-29 (1 day ago) (sign-in logs)");
    CHECK(usage.cutoff_count() == 3);
}

TEST_CASE("a revert cuts off only where SMTP AUTH ends up off", "[usage]") {
    UsageEvidence evidence;
    evidence.sources = {read(UsageSource::signin_logs)};
    evidence.observations = {seen("legacy-erp@contoso.com", SmtpProtocol::basic, 40, days_ago(1))};
    Plan plan;
    plan.changes = {smtp_change(Resource::mailbox, "legacy-erp@contoso.com", false, SettingValue{})};
    // The org switch stays on: inheriting it, the mailbox keeps SMTP AUTH.
    CHECK(assess_impact(plan, {}, tenant(), evidence, now, {}).cutoff_count() == 0);
    LiveState off = tenant();
    off.org_smtp_auth_disabled = true;
    CHECK(assess_impact(plan, {}, off, evidence, now, {}).cutoff_count() == 1);
    // Denied outright.
    plan.changes = {smtp_change(Resource::mailbox, "legacy-erp@contoso.com", false, true)};
    CHECK(assess_impact(plan, {}, tenant(), evidence, now, {}).cutoff_count() == 1);
}

TEST_CASE("the recent-use guardrail refuses a cut-off of a recent sender, and unknown use", "[usage]") {
    DesiredState desired;
    desired.guardrails.recent_use_days = Located<int>{14, {"tenant.toml", 9, 1}};
    UsageEvidence evidence;
    evidence.sources = {read(UsageSource::signin_logs)};
    evidence.observations = {seen("scanner-2@contoso.com", SmtpProtocol::basic, 312, days_ago(1)),
                             seen("app@contoso.com", SmtpProtocol::basic, 2, days_ago(20))};
    Plan plan;
    plan.changes = {smtp_change(Resource::transport_config, "organization", false, true)};
    const PlanUsage usage = assess_impact(plan, desired, tenant(), evidence, now, {30, false});
    Diagnostics refused;
    check_recent_use(usage, desired, false, refused);
    REQUIRE(refused.all().size() == 1);  // app@ was seen 20 days ago: not recent
    CHECK(refused.all()[0].code == "recent_use");
    CHECK(refused.all()[0].source.file == "tenant.toml");
    CHECK(refused.all()[0].message.rfind("this plan cuts off scanner-2@contoso.com, seen sending within 14 days", 0) ==
          0);
    // Accepted on the command line.
    Diagnostics accepted;
    check_recent_use(assess_impact(plan, desired, tenant(), evidence, now, {30, true}), desired, true, accepted);
    CHECK_FALSE(accepted.has_errors());
    // A source that could not be read: no evidence of use is not evidence of no use.
    evidence.observations.clear();
    evidence.sources[0].read = false;
    evidence.sources[0].why_not = "the tenant needs Entra ID P1 or P2";
    Diagnostics unknown;
    check_recent_use(assess_impact(plan, desired, tenant(), evidence, now, {30, false}), desired, false, unknown);
    REQUIRE(unknown.all().size() == 1);
    CHECK(unknown.all()[0].code == "usage_unknown");
    // Without the setting, nothing is refused.
    Diagnostics unset;
    check_recent_use(usage, DesiredState{}, false, unset);
    CHECK(unset.all().empty());
}

TEST_CASE("exceptions no one uses, and basic_auth seen only on OAuth, are warned about", "[usage]") {
    DesiredState desired;
    desired.exception_settings.unused_days = Located<int>{60, {}};
    desired.smtp_auth.emplace();
    for (const std::string address : {"scanner-2@contoso.com", "quiet@contoso.com", "app@contoso.com"}) {
        Exception exception;
        exception.mailbox = address;
        exception.owner = "ops@contoso.com";
        exception.expires = now + std::chrono::hours(24 * 30);
        exception.basic_auth = address == "app@contoso.com";
        desired.smtp_auth->exceptions.push_back(exception);
    }
    UsageEvidence evidence;
    evidence.sources = {read(UsageSource::smtp_auth_report)};
    evidence.observations = {
        seen("scanner-2@contoso.com", SmtpProtocol::basic, 3, days_ago(5), UsageSource::smtp_auth_report),
        seen("app@contoso.com", SmtpProtocol::oauth, 9, days_ago(5), UsageSource::smtp_auth_report)};
    Diagnostics warnings;
    warn_unused_exceptions(desired, tenant(), evidence, now, warnings);
    REQUIRE(warnings.all().size() == 2);
    CHECK(warnings.all()[0].code == "exception_unused");
    CHECK(warnings.all()[0].message.find("quiet@contoso.com") != std::string::npos);
    CHECK(warnings.all()[1].code == "basic_auth_unneeded");
    evidence.sources[0].read = false;
    Diagnostics unknown;
    warn_unused_exceptions(desired, tenant(), evidence, now, unknown);
    REQUIRE(unknown.all().size() == 1);
    CHECK(unknown.all()[0].code == "unused_unknown");
}

TEST_CASE("Basic SMTP senders are counted on each day from their first sighting to their last", "[usage]") {
    std::vector<UsageObservation> observations{
        seen("scanner@contoso.com", SmtpProtocol::basic, 10, days_ago(1)),  // days 3, 2, 1 ago
        seen("SCANNER@contoso.com", SmtpProtocol::basic, 10, days_ago(1),   // the same sender, another source
             UsageSource::smtp_auth_report),
        seen("app@contoso.com", SmtpProtocol::oauth, 10, days_ago(0)),       // OAuth: not counted
        seen("old@contoso.com", SmtpProtocol::basic, 10, days_ago(4)),       // days 6, 5, 4 ago
        seen("ancient@contoso.com", SmtpProtocol::basic, 10, days_ago(30)),  // before the window
    };
    const auto days = basic_senders_by_day(observations, days_ago(6), now);
    REQUIRE(days.size() == 7);
    const std::vector<long> expected{1, 1, 1, 1, 1, 1, 0};  // 6 days ago .. today
    for (std::size_t i = 0; i < days.size(); ++i) {
        INFO("day " << format_instant(days[i].day));
        CHECK(days[i].senders == expected[i]);
    }
    CHECK(format_instant(days.front().day) == "2026-11-24T00:00:00Z");
    CHECK(format_instant(days.back().day) == "2026-11-30T00:00:00Z");
    observations.push_back(seen("new@contoso.com", SmtpProtocol::basic, 1, days_ago(0)));  // days 2, 1, 0 ago
    const auto more = basic_senders_by_day(observations, days_ago(6), now);
    CHECK(more[4].senders == 2);
    CHECK(more[6].senders == 1);
    CHECK(basic_senders_by_day(observations, now, days_ago(1)).empty());
}
