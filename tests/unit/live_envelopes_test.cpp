// Exchange's answers as live tenants send them (tests/sandbox/README.md, "Real-service
// behaviours"): the success envelope with its warnings array and type annotations on every typed
// value, an empty list in each of its three forms, a Set-* that changed nothing, a truncated
// answer, and the error envelopes whose useful text hides in details or innererror.
#include <catch2/catch.hpp>

#include "connectors/exchange_online.h"
#include "fake_http.h"
#include "test_certificates.h"

using namespace authgate;
using namespace authgate::testing;

namespace {

// A live Get-CASMailbox page: metadata, the typed warnings array, and @odata.type / @data.type
// siblings on typed values.
const std::string live_mailbox_page = R"j({
 "@odata.context":"https://outlook.office365.com/adminapi/beta/4f7d2a1c-93b8-4e61-a0d5-2c8e6b9f1a37/$metadata#Collection(Exchange.GenericHashTable)",
 "adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[],
 "value":[{"Identity":"338ed0fc-79e6-50ce-af76-2f9b5a44edef","Name":"legacy-erp",
   "Guid@odata.type":"#Guid","Guid":"9feb45ad-0000-4000-8000-000000000001",
   "ExternalDirectoryObjectId":"338ed0fc-79e6-50ce-af76-2f9b5a44edef",
   "PrimarySmtpAddress":"legacy-erp@contoso.com","SmtpClientAuthenticationDisabled":false,
   "SmtpClientAuthenticationDisabled@data.type":"System.Nullable`1[[System.Boolean]]",
   "EmailAddresses@odata.type":"#Collection(String)","EmailAddresses":["SMTP:legacy-erp@contoso.com"]}]})j";

struct LiveTenant : FakeSignIn {
    ScriptedTransport exchange;
    ExchangeClient client{exchange,
                          tokens,
                          {"https://outlook.office365.com", "contoso.onmicrosoft.com", 1000, 3, {}},
                          [](std::chrono::milliseconds) {},
                          42};
    ExchangeOnlineConnector connector{client};
};

HttpResponse ok(const std::string& body) { return {200, {}, body}; }

}  // namespace

TEST_CASE("a live tenant's answers read whole: annotations, warnings, and empty lists in every form",
          "[exchange][live]") {
    const std::string empty = GENERATE(as<std::string>{}, "\"value\":[]", "\"value\":null", "\"x\":0");
    INFO(empty);
    LiveTenant tenant;
    tenant.exchange.answer_for(
        "Get-TransportConfig",
        ok(R"j({"@adminapi.warnings":[],"value":[{"Identity":"Transport Settings","SmtpClientAuthenticationDisabled":true}]})j"));
    tenant.exchange.answer_for(
        "Get-OrganizationConfig",
        ok(R"j({"value":[{"Identity":"contoso.onmicrosoft.com","DefaultAuthenticationPolicy":null}]})j"));
    tenant.exchange.answer_for("Get-CASMailbox", ok(live_mailbox_page));
    // No authentication policy at all: an empty list, as this tenant writes one.
    tenant.exchange.answer_for("Get-AuthenticationPolicy",
                               ok("{\"@odata.context\":\"x\",\"adminapi.warnings@odata.type\":\"#Collection(String)\","
                                  "\"@adminapi.warnings\":[]," +
                                  empty + "}"));
    const LiveState live = tenant.connector.read_live_state();
    REQUIRE(live.mailboxes->size() == 1);
    CHECK(live.mailboxes->at(0).primary_smtp_address == "legacy-erp@contoso.com");
    CHECK(live.mailboxes->at(0).smtp_auth_disabled == false);
    CHECK(live.policies->empty());
    CHECK(live.users->empty());
}

TEST_CASE("a Set-* that changed nothing answers an empty list and a warning: it succeeded", "[exchange][live]") {
    LiveTenant tenant;
    tenant.exchange.answer(ok(
        R"j({"adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":["The command completed successfully but no settings of 'Transport Settings' have been modified."]})j"));
    const CmdletResult result = tenant.client.write({"Set-TransportConfig", {}});
    CHECK(result.objects.empty());
    CHECK(result.warnings ==
          std::vector<std::string>{
              "The command completed successfully but no settings of 'Transport Settings' have been modified."});
}

TEST_CASE("the useful text of live error envelopes", "[exchange][live]") {
    const auto [what, body, expected] = GENERATE(table<std::string, std::string, std::string>({
        {"generic message, detail with an empty ErrorId",
         R"j({"error":{"code":"BadRequest","message":"Invalid Operation","details":[{"code":"Client","target":"","message":"|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found."}]}})j",
         "The operation couldn't be performed because object 'x' couldn't be found. "
         "(ManagementObjectNotFoundException)"},
        {"detail as a JSON string",
         R"j({"error":{"code":"BadRequest","message":"Error executing cmdlet","details":[{"code":"Client","target":"","message":"{\"Message\":\"Cannot process argument transformation on parameter 'ResultSize'.\",\"TypeName\":\"System.Management.Automation.ParameterBindingArgumentTransformationException\"}"}]}})j",
         "Cannot process argument transformation on parameter 'ResultSize'."},
        {"innererror only",
         R"j({"error":{"code":"BadRequest","message":"Error executing cmdlet","innererror":{"message":"outer","type":"T","internalexception":{"message":"Cannot convert value \"Maybe\" to type \"Boolean\". The valid values are \"True\", \"False\".","type":"System.InvalidCastException"}}}})j",
         "Cannot convert value \"Maybe\" to type \"Boolean\". The valid values are \"True\", \"False\"."},
        {"a 403 of NUL bytes with the reason in x-ms-diagnostics", std::string(4096, '\0'),
         "no error text in the answer"},
    }));
    INFO(what);
    CHECK(exchange_error_text({400, {}, body}) == expected);
}
