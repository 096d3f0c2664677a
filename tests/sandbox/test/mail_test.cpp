// Mail through the sandbox: Graph's sendMail (its checks, body, record and faults), the mail
// faults of the fault document, /_sandbox/mail, and Get-Recipient.
#include <catch2/catch.hpp>
#include <regex>

#include "cmdlets.h"
#include "exchange_error.h"
#include "sandbox_fixture.h"
#include "serve.h"

namespace sandbox::test {
namespace {

using web::json::value;

const std::string kSendMail = "/v1.0/users/authgate-notify@contoso.com/sendMail";

std::string mail_token(SandboxFixture& fixture, const std::string& scope = "https://graph.microsoft.com/.default") {
    return fixture.token_for(scope);
}

const char* const kMessage =
    R"({"message":{"subject":"SMTP AUTH exception for printer@contoso.com expires in 14 days",
        "body":{"contentType":"Text","content":"Renew it or let it lapse."},
        "toRecipients":[{"emailAddress":{"address":"owner@contoso.com"}}],
        "ccRecipients":[{"emailAddress":{"address":"messaging-team@contoso.com"}}],
        "internetMessageHeaders":[{"name":"x-authgate-exception-id","value":"exc-0042"}]},
        "saveToSentItems":false})";

HttpResponse send_mail(SandboxFixture& fixture, const std::string& token, const std::string& body = kMessage,
                       const std::string& path = "/v1.0/users/printer@contoso.com/sendMail") {
    return fixture.send("POST", path, {}, {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}},
                        body);
}

std::string error_code(const HttpResponse& response) { return body_of(response).at("error").at("code").as_string(); }
std::string error_message(const HttpResponse& response) {
    return body_of(response).at("error").at("message").as_string();
}

value mail_record(SandboxFixture& fixture) { return body_of(fixture.control("GET", "/_sandbox/mail")); }

// The small tenant with a shared mailbox (by its user) and two groups.
Tenant tenant_with_recipients() {
    value seed = small_tenant_seed();
    value& users = seed["users"];
    value shared = value::object(true);
    shared["Identity"] = value::string("bob");
    shared["ExternalDirectoryObjectId"] = value::string("aaaa0001-0000-4000-8000-000000000005");
    shared["UserPrincipalName"] = value::string("bob@contoso.com");
    shared["RecipientTypeDetails"] = value::string("SharedMailbox");
    shared["AuthenticationPolicy"] = value::null();
    users[users.size()] = shared;
    seed["recipients"] = value::parse(R"([
        {"Identity":"Messaging Team","PrimarySmtpAddress":"messaging-team@contoso.com",
         "RecipientTypeDetails":"MailUniversalDistributionGroup",
         "EmailAddresses":["SMTP:messaging-team@contoso.com","smtp:msg@contoso.onmicrosoft.com"]},
        {"Name":"Security","PrimarySmtpAddress":"security@contoso.com","RecipientTypeDetails":"GroupMailbox",
         "ExternalDirectoryObjectId":"dddd0001-0000-4000-8000-000000000001"}])");
    return Tenant::from_snapshot(seed, kTenant);
}

value get_recipient(Tenant& tenant, const std::string& identity) {
    const CmdletResult result = run_cmdlet(*find_cmdlet("Get-Recipient"), tenant,
                                           value::parse(R"({"Identity":")" + identity + R"("})"));
    REQUIRE(result.objects.size() == 1);
    return *result.objects.front();
}

}  // namespace

