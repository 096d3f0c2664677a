// Owner notices: what is due for each exception (warning, expired, reverted, unused), each once
// per milestone; one message per owner with every recipient once; the mail as SMTP carries it;
// what an SMTP refusal means; and the webhook's JSON and Teams card.
#include <catch2/catch.hpp>

#include <cpprest/json.h>

#include <regex>

#include "agent/notify.h"
#include "connectors/mail.h"
#include "policies/loader.h"
#include "policies/notices.h"
#include "policies/validate.h"

using namespace authgate;

namespace {

const Instant now = *parse_instant("2026-11-30T12:00:00Z");

const std::string header = R"(version = 1
[tenant]
id = "contoso.onmicrosoft.com"
[notifications.email]
sender = "authgate@contoso.com"
cc = ["messaging@contoso.com", "OWNER@contoso.com"]
[exceptions]
warn_days = [14, 7, 1]
unused_days = 30
)";

std::string exception(const std::string& mailbox, const std::string& owner, const std::string& expires,
                      const std::string& extra = "") {
    return "[[smtp_auth.exception]]\nmailbox = \"" + mailbox + "\"\nowner = \"" + owner +
           "\"\nreason = \"scan to mail\"\nexpires = " + expires + "\nreplacement = \"hve\"\n" + extra;
}

DesiredState loaded(const std::string& body) {
    LoadResult result = load_desired_state_text("exceptions.toml", header + body);
    std::string problems;
    for (const auto& d : result.diagnostics.all()) problems += format(d) + "\n";
    INFO(problems);
    REQUIRE_FALSE(result.diagnostics.has_errors());
    return result.state;
}

std::vector<std::string> keys(const std::vector<Notice>& notices) {
    std::vector<std::string> out;
    for (const Notice& notice : notices) out.push_back(notice.exception->mailbox.text() + " " + notice_key(notice));
    return out;
}

}  // namespace

TEST_CASE("notices: each exception's most urgent notice, keyed by its milestone", "[notices]") {
    const DesiredState desired = loaded(exception("soon@contoso.com", "owner@contoso.com", "2026-12-10") +
                                        exception("gone@contoso.com", "owner@contoso.com", "2026-11-20") +
                                        exception("undone@contoso.com", "other@contoso.com", "2026-11-25") +
                                        exception("idle@contoso.com", "other@contoso.com", "2027-05-01") +
                                        exception("busy@contoso.com", "other@contoso.com", "2027-05-01"));
    NoticeFacts facts;
    facts.reverted = {Name("UNDONE@contoso.com")};
    facts.unused = std::set<Name>{Name("idle@contoso.com")};
    facts.last_use[Name("busy@contoso.com")] = {now - std::chrono::hours(24), UsageSource::signin_logs};
    CHECK(keys(due_notices(desired, facts, now)) ==
          std::vector<std::string>{"soon@contoso.com warning 14 days 2026-12-10", "gone@contoso.com expired 2026-11-20",
                                   "undone@contoso.com reverted 2026-11-25",
                                   "idle@contoso.com unused 2027-05-01 last used never"});

    SECTION("a renewal is a new milestone") {
        const DesiredState renewed = loaded(exception("soon@contoso.com", "owner@contoso.com", "2026-12-05"));
        CHECK(keys(due_notices(renewed, {}, now)) ==
              std::vector<std::string>{"soon@contoso.com warning 7 days 2026-12-05"});
    }
    SECTION("unknown usage sends no unused notice") {
        facts.unused.reset();
        CHECK(keys(due_notices(desired, facts, now)).size() == 3);
    }
    SECTION("nothing without [notifications.email]") {
        DesiredState quiet = desired;
        quiet.notifications.email.reset();
        CHECK(due_notices(quiet, facts, now).empty());
    }
}

