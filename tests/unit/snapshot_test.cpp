#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/render.h"
#include "connectors/snapshot.h"

using authgate::ConnectorError;
using authgate::LiveState;
using authgate::parse_snapshot;

namespace {

LiveState load(const std::string& text) { return parse_snapshot(text, "live.json"); }

// The message of the ConnectorError that loading throws, so a test can compare it whole.
std::string error_of(const std::string& text) {
    try {
        load(text);
    } catch (const ConnectorError& error) {
        return error.what();
    }
    return "(no error)";
}

std::size_t flag_index(std::string_view exchange_name) {
    for (std::size_t i = 0; i < authgate::basic_auth_flag_count; ++i) {
        if (authgate::basic_auth_flags[i].exchange_name == exchange_name) return i;
    }
    FAIL("no flag " << exchange_name);
    return 0;
}

}  // namespace

TEST_CASE("a full snapshot loads every part under Exchange's property names", "[snapshot]") {
    const LiveState state = load(R"({
      "transport_config": {"SmtpClientAuthenticationDisabled": false},
      "cas_mailboxes": [
        {"Identity": "scanner3f", "Guid": "6f1d2c3b-0000-0000-0000-000000000001",
         "ExternalDirectoryObjectId": "0b7c2f44-0000-0000-0000-000000000002",
         "PrimarySmtpAddress": "scanner-3f@contoso.com", "SmtpClientAuthenticationDisabled": null},
        {"Identity": "adele", "Guid": "9a8b7c6d-0000-0000-0000-000000000003",
         "ExternalDirectoryObjectId": "c1d2e3f4-0000-0000-0000-000000000004",
         "PrimarySmtpAddress": "adele@contoso.com", "SmtpClientAuthenticationDisabled": true}
      ],
      "authentication_policies": [
        {"Name": "Block Basic Auth", "Identity": "Block Basic Auth",
         "Guid": "3c4d5e6f-0000-0000-0000-000000000005",
         "DistinguishedName": "CN=Block Basic Auth,CN=Auth Policies,DC=contoso",
         "AllowBasicAuthSmtp": false}
      ],
      "organization_config": {"DefaultAuthenticationPolicy": null},
      "users": [
        {"Identity": "scanner3f", "ExternalDirectoryObjectId": "0b7c2f44-0000-0000-0000-000000000002",
         "UserPrincipalName": "scanner-3f@contoso.com", "AuthenticationPolicy": null}
      ]
    })");

    REQUIRE(state.org_smtp_auth_disabled == false);

    REQUIRE(state.mailboxes.has_value());
    REQUIRE(state.mailboxes->size() == 2);
    const authgate::Mailbox& scanner = state.mailboxes->at(0);
    CHECK(scanner.identity == "scanner3f");
    CHECK(scanner.guid == "6f1d2c3b-0000-0000-0000-000000000001");
    CHECK(scanner.external_directory_object_id == "0b7c2f44-0000-0000-0000-000000000002");
    CHECK(scanner.primary_smtp_address == "scanner-3f@contoso.com");
    CHECK(scanner.smtp_auth_disabled == std::nullopt);
    CHECK(state.mailboxes->at(1).primary_smtp_address == "adele@contoso.com");
    CHECK(state.mailboxes->at(1).smtp_auth_disabled == true);

    REQUIRE(state.policies.has_value());
    REQUIRE(state.policies->size() == 1);
    const authgate::LivePolicy& policy = state.policies->at(0);
    CHECK(policy.name == "Block Basic Auth");
    CHECK(policy.identity == "Block Basic Auth");
    CHECK(policy.guid == "3c4d5e6f-0000-0000-0000-000000000005");
    CHECK(policy.distinguished_name == "CN=Block Basic Auth,CN=Auth Policies,DC=contoso");
    CHECK(policy.flags == authgate::BasicAuthFlags{});

    REQUIRE(state.organization.has_value());
    CHECK(state.organization->default_authentication_policy == std::nullopt);

    REQUIRE(state.users.has_value());
    REQUIRE(state.users->size() == 1);
    const authgate::LiveUser& user = state.users->at(0);
    CHECK(user.identity == "scanner3f");
    CHECK(user.external_directory_object_id == "0b7c2f44-0000-0000-0000-000000000002");
    CHECK(user.user_principal_name == "scanner-3f@contoso.com");
    CHECK(user.authentication_policy == std::nullopt);
}

