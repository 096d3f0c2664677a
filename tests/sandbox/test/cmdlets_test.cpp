// The cmdlets against the seeded tenant: identities, writes and no-op writes, Exchange's errors,
// policies, the organisation default, and users with the policy filter.
#include <catch2/catch.hpp>

#include "sandbox_fixture.h"

namespace sandbox::test {
namespace {

using web::json::value;

value mailbox(SandboxFixture& fixture, const std::string& identity) {
    return values_of(fixture.invoke("Get-CASMailbox", params(R"({"Identity":")" + identity + R"("})"))).at(0);
}

std::string policy_dn(const std::string& name) {
    return "CN=" + name +
           ",CN=Auth "
           "Policies,CN=Configuration,CN=contoso.onmicrosoft.com,CN=ConfigurationUnits,DC=EURPR01A001,DC=prod,DC="
           "outlook,"
           "DC=com";
}

}  // namespace

TEST_CASE("Set-CASMailbox changes the override, and the same call again is a no-op with Exchange's warning") {
    SandboxFixture fixture;
    const value set =
        params(R"({"Identity":"9feb45ad-0000-4000-8000-000000000001","SmtpClientAuthenticationDisabled":false})");
    const HttpResponse changed = fixture.invoke("Set-CASMailbox", set,
                                                {{"client-request-id", "c0ffee00-0000-4000-8000-000000000001"}});
    CHECK(values_of(changed).size() == 0);
    CHECK(body_of(changed).at("@adminapi.warnings").size() == 0);
    CHECK(mailbox(fixture, "scanner3f").at("SmtpClientAuthenticationDisabled").as_bool() == false);

    const HttpResponse unchanged = fixture.invoke("Set-CASMailbox", set);
    CHECK(values_of(unchanged).size() == 0);
    CHECK(body_of(unchanged).at("@adminapi.warnings").serialize() ==
          R"(["The command completed successfully but no settings of 'scanner3f' have been modified."])");

    const value mutations = fixture.state().at("mutations");
    REQUIRE(mutations.size() == 2);
    CHECK(mutations.at(0).serialize() ==
          R"({"seq":1,"cmdlet":"Set-CASMailbox","parameters":{"Identity":"9feb45ad-0000-4000-8000-000000000001",)"
          R"("SmtpClientAuthenticationDisabled":false},"client_request_id":"c0ffee00-0000-4000-8000-000000000001",)"
          R"("result":"changed","via":"InvokeCommand"})");
    CHECK(mutations.at(1).at("result").as_string() == "unchanged");
}

TEST_CASE("Set-CASMailbox finds the mailbox by any of its identities") {
    for (const std::string identity : {"9FEB45AD-0000-4000-8000-000000000003", "aaaa0001-0000-4000-8000-000000000003",
                                       "printer", "Printer@Contoso.com"}) {
        SECTION(identity) {
            SandboxFixture fixture;
            const HttpResponse response =
                fixture.invoke("Set-CASMailbox",
                               params(R"({"Identity":")" + identity + R"(","SmtpClientAuthenticationDisabled":null})"));
            CHECK(body_of(response).at("@adminapi.warnings").size() == 0);
            CHECK(mailbox(fixture, "printer").at("SmtpClientAuthenticationDisabled").is_null());
        }
    }
}

TEST_CASE("a mailbox that does not exist is ManagementObjectNotFoundException") {
    SandboxFixture fixture;
    const HttpResponse response = fixture.invoke(
        "Set-CASMailbox", params(R"({"Identity":"ghost@contoso.com","SmtpClientAuthenticationDisabled":true})"));
    CHECK(response.status == 400);
    CHECK(body_of(response).at("error").at("message").as_string() == "Error executing cmdlet");
    CHECK(detail_of(response) ==
          "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be "
          "performed because object 'ghost@contoso.com' couldn't be found on "
          "'AM6PR01A001DC01.EURPR01A001.prod.outlook.com'.");
    CHECK(fixture.state().at("mutations").at(0).at("result").as_string() == "error");
}

TEST_CASE("parameters are bound with PowerShell's rules") {
    struct Case {
        const char* behaviour;
        const char* cmdlet;
        const char* parameters;
        const char* detail_part;
    };
    const std::vector<Case> cases = {
        {"a string for a bool", "Set-CASMailbox", R"({"Identity":"ceo","SmtpClientAuthenticationDisabled":"true"})",
         "ParameterBindingArgumentTransformationException|Cannot process argument transformation on parameter "
         "'SmtpClientAuthenticationDisabled'. Cannot convert value \"System.String\" to type \"System.Boolean\"."},
        {"null for a bool that cannot be null", "Set-TransportConfig", R"({"SmtpClientAuthenticationDisabled":null})",
         "Cannot process argument transformation on parameter 'SmtpClientAuthenticationDisabled'."},
        {"an unknown parameter", "Set-CASMailbox", R"({"Identity":"ceo","SmtpAuthDisabled":true})",
         "ParameterBindingException|A parameter cannot be found that matches parameter name 'SmtpAuthDisabled'."},
        {"a missing mandatory parameter", "Set-CASMailbox", R"({"SmtpClientAuthenticationDisabled":true})",
         "missing mandatory parameters: Identity."},
        {"a ResultSize that is neither Unlimited nor a number", "Get-CASMailbox", R"({"ResultSize":"all"})",
         "Cannot convert value \"all\" to type \"Microsoft.Exchange.Data.Unlimited`1[System.UInt32]\""},
        {"a date that is not a date", "Set-User", R"({"Identity":"alice","STSRefreshTokensValidFrom":"yesterday"})",
         "to type \"System.DateTime\""},
    };
    for (const auto& c : cases) {
        SECTION(c.behaviour) {
            SandboxFixture fixture;
            const HttpResponse response = fixture.invoke(c.cmdlet, params(c.parameters));
            CHECK(response.status == 400);
            CHECK_THAT(detail_of(response), Catch::Contains(c.detail_part));
        }
    }
}

TEST_CASE("parameter names match without regard to case and common parameters are accepted") {
    SandboxFixture fixture;
    CHECK(fixture
              .invoke("set-casmailbox",
                      params(R"({"identity":"ceo","smtpclientauthenticationdisabled":false,"Confirm":false})"),
                      {{"X-CmdletName", "Set-CASMailbox"}})
              .status == 200);
    CHECK(mailbox(fixture, "ceo").at("SmtpClientAuthenticationDisabled").as_bool() == false);
}

TEST_CASE("Set-TransportConfig changes the organisation switch") {
    SandboxFixture fixture;
    CHECK(values_of(fixture.invoke("Set-TransportConfig", params(R"({"SmtpClientAuthenticationDisabled":true})")))
              .size() == 0);
    CHECK(values_of(fixture.invoke("Get-TransportConfig", value::object()))
              .at(0)
              .at("SmtpClientAuthenticationDisabled")
              .as_bool());
    CHECK(fixture.state().at("transport_config").at("SmtpClientAuthenticationDisabled").as_bool());
}

TEST_CASE("New-AuthenticationPolicy creates a policy with every flag false unless given") {
    SandboxFixture fixture;
    const value created = values_of(fixture.invoke("New-AuthenticationPolicy",
                                                   params(R"({"Name":"Allow Basic IMAP","AllowBasicAuthImap":true})")))
                              .at(0);
    CHECK(created.at("Name").as_string() == "Allow Basic IMAP");
    CHECK(created.at("Identity").as_string() == "Allow Basic IMAP");
    CHECK(created.at("DistinguishedName").as_string() == policy_dn("Allow Basic IMAP"));
    CHECK(created.at("Guid@odata.type").as_string() == "#Guid");
    int allowed = 0;
    int flags = 0;
    for (const auto& [name, flag] : created.as_object()) {
        if (!name.starts_with("AllowBasicAuth")) continue;
        ++flags;
        allowed += flag.as_bool() ? 1 : 0;
    }
    CHECK(flags == 12);
    CHECK(allowed == 1);
    CHECK(values_of(fixture.invoke("Get-AuthenticationPolicy", params(R"({"Identity":"allow basic imap"})"))).size() ==
          1);
}

TEST_CASE("New-AuthenticationPolicy refuses a duplicate name and a name over 64 characters") {
    SandboxFixture fixture;
    const HttpResponse duplicate = fixture.invoke("New-AuthenticationPolicy", params(R"({"Name":"allow basic smtp"})"));
    CHECK(duplicate.status == 400);
    CHECK_THAT(detail_of(duplicate), Catch::Contains("ADObjectAlreadyExistsException"));
    const HttpResponse too_long = fixture.invoke("New-AuthenticationPolicy",
                                                 params(R"({"Name":")" + std::string(65, 'x') + R"("})"));
    CHECK(too_long.status == 400);
    CHECK_THAT(detail_of(too_long), Catch::Contains("The character length of the 65 argument is too long"));
    CHECK(fixture.invoke("New-AuthenticationPolicy", params(R"({"Name":")" + std::string(64, 'x') + R"("})")).status ==
          200);
}

TEST_CASE("Set-AuthenticationPolicy finds the policy by name or Guid and warns when nothing changes") {
    SandboxFixture fixture;
    CHECK(body_of(fixture.invoke(
                      "Set-AuthenticationPolicy",
                      params(R"({"Identity":"bbbb0001-0000-4000-8000-000000000001","AllowBasicAuthSmtp":true})")))
              .at("@adminapi.warnings")
              .size() == 0);
    CHECK(body_of(fixture.invoke("Set-AuthenticationPolicy",
                                 params(R"({"Identity":"Block Basic Auth","AllowBasicAuthSmtp":true})")))
              .at("@adminapi.warnings")
              .at(0)
              .as_string() ==
          "The command completed successfully but no settings of 'Block Basic Auth' have been modified.");
}

TEST_CASE("Set-OrganizationConfig takes an existing policy, stored and returned as its name, or null") {
    SandboxFixture fixture;
    CHECK(
        fixture
            .invoke(
                "Set-OrganizationConfig",
                params(
                    R"({"DefaultAuthenticationPolicy":"CN=Allow Basic SMTP,CN=Auth Policies,CN=Configuration,CN=contoso.onmicrosoft.com,CN=ConfigurationUnits,DC=EURPR01A001,DC=prod,DC=outlook,DC=com"})"))
            .status == 200);
    CHECK(values_of(fixture.invoke("Get-OrganizationConfig", value::object()))
              .at(0)
              .at("DefaultAuthenticationPolicy")
              .as_string() == "Allow Basic SMTP");
    const HttpResponse missing = fixture.invoke("Set-OrganizationConfig",
                                                params(R"({"DefaultAuthenticationPolicy":"No Such Policy"})"));
    CHECK(missing.status == 400);
    CHECK_THAT(detail_of(missing), Catch::Contains("object 'No Such Policy' couldn't be found"));
    CHECK(fixture.invoke("Set-OrganizationConfig", params(R"({"DefaultAuthenticationPolicy":null})")).status == 200);
    CHECK(values_of(fixture.invoke("Get-OrganizationConfig", value::object()))
              .at(0)
              .at("DefaultAuthenticationPolicy")
              .is_null());
}

TEST_CASE("users not listed in the seed exist for every mailbox, without a policy") {
    SandboxFixture fixture;
    const value users = values_of(fixture.invoke("Get-User", params(R"({"ResultSize":"Unlimited"})")));
    CHECK(identities(users) == std::vector<std::string>{"alice", "legacy-erp", "scanner3f", "ceo", "printer", "bob"});
    const value bob = values_of(fixture.invoke("Get-User", params(R"({"Identity":"bob@contoso.com"})"))).at(0);
    CHECK(
        bob.serialize() ==
        R"({"Identity":"bob","ExternalDirectoryObjectId":"aaaa0001-0000-4000-8000-000000000005","UserPrincipalName":"bob@contoso.com",)"
        R"("RecipientTypeDetails":"UserMailbox","AuthenticationPolicy":null})");
}

TEST_CASE("Get-User -Filter lists the users of a policy named by its DN") {
    SandboxFixture fixture;
    const auto filtered = [&](const std::string& filter) {
        value parameters = value::object(true);
        parameters["Filter"] = value::string(filter);
        return fixture.invoke("Get-User", parameters);
    };
    CHECK(identities(values_of(filtered("AuthenticationPolicy -eq '" + policy_dn("Allow Basic SMTP") + "'"))) ==
          std::vector<std::string>{"alice", "legacy-erp"});
    // A DN no policy has (with OPATH's doubled quote) matches nobody.
    CHECK(values_of(filtered("AuthenticationPolicy -eq 'CN=Nobody''s Policy,CN=Auth Policies,CN=Configuration'"))
              .size() == 0);
    const HttpResponse by_name = filtered("AuthenticationPolicy -eq 'Allow Basic SMTP'");
    CHECK(by_name.status == 400);
    CHECK_THAT(detail_of(by_name), Catch::Contains("compared by distinguished name"));
    const HttpResponse other_form = filtered("Name -like 'a*'");
    CHECK(other_form.status == 400);
    CHECK_THAT(detail_of(other_form), Catch::Contains("Cannot bind parameter 'Filter'"));
}

TEST_CASE("Set-User assigns or clears a policy and records STSRefreshTokensValidFrom") {
    SandboxFixture fixture;
    CHECK(fixture
              .invoke("Set-User",
                      params(R"({"Identity":"scanner-3f@contoso.com","AuthenticationPolicy":"allow basic smtp"})"))
              .status == 200);
    CHECK(values_of(fixture.invoke("Get-User", params(R"({"Identity":"scanner3f"})")))
              .at(0)
              .at("AuthenticationPolicy")
              .as_string() == "Allow Basic SMTP");
    CHECK(fixture.invoke("Set-User", params(R"({"Identity":"alice","AuthenticationPolicy":null})")).status == 200);
    CHECK(
        fixture.invoke("Set-User", params(R"({"Identity":"alice","STSRefreshTokensValidFrom":"2026-11-22T10:00:00Z"})"))
            .status == 200);
    const value alice = values_of(fixture.invoke("Get-User", params(R"({"Identity":"alice"})"))).at(0);
    CHECK(alice.at("AuthenticationPolicy").is_null());
    CHECK(alice.at("STSRefreshTokensValidFrom").as_string() == "2026-11-22T10:00:00.0000000Z");
    const HttpResponse unknown_policy = fixture.invoke("Set-User",
                                                       params(R"({"Identity":"alice","AuthenticationPolicy":"Nope"})"));
    CHECK(unknown_policy.status == 400);
}

}  // namespace sandbox::test