TEST_CASE("notices: one message per owner, with cc and notify once each", "[notices]") {
    const DesiredState desired =
        loaded(exception("a@contoso.com", "owner@contoso.com", "2026-12-05", "notify = [\"team@contoso.com\"]\n") +
               exception("b@contoso.com", "Owner@Contoso.com", "2026-11-20",
                         "notify = [\"TEAM@contoso.com\", \"desk@contoso.com\"]\n") +
               exception("c@contoso.com", "other@contoso.com", "2026-12-05"));
    const auto messages = owner_messages(due_notices(desired, {}, now), desired, "contoso.onmicrosoft.com", now);
    REQUIRE(messages.size() == 2);
    CHECK(messages[0].to == "owner@contoso.com");
    CHECK(messages[0].notices.size() == 2);
    // The owner is not copied on their own message; addresses compare without regard to case.
    CHECK(messages[0].cc == std::vector<std::string>{"messaging@contoso.com", "team@contoso.com", "desk@contoso.com"});
    CHECK(messages[0].subject == "2 SMTP AUTH exceptions you own need attention");
    CHECK(messages[1].subject == "SMTP AUTH exception for c@contoso.com expires in 5 days");
    const std::string& text = messages[0].text;
    CHECK_THAT(text, Catch::Contains("Mailbox:     a@contoso.com"));
    CHECK_THAT(text, Catch::Contains("Expires:     2026-12-05 (5 days left)"));
    CHECK_THAT(text, Catch::Contains("Expired:     2026-11-20 (9 days ago)"));
    // What to do names the file and line to edit, and the replacement path.
    CHECK_THAT(text, Catch::Contains("change 'expires' in exceptions.toml, line 14"));
    CHECK_THAT(text, Catch::Contains("High Volume Email"));
}

TEST_CASE("notices: desired-state text is inert in the message", "[notices]") {
    // The loader refuses control characters; the message does not rely on it.
    DesiredState desired = loaded(exception("a@contoso.com", "owner@contoso.com", "2026-12-05"));
    desired.smtp_auth->exceptions[0].reason = "line one\nSubject: forged\x1b[31m";
    const auto messages = owner_messages(due_notices(desired, {}, now), desired, "contoso", now);
    REQUIRE(messages.size() == 1);
    CHECK_THAT(messages[0].text, Catch::Contains("line one\\nSubject: forged\\x1b[31m"));
    CHECK(messages[0].text.find('\x1b') == std::string::npos);
}

TEST_CASE("notices: [notifications.email] and notify are validated with their positions", "[notices][loader]") {
    const LoadResult result = load_desired_state_text(
        "n.toml", "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n[notifications.email]\n"
                  "transport = \"pigeon\"\nsender = \"not an address\"\nsmtp_host = \"smtp.example.com/evil\"\n"
                  "cc = [\"x\"]\n" +
                      exception("a@contoso.com", "o@contoso.com", "2026-12-05", "notify = [\"y@\"]\n"));
    std::vector<std::string> lines;
    for (const auto& d : result.diagnostics.all()) lines.push_back(format(d));
    REQUIRE(lines.size() == 5);
    CHECK_THAT(lines[0], Catch::StartsWith("n.toml:5:13: error: 'transport' must be one of graph, smtp"));
    CHECK_THAT(lines[1], Catch::StartsWith("n.toml:6:10: error: 'sender' is not a plausible mail address"));
    CHECK_THAT(lines[2], Catch::StartsWith("n.toml:7:13: error: 'smtp_host' must be a host name"));
    CHECK_THAT(lines[3], Catch::StartsWith("n.toml:8:7: error: 'cc[0]' is not a plausible mail address"));
    CHECK_THAT(lines[4], Catch::Contains("'notify[0]' is not a plausible mail address"));
}

TEST_CASE("mail: the message as SMTP carries it", "[notices][mail]") {
    MailMessage message;
    message.from = "authgate@contoso.com";
    message.to = {"owner@contoso.com"};
    message.cc = {"team@contoso.com"};
    message.subject = "Ausnahme für drucker@contoso.com läuft ab\r\nBcc: evil@example.com";
    message.text = "Zeile eins\n.\nZeile zwei";
    message.message_id = make_message_id(message.from);
    const std::string mime = mime_message(message, *parse_instant("2026-11-30T12:00:00Z"));
    CHECK_THAT(mime, Catch::StartsWith("Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nFrom: authgate@contoso.com\r\n"
                                       "To: owner@contoso.com\r\nCc: team@contoso.com\r\nSubject: =?UTF-8?B?"));
    // No header can be smuggled in through the subject.
    CHECK(mime.find("\r\nBcc:") == std::string::npos);
    CHECK_THAT(mime, Catch::Contains("Content-Transfer-Encoding: base64\r\n\r\nWmVpbGUgZWlucwouClplaWxlIHp3ZWk=\r\n"));
    CHECK_THAT(message.message_id, Catch::Matches("<authgate\\.[0-9a-f]{32}@contoso\\.com>"));
}

