// InvokeCommand as a client meets it: the headers Exchange requires, the envelope it answers
// with, and $select.
#include <catch2/catch.hpp>

#include "sandbox_fixture.h"

namespace sandbox::test {
namespace {
using web::json::value;
}

TEST_CASE("Get-TransportConfig answers in Exchange's envelope") {
    SandboxFixture fixture;
    const HttpResponse response = fixture.invoke("Get-TransportConfig", value::object());
    REQUIRE(response.status == 200);
    CHECK(
        response.body ==
        R"j({"@odata.context":"https://127.0.0.1:8443/adminapi/beta/contoso.onmicrosoft.com/$metadata#Collection(Exchange.GenericHashTable)",)j"
        R"j("adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[],)j"
        R"j("value":[{"Identity":"Transport Settings","SmtpClientAuthenticationDisabled":false}]})j");
    CHECK_THAT(response.headers.get("Content-Type").value_or(""),
               Catch::StartsWith("application/json;odata.metadata=minimal"));
}

TEST_CASE("objects carry Exchange's Guid annotation and keep the seed's property order") {
    SandboxFixture fixture;
    const value mailbox =
        values_of(fixture.invoke("Get-CASMailbox", params(R"({"Identity":"scanner-3f@contoso.com"})"))).at(0);
    CHECK(
        mailbox.serialize() ==
        R"({"Identity":"scanner3f","Name":"scanner3f","Guid@odata.type":"#Guid","Guid":"9feb45ad-0000-4000-8000-000000000001",)"
        R"("ExternalDirectoryObjectId":"aaaa0001-0000-4000-8000-000000000001","PrimarySmtpAddress":"scanner-3f@contoso.com",)"
        R"("PopEnabled":false,"SmtpClientAuthenticationDisabled":null})");
}

TEST_CASE("$select keeps the named properties and Identity") {
    SandboxFixture fixture;
    const value mailboxes = values_of(
        fixture.invoke("Get-CASMailbox", params(R"({"ResultSize":"Unlimited"})"), {},
                       {{"$select", "Guid,primarysmtpaddress,SmtpClientAuthenticationDisabled,NoSuchProperty"}}));
    REQUIRE(mailboxes.size() == 5);
    CHECK(mailboxes.at(1).serialize() ==
          R"({"Identity":"ceo","Guid@odata.type":"#Guid","Guid":"9feb45ad-0000-4000-8000-000000000002",)"
          R"("PrimarySmtpAddress":"ceo@contoso.com","SmtpClientAuthenticationDisabled":true})");
}

TEST_CASE("every answer carries request-id, the echoed client-request-id and Rate-Limit headers") {
    SandboxFixture fixture;
    const HttpResponse response = fixture.invoke("Get-OrganizationConfig", value::object(),
                                                 {{"client-request-id", "7e57c0de-0000-4000-8000-000000000001"}});
    CHECK(response.headers.get("client-request-id") == "7e57c0de-0000-4000-8000-000000000001");
    CHECK(response.headers.get("request-id").value_or("").size() == 36);
    CHECK(response.headers.get("Rate-Limit-Limit") == "30000");
    CHECK(response.headers.get("Rate-Limit-Remaining").has_value());
    CHECK_THAT(response.headers.get("Rate-Limit-Reset").value_or(""), Catch::EndsWith("Z"));
}

TEST_CASE("the request headers Exchange requires are checked") {
    struct Case {
        const char* behaviour;
        std::map<std::string, std::string> headers;
        int status;
        const char* message_part;
    };
    const std::vector<Case> cases = {
        {"no X-AnchorMailbox", {{"X-AnchorMailbox", ""}}, 400, "The X-AnchorMailbox header"},
        {"an anchor of another tenant",
         {{"X-AnchorMailbox", "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@fabrikam.onmicrosoft.com"}},
         400,
         "is not valid for this tenant"},
        {"X-CmdletName naming another cmdlet",
         {{"X-CmdletName", "Get-CASMailbox"}},
         400,
         "must name the cmdlet of the body"},
        {"a form body",
         {{"Content-Type", "application/x-www-form-urlencoded"}},
         415,
         "Content-Type must be application/json"},
        {"clixml asked for", {{"X-ResponseFormat", "clixml"}}, 400, "X-ResponseFormat 'clixml'"},
        {"a page size of zero", {{"Prefer", "odata.maxpagesize=0"}}, 400, "odata.maxpagesize=0"},
    };
    for (const auto& c : cases) {
        SECTION(c.behaviour) {
            SandboxFixture fixture;
            const HttpResponse response = fixture.invoke("Get-TransportConfig", value::object(), c.headers);
            CHECK(response.status == c.status);
            CHECK_THAT(body_of(response).at("error").at("message").as_string(), Catch::Contains(c.message_part));
        }
    }
}

TEST_CASE("ScubaGear's UPN anchor and the tenant GUID in the path are accepted") {
    SandboxFixture fixture;
    CHECK(fixture
              .invoke("Get-TransportConfig", value::object(),
                      {{"X-AnchorMailbox",
                        "UPN:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com"}})
              .status == 200);
    const HttpResponse by_guid = fixture.post("/adminapi/beta/72f988bf-0000-4000-8000-0000000000aa/InvokeCommand",
                                              R"({"CmdletInput":{"CmdletName":"Get-TransportConfig"}})",
                                              {{"X-CmdletName", "Get-TransportConfig"}});
    CHECK(by_guid.status == 200);
}

TEST_CASE("a body that is not an InvokeCommand body is refused with 400") {
    SandboxFixture fixture;
    for (const std::string body :
         {"not json", R"({"CmdletName":"Get-TransportConfig"})", R"({"CmdletInput":{"Parameters":{}}})",
          R"({"CmdletInput":{"CmdletName":"Get-TransportConfig","Parameters":[1]}})"}) {
        const HttpResponse response = fixture.post(std::string("/adminapi/beta/") + kTenant + "/InvokeCommand", body,
                                                   {{"X-CmdletName", "Get-TransportConfig"}});
        CHECK(response.status == 400);
        CHECK_THAT(body_of(response).at("error").at("message").as_string(),
                   Catch::StartsWith("The request body is not a valid InvokeCommand body"));
    }
}

TEST_CASE("an unknown cmdlet and an unknown tenant are refused") {
    SandboxFixture fixture;
    const HttpResponse unknown = fixture.invoke("Get-Mailbox", value::object());
    CHECK(unknown.status == 400);
    CHECK_THAT(detail_of(unknown),
               Catch::Contains("CommandNotFoundException|The term 'Get-Mailbox' is not recognized"));
    const HttpResponse other_tenant = fixture.post("/adminapi/beta/fabrikam.onmicrosoft.com/InvokeCommand",
                                                   R"({"CmdletInput":{"CmdletName":"Get-TransportConfig"}})",
                                                   {{"X-CmdletName", "Get-TransportConfig"}});
    CHECK(other_tenant.status == 404);
}

TEST_CASE("GET on InvokeCommand is 405") {
    SandboxFixture fixture;
    HttpRequest request;
    request.method = "GET";
    request.path = std::string("/adminapi/beta/") + kTenant + "/InvokeCommand";
    const HttpResponse response = fixture.sandbox().handle(request);
    CHECK(response.status == 405);
    CHECK(response.headers.get("Allow") == "POST");
}

}  // namespace sandbox::test