TEST_CASE("sendMail accepts a message from a mailbox of the tenant: 202, no body, a request-id, and a record") {
    SandboxFixture fixture;
    const std::string token = mail_token(fixture);
    const HttpResponse accepted = send_mail(fixture, token);
    INFO(accepted.body);
    CHECK(accepted.status == 202);
    CHECK(accepted.body.empty());
    const std::string request_id = accepted.headers.get("request-id").value_or("");
    CHECK(std::regex_match(request_id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")));

    // By ExternalDirectoryObjectId, with the origin's token (it carries Graph's roles too), HTML,
    // saveToSentItems left out.
    const HttpResponse by_id =
        send_mail(fixture, fixture.token(),
                  R"({"message":{"subject":"s","body":{"contentType":"html","content":"<p>x</p>"},
            "toRecipients":[{"emailAddress":{"address":"a@fabrikam.com"}},{"emailAddress":{"address":"b@contoso.com"}}]}})",
                  "/v1.0/users/AAAA0001-0000-4000-8000-000000000004/SENDMAIL");
    CHECK(by_id.status == 202);

    const value record = mail_record(fixture);
    CHECK(record.at("send_mail_calls").as_integer() == 2);
    REQUIRE(record.at("messages").size() == 2);
    const value first = record.at("messages").at(0);
    CHECK(first.at("transport").as_string() == "graph");
    CHECK(first.at("sender").as_string() == "printer@contoso.com");
    CHECK(first.at("to").serialize() == R"(["owner@contoso.com"])");
    CHECK(first.at("cc").serialize() == R"(["messaging-team@contoso.com"])");
    CHECK(first.at("bcc").serialize() == "[]");
    CHECK(first.at("subject").as_string() == "SMTP AUTH exception for printer@contoso.com expires in 14 days");
    CHECK(first.at("content_type").as_string() == "Text");
    CHECK(first.at("content").as_string() == "Renew it or let it lapse.");
    CHECK(first.at("headers").serialize() == R"([{"name":"x-authgate-exception-id","value":"exc-0042"}])");
    CHECK(first.at("save_to_sent_items").as_bool() == false);
    CHECK(first.at("request_id").as_string() == request_id);
    CHECK(first.has_field("received"));
    const value second = record.at("messages").at(1);
    CHECK(second.at("sender").as_string() == "alice@contoso.com");
    CHECK(second.at("sender_as_addressed").as_string() == "AAAA0001-0000-4000-8000-000000000004");
    CHECK(second.at("content_type").as_string() == "HTML");
    CHECK(second.at("save_to_sent_items").as_bool() == true);
    CHECK(second.at("to").size() == 2);
    // No token in the record or the state.
    CHECK(record.serialize().find(token) == std::string::npos);
    CHECK(fixture.state().serialize().find(token) == std::string::npos);

    CHECK(body_of(fixture.control("DELETE", "/_sandbox/mail")).at("messages").size() == 0);
    CHECK(mail_record(fixture).at("send_mail_calls").as_integer() == 0);
}

TEST_CASE(
    "sendMail refuses a request without a Graph bearer, without Mail.Send, from an unknown sender, or malformed") {
    SandboxFixture fixture;
    const std::string token = mail_token(fixture);
    SECTION("no bearer or an unknown one") {
        const HttpResponse none = fixture.send("POST", "/v1.0/users/printer@contoso.com/sendMail", {},
                                               {{"Content-Type", "application/json"}}, kMessage);
        CHECK(none.status == 401);
        CHECK(send_mail(fixture, "eyJ0eXAiOiJKV1QifQ.e30.c2ln").status == 401);
    }
    SECTION("a token without Mail.Send") {
        fixture.set_faults(R"({"graph_missing_roles": ["Mail.Send"]})");
        const HttpResponse refused = send_mail(fixture, mail_token(fixture));
        CHECK(refused.status == 403);
        CHECK(error_code(refused) == "ErrorAccessDenied");
        CHECK(error_message(refused) == "Access is denied. Check credentials and try again.");
        CHECK(send_mail(fixture, token).status == 202);  // issued before: it keeps its roles
    }
    SECTION("a sender that is no mailbox of the tenant") {
        const HttpResponse refused = send_mail(fixture, token, kMessage, "/v1.0/users/legacy-erp@contoso.com/sendMail");
        CHECK(refused.status == 404);
        CHECK(error_code(refused) == "ErrorInvalidUser");
        CHECK(error_message(refused) == "The requested user 'legacy-erp@contoso.com' is invalid.");
    }
    SECTION("a header whose name does not start with x-") {
        const HttpResponse refused =
            send_mail(fixture, token,
                      R"({"message":{"subject":"s","toRecipients":[{"emailAddress":{"address":"a@contoso.com"}}],
                "internetMessageHeaders":[{"name":"Reply-To","value":"x@contoso.com"}]}})");
        CHECK(refused.status == 400);
        CHECK(error_code(refused) == "InvalidInternetMessageHeader");
        CHECK(send_mail(fixture, token,
                        R"({"message":{"toRecipients":[{"emailAddress":{"address":"a@contoso.com"}}],
                            "internetMessageHeaders":[{"name":"X-Upper","value":"1"}]}})")
                  .status == 202);
    }
    SECTION("no recipients, a recipient without an address, a body that is not JSON, an unknown property") {
        for (const std::string body :
             {R"({"message":{"subject":"s"}})", R"({"message":{"subject":"s","toRecipients":[]}})",
              R"({"message":{"toRecipients":[{"emailAddress":{"name":"x"}}]}})"}) {
            const HttpResponse refused = send_mail(fixture, token, body);
            CHECK(refused.status == 400);
            CHECK(error_code(refused) == "ErrorInvalidRecipients");
        }
        for (const std::string& body :
             {std::string("{\"message\":"), std::string(R"({"subject":"s"})"),
              std::string(R"({"message":{"toRecipients":[{"emailAddress":{"address":"a@contoso.com"}}],"tO":1}})"),
              std::string(R"({"message":{"toRecipients":[{"emailAddress":{"address":"a@contoso.com"}}],)"
                          R"("body":{"contentType":"Markdown","content":"x"}}})")}) {
            const HttpResponse refused = send_mail(fixture, token, body);
            CHECK(refused.status == 400);
            CHECK(error_code(refused) == "RequestBodyRead");
        }
    }
    CHECK(mail_record(fixture).at("messages").size() <= 2);
}

