// What a broken or hostile Exchange answers: wrong types, missing or doubled properties,
// annotation-only objects, `value` that is not an array, deep nesting, huge pages. Each is a
// ConnectorError naming the cmdlet and the object, and only Get-* cmdlets were ever sent.
#include <catch2/catch.hpp>

#include <cpprest/json.h>

#include "connectors/exchange_online.h"
#include "fake_http.h"
#include "test_certificates.h"

using namespace authgate;
using namespace authgate::testing;

namespace {

const std::string transport_page =
    R"({"value":[{"Identity":"Transport Settings","SmtpClientAuthenticationDisabled":true}]})";
const std::string organization_page = R"({"value":[{"DefaultAuthenticationPolicy":null}]})";

std::string mailbox(int i, const std::string& disabled = "null") {
    const std::string n = std::to_string(i);
    return R"({"Identity":"m)" + n + R"(","Guid@odata.type":"#Guid","Guid":"g-)" + n + R"(","PrimarySmtpAddress":"m)" +
           n + R"(@contoso.com","SmtpClientAuthenticationDisabled":)" + disabled + "}";
}

struct ScriptedTenant : FakeSignIn {
    ScriptedTransport exchange;
    ExchangeClient client{exchange,
                          tokens,
                          {"https://outlook.office365.com", "contoso.onmicrosoft.com", 1000, 3, {}},
                          [](std::chrono::milliseconds) {},
                          42};
    ExchangeOnlineConnector connector{client};

    // The answers to Get-TransportConfig, Get-OrganizationConfig, Get-CASMailbox and
    // Get-AuthenticationPolicy, in that order, then to Get-User.
    void answer(const std::vector<std::string>& bodies) {
        static const char* const cmdlets[] = {"Get-TransportConfig", "Get-OrganizationConfig", "Get-CASMailbox",
                                              "Get-AuthenticationPolicy"};
        for (std::size_t i = 0; i < bodies.size(); ++i)
            exchange.answer_for(i < std::size(cmdlets) ? cmdlets[i] : "Get-User", {200, {}, bodies[i]});
    }

    // The error the read ends with; every request it made was a read.
    std::string read_error() {
        std::string error;
        try {
            connector.read_live_state();
        } catch (const ConnectorError& e) {
            error = e.what();
        }
        for (const HttpRequest& request : exchange.requests)
            CHECK(request.headers.at("X-CmdletName").rfind("Get-", 0) == 0);
        return error;
    }
};

}  // namespace

TEST_CASE("an answer whose value is not an array fails the read", "[exchange][hostile][safety]") {
    const std::string no_value = "Get-CASMailbox failed: the answer's \"value\" is not an array (client-request-id ";
    const std::string not_object = "Get-CASMailbox failed: the answer is not a JSON object (client-request-id ";
    const std::string not_json = "Get-CASMailbox failed: the answer is not JSON (";
    const auto [name, body, expected] = GENERATE_REF(table<std::string, std::string, std::string>({
        {"value is an object", R"({"value":{"PrimarySmtpAddress":"a@contoso.com"}})", no_value},
        {"value is a string", R"({"value":"[]"})", no_value},
        {"the answer is an array", R"([{"PrimarySmtpAddress":"a@contoso.com"}])", not_object},
        {"warnings that are not an array", R"({"value":[],"@adminapi.warnings":"more"})",
         "Get-CASMailbox failed: the answer's @adminapi.warnings is not an array"},
        {"the answer is not JSON", "<html>Service Unavailable</html>", not_json},
        {"the answer is empty", "", not_json},
        {"the answer is nested 100,000 deep", std::string(100000, '[') + std::string(100000, ']'), not_json},
        {"value is nested 200 deep", R"({"value":)" + std::string(200, '[') + std::string(200, ']') + "}",
         "Get-CASMailbox: value[0] must be an object, not an array"},
    }));
    INFO(name);
    ScriptedTenant tenant;
    tenant.answer({transport_page, organization_page, body});
    CHECK_THAT(tenant.read_error(), Catch::StartsWith(expected));
}

TEST_CASE("an object of the wrong shape fails the read, naming it", "[exchange][hostile][safety]") {
    const auto [name, page, message] = GENERATE(table<std::string, std::string, std::string>({
        {"not an object", R"({"value":[1]})", "Get-CASMailbox: value[0] must be an object, not a number"},
        {"an array for an object", R"({"value":[[]]})", "Get-CASMailbox: value[0] must be an object, not an array"},
        {"annotations only", R"({"value":[{"Guid@odata.type":"#Guid","@odata.id":"x"}]})",
         "Get-CASMailbox: value[0].PrimarySmtpAddress is missing"},
        {"the override as a string",
         R"({"value":[{"Guid":"g","PrimarySmtpAddress":"a@contoso.com","SmtpClientAuthenticationDisabled":"false"}]})",
         "Get-CASMailbox: value[0] (a@contoso.com): SmtpClientAuthenticationDisabled must be true, false or null, not "
         "a string"},
        {"the override left out", R"({"value":[{"Guid":"g","PrimarySmtpAddress":"a@contoso.com"}]})",
         "Get-CASMailbox: value[0] (a@contoso.com): SmtpClientAuthenticationDisabled is missing; a snapshot must say "
         "true, "
         "false or null"},
        {"the address as a number",
         R"({"value":[{"Guid":"g","PrimarySmtpAddress":7,"SmtpClientAuthenticationDisabled":null}]})",
         "Get-CASMailbox: value[0] (g): PrimarySmtpAddress must be a string, not a number"},
        {"no Guid and no directory id",
         R"({"value":[{"PrimarySmtpAddress":"a@contoso.com","SmtpClientAuthenticationDisabled":null}]})",
         "Get-CASMailbox: value[0] (a@contoso.com): has neither Guid nor ExternalDirectoryObjectId; one of them is "
         "needed to "
         "address the mailbox without ambiguity"},
        {"a property twice",
         R"({"value":[{"Guid":"g","PrimarySmtpAddress":"a@contoso.com","SmtpClientAuthenticationDisabled":true,"SmtpClientAuthenticationDisabled":null}]})",
         "Get-CASMailbox: value[0] (a@contoso.com): SmtpClientAuthenticationDisabled appears more than once"},
        {"a Guid as an object",
         R"({"value":[{"Guid":{"x":1},"PrimarySmtpAddress":"a@contoso.com","SmtpClientAuthenticationDisabled":null}]})",
         "Get-CASMailbox: value[0] (a@contoso.com): Guid must be a string, not an object"},
    }));
    INFO(name);
    ScriptedTenant tenant;
    tenant.answer({transport_page, organization_page, page});
    CHECK(tenant.read_error() == message);
}