TEST_CASE("a mailbox override is true, false or null, and null means inherit", "[snapshot]") {
    const LiveState state = load(R"({"cas_mailboxes": [
      {"Guid": "g1", "PrimarySmtpAddress": "a@contoso.com", "SmtpClientAuthenticationDisabled": true},
      {"Guid": "g2", "PrimarySmtpAddress": "b@contoso.com", "SmtpClientAuthenticationDisabled": false},
      {"Guid": "g3", "PrimarySmtpAddress": "c@contoso.com", "SmtpClientAuthenticationDisabled": null}
    ]})");
    REQUIRE(state.mailboxes->size() == 3);
    CHECK(state.mailboxes->at(0).smtp_auth_disabled == std::optional<bool>(true));
    CHECK(state.mailboxes->at(1).smtp_auth_disabled == std::optional<bool>(false));
    CHECK(state.mailboxes->at(2).smtp_auth_disabled == std::nullopt);
}

TEST_CASE("the org switch is read as it is, true or false", "[snapshot]") {
    CHECK(load(R"({"transport_config": {"SmtpClientAuthenticationDisabled": true}})").org_smtp_auth_disabled ==
          std::optional<bool>(true));
    CHECK(load(R"({"transport_config": {"SmtpClientAuthenticationDisabled": false}})").org_smtp_auth_disabled ==
          std::optional<bool>(false));
}

TEST_CASE("an absent member is unknown while an empty array is a known empty list", "[snapshot]") {
    const LiveState nothing = load("{}");
    CHECK_FALSE(nothing.org_smtp_auth_disabled.has_value());
    CHECK_FALSE(nothing.mailboxes.has_value());
    CHECK_FALSE(nothing.policies.has_value());
    CHECK_FALSE(nothing.organization.has_value());
    CHECK_FALSE(nothing.users.has_value());

    const LiveState empty = load(R"({"cas_mailboxes": [], "authentication_policies": [], "users": []})");
    REQUIRE(empty.mailboxes.has_value());
    CHECK(empty.mailboxes->empty());
    REQUIRE(empty.policies.has_value());
    CHECK(empty.policies->empty());
    REQUIRE(empty.users.has_value());
    CHECK(empty.users->empty());
    CHECK_FALSE(empty.org_smtp_auth_disabled.has_value());
    CHECK_FALSE(empty.organization.has_value());
}

TEST_CASE("annotations, extra properties and unknown top-level members are ignored", "[snapshot]") {
    const LiveState state = load(R"json({
      "@odata.context": "https://outlook.office365.com/adminapi/beta/$metadata",
      "snapshot_version": 7,
      "future_member": {"anything": [1, 2, 3]},
      "transport_config": {"@odata.type": "#Exchange.TransportConfig",
                           "SmtpClientAuthenticationDisabled@odata.type": "#Boolean",
                           "SmtpClientAuthenticationDisabled": true, "MaxRecipientEnvelopeLimit": "Unlimited"},
      "cas_mailboxes": [{"@odata.id": "CASMailbox('g1')", "Guid@odata.type": "#Guid", "Guid": "g1",
                         "PrimarySmtpAddress": "a@contoso.com", "SmtpClientAuthenticationDisabled": false,
                         "EmailAddresses": ["SMTP:a@contoso.com"], "ImapEnabled": true,
                         "Identity": "a", "WhenChanged": "\/Date(1732262400000)\/"}],
      "authentication_policies": [{"Name": "Legacy", "AllowBasicAuthRest": true,
                                   "AllowBasicAuthSmtp@odata.type": "#Boolean", "AllowBasicAuthSmtp": true,
                                   "IsValid": true}]
    })json");
    CHECK(state.org_smtp_auth_disabled == std::optional<bool>(true));
    REQUIRE(state.mailboxes->size() == 1);
    CHECK(state.mailboxes->at(0).guid == "g1");
    CHECK(state.mailboxes->at(0).identity == "a");
    CHECK(state.mailboxes->at(0).smtp_auth_disabled == std::optional<bool>(false));
    REQUIRE(state.policies->size() == 1);
    authgate::BasicAuthFlags expected{};
    expected[authgate::smtp_flag] = true;
    CHECK(state.policies->at(0).flags == expected);
}