TEST_CASE("The send_mail fault answers the next sendMail calls as Exchange refuses or throttles them") {
    struct Case {
        const char* answer;
        int status;
        const char* code;
        const char* message;
    };
    for (const Case& expected : {
             Case{"access_policy", 403, "ErrorAccessDenied",
                  "Access to OData is disabled.: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings."},
             Case{"access_denied", 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."},
             Case{"invalid_user", 404, "ErrorInvalidUser", "The requested user 'printer@contoso.com' is invalid."},
             Case{"mailbox_not_enabled", 404, "MailboxNotEnabledForRESTAPI",
                  "The mailbox is either inactive, soft-deleted, or is hosted on-premise."},
             Case{"throttled", 429, "ApplicationThrottled", nullptr},
             Case{"server_error", 503, "ServiceUnavailable", nullptr},
         }) {
        SECTION(expected.answer) {
            SandboxFixture fixture;
            const std::string token = mail_token(fixture);
            fixture.set_faults(std::string(R"({"send_mail": {"count": 2, "answer": ")") + expected.answer + "\"}}");
            for (int call = 0; call < 2; ++call) {
                const HttpResponse refused = send_mail(fixture, token);
                CHECK(refused.status == expected.status);
                CHECK(error_code(refused) == expected.code);
                if (expected.message != nullptr) CHECK(error_message(refused) == expected.message);
                if (expected.status == 429)
                    CHECK(refused.headers.get("Retry-After") == std::optional<std::string>("1"));
            }
            CHECK(send_mail(fixture, token).status == 202);
            const value record = mail_record(fixture);
            CHECK(record.at("messages").size() == 1);
            CHECK(record.at("send_mail_calls").as_integer() == 3);
            CHECK(body_of(fixture.control("GET", "/_sandbox/faults")).at("fired").at("send_mail").as_integer() == 2);
        }
    }
    SECTION("server_error with status 500") {
        SandboxFixture fixture;
        fixture.set_faults(R"({"send_mail": {"answer": "server_error", "status": 500}})");
        CHECK(send_mail(fixture, mail_token(fixture)).status == 500);
    }
}

TEST_CASE("The mail faults are read strictly and reported with what remains") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"send_mail": {"count": 3, "answer": "throttled", "retry_after": "5"},
                           "smtp": {"count": 2, "stage": "data", "reply": "451 4.3.0 Temporary server error"},
                           "smtp_send_as_app": false, "smtp_hve": true})");
    const value active = body_of(fixture.control("GET", "/_sandbox/faults")).at("active");
    CHECK(active.at("send_mail").serialize() == R"({"count":3,"answer":"throttled","status":503,"retry_after":"5"})");
    CHECK(active.at("smtp").serialize() == R"({"count":2,"stage":"data","reply":"451 4.3.0 Temporary server error"})");
    CHECK(active.at("smtp_send_as_app").as_bool() == false);
    CHECK(active.at("smtp_hve").as_bool() == true);
    for (const std::string document :
         {R"({"send_mail": {"answer": "teapot"}})", R"({"send_mail": {"answer": "server_error", "status": 502}})",
          R"({"send_mail": {"count": 1, "cmdlet": "x"}})", R"({"smtp": {"stage": "rcpt", "reply": "550 x"}})",
          R"({"smtp": {"stage": "auth"}})", R"({"smtp": {"stage": "auth", "reply": "five hundred"}})",
          R"({"smtp_hve": "yes"})"}) {
        INFO(document);
        CHECK(fixture.control("POST", "/_sandbox/faults", document).status == 400);
    }
}