TEST_CASE("mail: the SMTP token's audience follows the host", "[notices][mail]") {
    CHECK(smtp_token_audience("smtp.hve.mx.microsoft", "https://outlook.office365.com") ==
          "https://outlook.office.com");
    CHECK(smtp_token_audience("SMTP-HVE.office365.com", "https://outlook.office365.com") ==
          "https://outlook.office.com");
    CHECK(smtp_token_audience("smtp.office365.com", "https://outlook.office365.com") ==
          "https://outlook.office365.com");
}

TEST_CASE("mail: SMTP refusals get advice", "[notices][mail]") {
    CHECK_THAT(smtp_advice("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
                           "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [X]"),
               Catch::Contains("smtp.hve.mx.microsoft"));
    CHECK_THAT(smtp_advice("535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com]"),
               Catch::Contains("SMTP.SendAsApp"));
    CHECK_THAT(smtp_advice("550 5.5.105 External sending is not supported for High Volume Email accounts"),
               Catch::Contains("internal recipients only"));
    CHECK_THAT(smtp_advice("550 5.7.60 SMTP; Client does not have permissions to send as this sender"),
               Catch::Contains("send as"));
    CHECK(smtp_advice("250 OK").empty());
}

TEST_CASE("webhook: JSON with numbers as numbers, or an Adaptive Card for Teams", "[notices][webhook]") {
    const WebhookNotice notice{"warning",
                               "exception for <!channel> expires",
                               "contoso",
                               "2026-11-30T12:00:00Z",
                               {{"mailbox", "a@contoso.com"}},
                               {{"days_left", 5}, {"threshold_days", 7}}};
    const web::json::value json = webhook_payload(notice, WebhookFormat::json);
    CHECK(json.at("days_left").is_integer());
    CHECK(json.at("days_left").as_integer() == 5);
    CHECK(json.at("mailbox").as_string() == "a@contoso.com");
    CHECK(json.at("text").as_string() == "authgate (contoso): exception for &lt;!channel&gt; expires");

    const web::json::value card = webhook_payload(notice, WebhookFormat::teams);
    CHECK(card.at("type").as_string() == "message");
    const web::json::value& attachment = card.at("attachments").at(0);
    CHECK(attachment.at("contentType").as_string() == "application/vnd.microsoft.card.adaptive");
    CHECK(attachment.at("content").at("version").as_string() == "1.4");
    // Text goes in TextRuns, which Teams does not read as Markdown.
    for (const auto& block : attachment.at("content").at("body").as_array()) {
        CHECK(block.at("type").as_string() == "RichTextBlock");
        for (const auto& run : block.at("inlines").as_array()) CHECK(run.at("type").as_string() == "TextRun");
    }

    CHECK(
        is_teams_workflow("https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"));
    CHECK(is_teams_workflow("https://default1234.56.environment.api.powerplatform.com/powerautomate/automations/direct/"
                            "workflows/abc/triggers/manual/paths/invoke"));
    CHECK_FALSE(is_teams_workflow("https://hooks.slack.com/services/T/B/X"));
    CHECK_FALSE(is_teams_workflow("https://evil.example/logic.azure.com"));
}

TEST_CASE("notices: SMTP to smtp.office365.com from a sender without SMTP AUTH is warned about",
          "[notices][validate]") {
    const std::string smtp =
        "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n[smtp_auth]\norg_disabled = true\n"
        "[notifications.email]\ntransport = \"smtp\"\nsender = \"notify@contoso.com\"\n"
        "smtp_host = \"smtp.office365.com\"\n";
    const LoadResult result = load_desired_state_text("n.toml", smtp);
    REQUIRE_FALSE(result.diagnostics.has_errors());
    const Diagnostics warned = validate(result.state, now);
    REQUIRE(warned.all().size() == 1);
    CHECK(warned.all()[0].code == "mail_sender_without_smtp_auth");
    // High Volume Email works with SMTP AUTH off.
    const LoadResult hve = load_desired_state_text("n.toml", std::regex_replace(smtp, std::regex("smtp.office365.com"),
                                                                                "smtp.hve.mx.microsoft"));
    CHECK(validate(hve.state, now).all().empty());
}