TEST_CASE("a single object where an array is expected is a one-element list", "[snapshot]") {
    const LiveState state = load(R"({
      "cas_mailboxes": {"Guid": "g1", "PrimarySmtpAddress": "a@contoso.com",
                        "SmtpClientAuthenticationDisabled": true},
      "authentication_policies": {"Name": "Block Basic Auth"},
      "users": {"Identity": "a", "AuthenticationPolicy": "Block Basic Auth"}
    })");
    REQUIRE(state.mailboxes->size() == 1);
    CHECK(state.mailboxes->at(0).primary_smtp_address == "a@contoso.com");
    REQUIRE(state.policies->size() == 1);
    CHECK(state.policies->at(0).name == "Block Basic Auth");
    REQUIRE(state.users->size() == 1);
    CHECK(state.users->at(0).authentication_policy == std::optional<std::string>("Block Basic Auth"));
}

TEST_CASE("a value envelope is read as the array it holds", "[snapshot]") {
    const LiveState state = load(R"({
      "cas_mailboxes": {"@odata.context": "https://outlook.office365.com/adminapi/beta/$metadata#CasMailbox",
                        "value": [{"Guid": "g1", "PrimarySmtpAddress": "a@contoso.com",
                                   "SmtpClientAuthenticationDisabled": null},
                                  {"ExternalDirectoryObjectId": "e2", "PrimarySmtpAddress": "b@contoso.com",
                                   "SmtpClientAuthenticationDisabled": true}]},
      "users": {"value": [{"Identity": "b", "AuthenticationPolicy": "Allow SMTP"}], "Count": 1},
      "authentication_policies": {"@odata.context": "…", "value": []},
      "transport_config": {"@odata.context": "…", "value": [{"SmtpClientAuthenticationDisabled": true}]}
    })");
    REQUIRE(state.mailboxes->size() == 2);
    CHECK(state.mailboxes->at(0).guid == "g1");
    CHECK(state.mailboxes->at(1).external_directory_object_id == "e2");
    CHECK(state.mailboxes->at(1).smtp_auth_disabled == std::optional<bool>(true));
    REQUIRE(state.users->size() == 1);
    CHECK(state.users->at(0).identity == "b");
    REQUIRE(state.policies.has_value());
    CHECK(state.policies->empty());
    CHECK(state.org_smtp_auth_disabled == std::optional<bool>(true));
}

TEST_CASE("transport_config and organization_config may be an array of exactly one object", "[snapshot]") {
    const LiveState state = load(R"({
      "transport_config": [{"SmtpClientAuthenticationDisabled": true}],
      "organization_config": [{"DefaultAuthenticationPolicy": "Block Basic Auth"}]
    })");
    CHECK(state.org_smtp_auth_disabled == std::optional<bool>(true));
    CHECK(state.organization->default_authentication_policy == std::optional<std::string>("Block Basic Auth"));

    CHECK(error_of(R"({"transport_config": [{"SmtpClientAuthenticationDisabled": true},
                                            {"SmtpClientAuthenticationDisabled": false}]})") ==
          "live.json: transport_config must hold exactly one object, not 2");
    CHECK(error_of(R"({"organization_config": {"value": []}})") ==
          "live.json: organization_config.value must hold exactly one object, not 0");
    CHECK(error_of(R"({"transport_config": [{"SmtpClientAuthenticationDisabled": "no"}]})") ==
          "live.json: transport_config[0].SmtpClientAuthenticationDisabled must be a boolean, "
          "not a string");
}

TEST_CASE("a UTF-8 byte order mark is skipped and UTF-16 is refused with advice", "[snapshot]") {
    const LiveState state = load("\xEF\xBB\xBF{\"transport_config\": {\"SmtpClientAuthenticationDisabled\": true}}");
    CHECK(state.org_smtp_auth_disabled == std::optional<bool>(true));

    CHECK(error_of(std::string("\xFF\xFE{\0}\0", 6)) ==
          "live.json: the file is UTF-16; save it as UTF-8 (in Windows PowerShell: "
          "Out-File -Encoding utf8)");
}