TEST_CASE("Exchange tokens carry SMTP.SendAsApp unless smtp_send_as_app is false, Graph tokens Mail.Send") {
    SandboxFixture fixture;
    const auto roles = [&](const std::string& scope) {
        const std::string token = mail_token(fixture, scope);
        const size_t dot = token.find('.');
        const auto payload = base64url_decode(token.substr(dot + 1, token.find('.', dot + 1) - dot - 1));
        REQUIRE(payload);
        return value::parse(*payload).at("roles").serialize();
    };
    CHECK(roles(kOrigin + "/.default").find(R"("Exchange.ManageAsApp","SMTP.SendAsApp")") != std::string::npos);
    CHECK(roles("https://graph.microsoft.com/.default").find("SMTP.SendAsApp") == std::string::npos);
    CHECK(roles("https://graph.microsoft.com/.default").find("Mail.Send") != std::string::npos);
    fixture.set_faults(R"({"smtp_send_as_app": false})");
    CHECK(roles(kOrigin + "/.default").find("SMTP.SendAsApp") == std::string::npos);
}

TEST_CASE("Get-Recipient finds a mailbox, a shared mailbox or a group by any of its SMTP addresses") {
    Tenant tenant = tenant_with_recipients();
    const value printer = get_recipient(tenant, "PRINTER@contoso.com");
    CHECK(
        printer.serialize() ==
        R"({"Identity":"printer","Name":"printer","DisplayName":"printer","PrimarySmtpAddress":"printer@contoso.com",)"
        R"("RecipientType":"UserMailbox","RecipientTypeDetails":"UserMailbox",)"
        R"("ExternalDirectoryObjectId":"aaaa0001-0000-4000-8000-000000000003",)"
        R"("EmailAddresses":["SMTP:printer@contoso.com"]})");
    CHECK(get_recipient(tenant, "bob@contoso.com").at("RecipientTypeDetails").as_string() == "SharedMailbox");
    const value team = get_recipient(tenant, "msg@CONTOSO.onmicrosoft.com");
    CHECK(team.at("PrimarySmtpAddress").as_string() == "messaging-team@contoso.com");
    CHECK(team.at("RecipientType").as_string() == "MailUniversalDistributionGroup");
    CHECK(team.at("RecipientTypeDetails").as_string() == "MailUniversalDistributionGroup");
    CHECK(team.at("DisplayName").as_string() == "Messaging Team");
    CHECK(team.at("ExternalDirectoryObjectId").is_null());
    const value security = get_recipient(tenant, "security@contoso.com");
    CHECK(security.at("Identity").as_string() == "Security");
    CHECK(security.at("RecipientTypeDetails").as_string() == "GroupMailbox");
    CHECK(security.at("EmailAddresses").serialize() == R"(["SMTP:security@contoso.com"])");
    CHECK(tenant.to_snapshot().at("recipients").size() == 2);

    CHECK_THROWS_AS(
        Tenant::from_snapshot(value::parse(R"({"transport_config":{"SmtpClientAuthenticationDisabled":false},
        "organization_config":{},"cas_mailboxes":[],"authentication_policies":[],"recipients":[{"Name":"x"}]})"),
                              kTenant),
        SnapshotError);
}

TEST_CASE("Get-Recipient over InvokeCommand: a mailbox, and Exchange's not-found error for an unknown address") {
    SandboxFixture fixture;
    const value found = values_of(fixture.invoke("Get-Recipient", params(R"({"Identity":"alice@contoso.com"})")));
    REQUIRE(found.size() == 1);
    CHECK(found.at(0).at("RecipientTypeDetails").as_string() == "UserMailbox");
    const HttpResponse missing = fixture.invoke("Get-Recipient", params(R"({"Identity":"nobody@contoso.com"})"));
    CHECK(missing.status == 400);
    CHECK(detail_of(missing) ==
          "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be "
          "performed because object 'nobody@contoso.com' couldn't be found on '" +
              std::string(exchange::kServerName) + "'.");
}

TEST_CASE("The example tenant's seed has the messaging team as a group recipient") {
    Tenant tenant = Tenant::from_snapshot(read_json_file(std::string(AUTHGATE_EXAMPLES) + "/contoso/live.json"),
                                          kTenant);
    const value team = get_recipient(tenant, "Messaging-Team@contoso.onmicrosoft.com");
    CHECK(team.at("PrimarySmtpAddress").as_string() == "messaging-team@contoso.com");
    CHECK(team.at("RecipientTypeDetails").as_string() == "MailUniversalDistributionGroup");
    CHECK(get_recipient(tenant, "adele.brooks@contoso.com").at("RecipientTypeDetails").as_string() == "UserMailbox");
}

}  // namespace sandbox::test