TEST_CASE("the org-wide cmdlets must return exactly one well-formed object", "[exchange][hostile][safety]") {
    ScriptedTenant tenant;
    SECTION("two transport configs") {
        tenant.answer(
            {R"({"value":[{"SmtpClientAuthenticationDisabled":true},{"SmtpClientAuthenticationDisabled":false}]})"});
        CHECK(tenant.read_error() == "Get-TransportConfig returned 2 objects where one was expected");
    }
    SECTION("none") {
        tenant.answer({R"({"value":[]})"});
        CHECK(tenant.read_error() == "Get-TransportConfig returned 0 objects where one was expected");
    }
    SECTION("the switch as a number") {
        tenant.answer({R"({"value":[{"SmtpClientAuthenticationDisabled":1}]})"});
        CHECK(tenant.read_error() ==
              "Get-TransportConfig: value[0].SmtpClientAuthenticationDisabled must be a boolean, not a number");
    }
    SECTION("the default policy as a boolean") {
        tenant.answer({transport_page, R"({"value":[{"DefaultAuthenticationPolicy":false}]})"});
        CHECK(tenant.read_error() == "Get-OrganizationConfig: value[0].DefaultAuthenticationPolicy must be a policy "
                                     "name or null, not a boolean");
    }
    SECTION("a policy without a DistinguishedName cannot have its users listed") {
        tenant.answer(
            {transport_page, organization_page, R"({"value":[]})", R"({"value":[{"Name":"Allow Basic SMTP"}]})"});
        CHECK(tenant.read_error() == "Get-AuthenticationPolicy: policy 'Allow Basic SMTP' has no DistinguishedName, so "
                                     "its users cannot be listed");
    }
    SECTION("a policy flag as a string") {
        tenant.answer({transport_page, organization_page, R"({"value":[]})",
                       R"({"value":[{"Name":"P","DistinguishedName":"CN=P","AllowBasicAuthSmtp":"true"}]})"});
        CHECK(tenant.read_error() ==
              "Get-AuthenticationPolicy: value[0] (P): AllowBasicAuthSmtp must be a boolean, not a string");
    }
}

TEST_CASE("a page of 100,000 mailboxes is read whole, and one bad object in it fails the read", "[exchange][hostile]") {
    std::string page = R"({"value":[)";
    for (int i = 0; i < 100000; ++i) page += (i ? "," : "") + mailbox(i, i == 99999 ? "\"no\"" : "null");
    page += "]}";
    ScriptedTenant tenant;
    SECTION("whole") {
        const std::string good = std::string(page).replace(page.rfind("\"no\""), 4, "true");
        tenant.answer({transport_page, organization_page, good, R"({"value":[]})"});
        const LiveState live = tenant.connector.read_live_state();
        REQUIRE(live.mailboxes->size() == 100000);
        CHECK(live.mailboxes->back().primary_smtp_address == "m99999@contoso.com");
        CHECK(live.mailboxes->back().smtp_auth_disabled == true);
    }
    SECTION("the last object is bad") {
        tenant.answer({transport_page, organization_page, page});
        CHECK(tenant.read_error() ==
              "Get-CASMailbox: value[99999] (m99999@contoso.com): SmtpClientAuthenticationDisabled "
              "must be true, false or null, not a string");
    }
}

TEST_CASE("a policy's users are filtered with its name quoted for OPATH", "[exchange][hostile][quoting]") {
    ScriptedTenant tenant;
    const std::string dn = "CN=O'Brien' -or Name -like '*,CN=Auth Policies,CN=Configuration";
    web::json::value policy = web::json::value::object();
    policy["Name"] = web::json::value::string("O'Brien");
    policy["DistinguishedName"] = web::json::value::string(dn);
    web::json::value page = web::json::value::object();
    page["value"] = web::json::value::array({policy});
    tenant.answer({transport_page, organization_page, R"({"value":[]})", page.serialize(), R"({"value":[]})"});
    tenant.connector.read_live_state();
    REQUIRE(tenant.exchange.requests.size() == 5);
    const auto body = web::json::value::parse(tenant.exchange.requests[4].body);
    CHECK(body.at("CmdletInput").at("CmdletName").as_string() == "Get-User");
    CHECK(body.at("CmdletInput").at("Parameters").at("Filter").as_string() ==
          "AuthenticationPolicy -eq 'CN=O''Brien'' -or Name -like ''*,CN=Auth Policies,CN=Configuration'");
}