TEST_CASE("a policy's flags default to false when absent or null", "[snapshot]") {
    const LiveState state = load(R"({"authentication_policies": [
      {"Name": "Allow SMTP", "AllowBasicAuthSmtp": true, "AllowBasicAuthPop": null,
       "AllowBasicAuthImap": false, "AllowBasicAuthWebServices": true}
    ]})");
    authgate::BasicAuthFlags expected{};
    expected[flag_index("AllowBasicAuthSmtp")] = true;
    expected[flag_index("AllowBasicAuthWebServices")] = true;
    CHECK(state.policies->at(0).flags == expected);
    CHECK(state.policies->at(0).identity.empty());
    CHECK(state.policies->at(0).guid.empty());
}

TEST_CASE("every one of the twelve flags is read under its Exchange name", "[snapshot]") {
    for (std::size_t i = 0; i < authgate::basic_auth_flag_count; ++i) {
        const std::string name(authgate::basic_auth_flags[i].exchange_name);
        const LiveState state = load(R"({"authentication_policies": [{"Name": "P", ")" + name + R"(": true}]})");
        authgate::BasicAuthFlags expected{};
        expected[i] = true;
        INFO(name);
        CHECK(state.policies->at(0).flags == expected);
    }
}

TEST_CASE("an empty policy reference means no policy", "[snapshot]") {
    const LiveState state = load(R"({
      "organization_config": {"DefaultAuthenticationPolicy": ""},
      "users": [{"Identity": "a", "AuthenticationPolicy": ""},
                {"Identity": "b", "AuthenticationPolicy": "Allow SMTP"}]
    })");
    CHECK(state.organization->default_authentication_policy == std::nullopt);
    CHECK(state.users->at(0).authentication_policy == std::nullopt);
    CHECK(state.users->at(1).authentication_policy == std::optional<std::string>("Allow SMTP"));
}

TEST_CASE("a mailbox needs either Guid or ExternalDirectoryObjectId, not both", "[snapshot]") {
    const LiveState state = load(R"({"cas_mailboxes": [
      {"Guid": "g1", "PrimarySmtpAddress": "a@contoso.com", "SmtpClientAuthenticationDisabled": null},
      {"ExternalDirectoryObjectId": "e2", "PrimarySmtpAddress": "b@contoso.com",
       "SmtpClientAuthenticationDisabled": null}
    ]})");
    CHECK(state.mailboxes->at(0).guid == "g1");
    CHECK(state.mailboxes->at(0).external_directory_object_id.empty());
    CHECK(state.mailboxes->at(1).guid.empty());
    CHECK(state.mailboxes->at(1).external_directory_object_id == "e2");
}

TEST_CASE("a property the planner needs cannot be left out: unknown is not absent", "[snapshot]") {
    SECTION("a mailbox without its override") {
        CHECK(error_of(R"({"cas_mailboxes": [
          {"Guid": "g0", "PrimarySmtpAddress": "a@contoso.com", "SmtpClientAuthenticationDisabled": null},
          {"Guid": "g1", "PrimarySmtpAddress": "b@contoso.com", "SmtpClientAuthenticationDisabled": true},
          {"Guid": "g2", "PrimarySmtpAddress": "c@contoso.com", "SmtpClientAuthenticationDisabled": false},
          {"Identity": "scanner3f", "Guid": "g3", "PrimarySmtpAddress": "scanner-3f@contoso.com"}
        ]})") == "live.json: cas_mailboxes[3] (scanner-3f@contoso.com): "
                 "SmtpClientAuthenticationDisabled is missing; a snapshot must say true, false "
                 "or null");
    }
    SECTION("a mailbox without its address is named by its Identity") {
        CHECK(error_of(R"({"cas_mailboxes": [{"Identity": "scanner3f", "Guid": "g3",
                                             "SmtpClientAuthenticationDisabled": null}]})") ==
              "live.json: cas_mailboxes[0] (scanner3f): PrimarySmtpAddress is missing");
    }
    SECTION("a mailbox with neither Guid nor ExternalDirectoryObjectId") {
        CHECK(error_of(R"({"cas_mailboxes": [{"Identity": "scanner3f", "Guid": null,
                                             "PrimarySmtpAddress": "scanner-3f@contoso.com",
                                             "SmtpClientAuthenticationDisabled": null}]})") ==
              "live.json: cas_mailboxes[0] (scanner-3f@contoso.com): has neither Guid nor "
              "ExternalDirectoryObjectId; one of them is needed to address the mailbox without "
              "ambiguity");
    }
    SECTION("transport_config without the org switch") {
        CHECK(error_of(R"({"transport_config": {"MaxRecipientEnvelopeLimit": "Unlimited"}})") ==
              "live.json: transport_config.SmtpClientAuthenticationDisabled is missing; a "
              "snapshot must say true or false");
    }
    SECTION("a policy without its Name") {
        CHECK(error_of(R"({"authentication_policies": [{"Name": "A"},
                                                     {"Identity": "Block Basic Auth"}]})") ==
              "live.json: authentication_policies[1] (Block Basic Auth): Name is missing");
    }
    SECTION("a user without AuthenticationPolicy") {
        CHECK(error_of(R"({"users": [{"Identity": "scanner3f",
                                     "UserPrincipalName": "scanner-3f@contoso.com"}]})") ==
              "live.json: users[0] (scanner-3f@contoso.com): AuthenticationPolicy is missing; a "
              "snapshot must say a policy name or null");
    }
    SECTION("organization_config without DefaultAuthenticationPolicy") {
        CHECK(error_of(R"({"organization_config": {"Identity": "contoso.onmicrosoft.com"}})") ==
              "live.json: organization_config.DefaultAuthenticationPolicy is missing; a snapshot "
              "must say a policy name or null");
    }
    SECTION("a member written as null") {
        CHECK(error_of(R"({"cas_mailboxes": null})") ==
              "live.json: cas_mailboxes is null; write [] for none (in PowerShell, wrap the "
              "command in @()), or leave the member out when it is unknown");
        CHECK(error_of(R"({"transport_config": null})") ==
              "live.json: transport_config is null; leave the member out when it is unknown");
    }
    SECTION("a user with neither Identity nor ExternalDirectoryObjectId") {
        CHECK(error_of(R"({"users": [{"UserPrincipalName": "bot@contoso.com", "AuthenticationPolicy": null}]})") ==
              "live.json: users[0] (bot@contoso.com): has neither Identity nor ExternalDirectoryObjectId; one of "
              "them is needed to match the user to its mailbox");
    }
    SECTION("an element without a label is named by its place alone") {
        CHECK(error_of(R"({"cas_mailboxes": {"value": [{"SmtpClientAuthenticationDisabled": null}]}})") ==
              "live.json: cas_mailboxes.value[0].PrimarySmtpAddress is missing");
        CHECK(error_of(R"({"cas_mailboxes": {"SmtpClientAuthenticationDisabled": null}})") ==
              "live.json: cas_mailboxes.PrimarySmtpAddress is missing");
    }
}

TEST_CASE("a value of the wrong type is an error naming the type", "[snapshot]") {
    CHECK(error_of(R"({"transport_config": {"SmtpClientAuthenticationDisabled": "yes"}})") ==
          "live.json: transport_config.SmtpClientAuthenticationDisabled must be a boolean, not a "
          "string");
    CHECK(error_of(R"({"transport_config": {"SmtpClientAuthenticationDisabled": 1}})") ==
          "live.json: transport_config.SmtpClientAuthenticationDisabled must be a boolean, not a "
          "number");
    CHECK(error_of(R"({"transport_config": {"SmtpClientAuthenticationDisabled": null}})") ==
          "live.json: transport_config.SmtpClientAuthenticationDisabled must be a boolean, not "
          "null");
    CHECK(error_of(R"({"cas_mailboxes": [{"Guid": "g", "PrimarySmtpAddress": "a@contoso.com",
                                         "SmtpClientAuthenticationDisabled": "false"}]})") ==
          "live.json: cas_mailboxes[0] (a@contoso.com): SmtpClientAuthenticationDisabled must be "
          "true, false or null, not a string");
    CHECK(error_of(R"({"cas_mailboxes": [{"Guid": "g", "PrimarySmtpAddress": 7,
                                         "SmtpClientAuthenticationDisabled": null}]})") ==
          "live.json: cas_mailboxes[0] (g): PrimarySmtpAddress must be a string, not a number");
    CHECK(error_of(R"({"cas_mailboxes": [{"Guid": {"Guid": "g"}, "PrimarySmtpAddress": "a@contoso.com",
                                         "SmtpClientAuthenticationDisabled": null}]})") ==
          "live.json: cas_mailboxes[0] (a@contoso.com): Guid must be a string, not an object");
    CHECK(error_of(R"({"authentication_policies": [{"Name": "P", "AllowBasicAuthSmtp": "True"}]})") ==
          "live.json: authentication_policies[0] (P): AllowBasicAuthSmtp must be a boolean, not a "
          "string");
    CHECK(error_of(R"({"authentication_policies": [{"Name": ""}]})") ==
          "live.json: authentication_policies[0].Name is empty");
    CHECK(error_of(R"({"users": [{"Identity": "a", "AuthenticationPolicy": false}]})") ==
          "live.json: users[0] (a): AuthenticationPolicy must be a policy name or null, not a "
          "boolean");
    CHECK(error_of(R"({"organization_config": {"DefaultAuthenticationPolicy": ["P"]}})") ==
          "live.json: organization_config.DefaultAuthenticationPolicy must be a policy name or "
          "null, not an array");
    CHECK(error_of(R"({"cas_mailboxes": "none"})") == "live.json: cas_mailboxes must be an array, not a string");
    CHECK(error_of(R"({"transport_config": true})") == "live.json: transport_config must be an object, not a boolean");
    CHECK(error_of(R"({"users": [{"Identity": "a", "AuthenticationPolicy": null}, null]})") ==
          "live.json: users[1] must be an object, not null");
    CHECK(error_of(R"({"authentication_policies": {"value": ["Block Basic Auth"]}})") ==
          "live.json: authentication_policies.value[0] must be an object, not a string");
}

TEST_CASE("a property written twice has no one value to trust", "[snapshot]") {
    CHECK(error_of(R"({"cas_mailboxes": [{"Guid": "g", "PrimarySmtpAddress": "a@contoso.com",
                                         "SmtpClientAuthenticationDisabled": true,
                                         "SmtpClientAuthenticationDisabled": false}]})") ==
          "live.json: cas_mailboxes[0] (a@contoso.com): SmtpClientAuthenticationDisabled appears "
          "more than once");
    CHECK(error_of(R"({"users": [], "users": []})") == "live.json: users appears more than once");
}

TEST_CASE("text that is not a JSON object is refused with the file name", "[snapshot]") {
    CHECK(error_of("{\n  \"cas_mailboxes\": [1,\n 2,,]}") ==
          "live.json: not valid JSON: Line 3, Column 4 Syntax error: Malformed token");
    CHECK(error_of("") == "live.json: not valid JSON: Line 1, Column 1 Syntax error: Malformed token");
    CHECK(error_of(R"([{"SmtpClientAuthenticationDisabled": true}])") ==
          "live.json: the top level must be an object, not an array");
    CHECK(error_of("null") == "live.json: the top level must be an object, not null");
}

TEST_CASE("a snapshot is parsed as pages of the live API are, by simdjson", "[snapshot]") {
    SECTION("text that is not UTF-8 is not JSON (a Latin-1 file)") {
        CHECK(error_of("{\"cas_mailboxes\": [{\"Guid\": \"g\", \"PrimarySmtpAddress\": \"caf\xe9@contoso.com\", "
                       "\"SmtpClientAuthenticationDisabled\": null}]}") ==
              "live.json: not valid JSON: The input is not valid UTF-8");
    }
    SECTION("a number past 64 bits, even in a member authgate does not read") {
        CHECK(error_of(R"({"extra": 99999999999999999999, "users": []})") ==
              "live.json: not valid JSON: Problem while parsing a number");
    }
    SECTION("nesting up to simdjson's 1024 levels, in a member authgate does not read") {
        const LiveState state =
            load("{\"extra\": " + std::string(500, '[') + std::string(500, ']') + ", \"users\": []}");
        CHECK(state.users->empty());
    }
    SECTION("deeper is refused") {
        CHECK(error_of(std::string(2000, '[') + std::string(2000, ']')) ==
              "live.json: not valid JSON: The JSON document was too deep (too many nested objects and arrays)");
    }
}

TEST_CASE("a snapshot authgate writes reads back as the live state it was written from", "[snapshot]") {
    const LiveState live =
        authgate::SnapshotConnector(AUTHGATE_TEST_DATA "/snapshots/contoso-powershell.json").read_live_state();
    CHECK(load(authgate::snapshot_json(live).serialize()) == live);
    const LiveState partial = load(R"({"users": [{"Identity": "a", "AuthenticationPolicy": "P"}]})");
    const LiveState again = load(authgate::snapshot_json(partial).serialize());
    CHECK(again == partial);
    CHECK_FALSE(again.mailboxes.has_value());  // unknown stays unknown
}

TEST_CASE("the connector reads a PowerShell export from disk", "[snapshot]") {
    // Windows PowerShell 5.1 output: BOM, CRLF, its indentation, extra properties, one
    // policy written as a lone object and users in a {"value", "Count"} wrapper.
    authgate::SnapshotConnector connector(AUTHGATE_TEST_DATA "/snapshots/contoso-powershell.json");
    const LiveState state = connector.read_live_state();

    CHECK(state.org_smtp_auth_disabled == std::optional<bool>(true));
    REQUIRE(state.mailboxes->size() == 2);
    CHECK(state.mailboxes->at(0).identity == "scanner3f");
    CHECK(state.mailboxes->at(0).guid == "6f1d2c3b-4a59-4e7f-8d21-0a9b8c7d6e5f");
    CHECK(state.mailboxes->at(0).external_directory_object_id == "0b7c2f44-1e2d-4c6a-9f3e-5d8a7b6c4e21");
    CHECK(state.mailboxes->at(0).primary_smtp_address == "scanner-3f@contoso.com");
    CHECK(state.mailboxes->at(0).smtp_auth_disabled == std::optional<bool>(false));
    CHECK(state.mailboxes->at(1).primary_smtp_address == "adele.vance@contoso.com");
    CHECK(state.mailboxes->at(1).smtp_auth_disabled == std::nullopt);

    REQUIRE(state.policies->size() == 1);
    CHECK(state.policies->at(0).name == "Block Basic Auth");
    CHECK(state.policies->at(0).distinguished_name ==
          "CN=Block Basic Auth,CN=Auth Policies,CN=contoso.onmicrosoft.com,CN=Configuration "
          "Units,DC=EURPR01A001,DC=prod,DC=outlook,DC=com");
    authgate::BasicAuthFlags expected{};
    expected[authgate::smtp_flag] = true;
    CHECK(state.policies->at(0).flags == expected);

    CHECK(state.organization->default_authentication_policy == std::optional<std::string>("Block Basic Auth"));
    REQUIRE(state.users->size() == 1);
    CHECK(state.users->at(0).user_principal_name == "scanner-3f@contoso.com");
    CHECK(state.users->at(0).authentication_policy == std::nullopt);
}

TEST_CASE("a snapshot file that cannot be read is an error naming it", "[snapshot]") {
    const std::string path = AUTHGATE_TEST_DATA "/snapshots/no-such-file.json";
    authgate::SnapshotConnector connector(path);
    REQUIRE_THROWS_AS(connector.read_live_state(), ConnectorError);
    REQUIRE_THROWS_WITH(connector.read_live_state(), "cannot read snapshot " + path + ": No such file or directory");

    authgate::SnapshotConnector directory(AUTHGATE_TEST_DATA "/snapshots");
    REQUIRE_THROWS_WITH(directory.read_live_state(),
                        "cannot read snapshot " AUTHGATE_TEST_DATA "/snapshots: Is a directory");
}

TEST_CASE("a mailbox's display name is read for people, and one that is not text is left out", "[snapshot]") {
    const LiveState state = load(R"({"cas_mailboxes": [
      {"Guid": "g1", "PrimarySmtpAddress": "a@contoso.com", "SmtpClientAuthenticationDisabled": null,
       "DisplayName": "Lobby Scanner 3F"},
      {"Guid": "g2", "PrimarySmtpAddress": "b@contoso.com", "SmtpClientAuthenticationDisabled": null,
       "DisplayName": {"odd": true}},
      {"Guid": "g3", "PrimarySmtpAddress": "c@contoso.com", "SmtpClientAuthenticationDisabled": null}
    ]})");
    REQUIRE(state.mailboxes->size() == 3);
    CHECK(state.mailboxes->at(0).display_name == "Lobby Scanner 3F");
    CHECK(state.mailboxes->at(1).display_name.empty());
    CHECK(state.mailboxes->at(2).display_name.empty());
    // Written back under the same name, so that a snapshot of a snapshot keeps it.
    CHECK(authgate::snapshot_json(state).at("cas_mailboxes").at(0).at("DisplayName").as_string() == "Lobby Scanner 3F");
}
