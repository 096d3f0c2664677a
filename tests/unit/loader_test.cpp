// The loader: TOML in, a DesiredState with defaults and source positions out, or every problem
// of syntax, keys and types as a diagnostic.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "policies/loader.h"
#include "temp_dir.h"

using namespace authgate;
using authgate::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string tenant_header = "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n";

// Lines 1-3 are the tenant header; the body starts on line 4.
LoadResult load(const std::string& body) { return load_desired_state_text("desired.toml", tenant_header + body); }

DesiredState loaded(const std::string& body) {
    LoadResult result = load(body);
    for (const auto& d : result.diagnostics.all()) INFO(format(d));
    REQUIRE(result.diagnostics.empty());
    return result.state;
}

std::vector<std::string> lines(const Diagnostics& diagnostics) {
    std::vector<std::string> out;
    for (const auto& d : diagnostics.all()) out.push_back(format(d));
    return out;
}

Instant at(const char* text) { return *parse_instant(text); }

const std::string scanner_exception = "[[smtp_auth.exception]]\n"
                                      "mailbox = \"scanner-3f@contoso.com\"\n"
                                      "owner = \"facilities-it@contoso.com\"\n"
                                      "reason = \"MFP firmware has no OAuth support\"\n"
                                      "expires = 2027-03-31\n";

std::string exception_for(const std::string& mailbox) {
    return "[[smtp_auth.exception]]\nmailbox = \"" + mailbox +
           "\"\nowner = \"it@contoso.com\"\nreason = \"device\"\nexpires = 2027-03-31\n";
}

}  // namespace

TEST_CASE("a minimal desired state manages nothing but names its tenant", "[loader]") {
    const DesiredState state = loaded("");
    REQUIRE(state.tenant);
    CHECK(state.tenant->id == "contoso.onmicrosoft.com");
    CHECK(state.tenant->cloud == Cloud::global);
    CHECK(state.tenant->source.file == "desired.toml");
    CHECK(state.tenant->source.line == 2);
    CHECK(state.tenant->source.column == 1);
    CHECK_FALSE(state.smtp_auth);
    CHECK_FALSE(state.organization);
    CHECK(state.policies.empty());
    CHECK_FALSE(state.connection.app_id);
    CHECK_FALSE(state.connection.certificate);
    CHECK_FALSE(state.connection.certificate_password_env);
    CHECK_FALSE(state.connection.login_endpoint);
    CHECK_FALSE(state.connection.exchange_endpoint);
    CHECK_FALSE(state.connection.ca_bundle);
    CHECK(state.files == std::vector<std::string>{"desired.toml"});
}

TEST_CASE("absent settings take their documented defaults", "[loader]") {
    const DesiredState state = loaded("[smtp_auth]\norg_disabled = true\n[exceptions]\n[guardrails]\n");
    REQUIRE(state.smtp_auth);
    REQUIRE(state.smtp_auth->org_disabled);
    CHECK(state.smtp_auth->org_disabled->value == true);
    CHECK(state.smtp_auth->unlisted_overrides == UnlistedOverrides::report);
    CHECK(state.smtp_auth->deny.empty());
    CHECK(state.smtp_auth->exceptions.empty());
    CHECK(state.exception_settings.max_days == 180);
    CHECK(state.exception_settings.warn_days == std::vector<int>{14, 7, 1});
    CHECK(state.exception_settings.max_warn_days() == 14);
    CHECK_FALSE(state.exception_settings.basic_auth_policy);
    CHECK(state.guardrails.max_changes == 100);
    CHECK(state.guardrails.protected_mailboxes.empty());
}

TEST_CASE("defaults hold without the tables that carry them", "[loader]") {
    const DesiredState state = loaded("");
    CHECK(state.exception_settings.max_days == 180);
    CHECK(state.exception_settings.warn_days == std::vector<int>{14, 7, 1});
    CHECK(state.guardrails.max_changes == 100);
}

TEST_CASE("an [smtp_auth] with only exceptions leaves the org switch unmanaged", "[loader]") {
    const DesiredState state = loaded(scanner_exception);
    REQUIRE(state.smtp_auth);
    CHECK_FALSE(state.smtp_auth->org_disabled);
    REQUIRE(state.smtp_auth->exceptions.size() == 1);
}

TEST_CASE("an exception's optional keys default to no ticket, no replacement and no Basic auth", "[loader]") {
    const DesiredState state = loaded(scanner_exception);
    const Exception& exception = state.smtp_auth->exceptions.at(0);
    CHECK(exception.mailbox == "scanner-3f@contoso.com");
    CHECK(exception.owner == "facilities-it@contoso.com");
    CHECK(exception.reason == "MFP firmware has no OAuth support");
    CHECK_FALSE(exception.ticket);
    CHECK_FALSE(exception.replacement);
    CHECK(exception.basic_auth == false);
    CHECK(exception.source.line == 4);
    CHECK(exception.source.column == 1);
    CHECK(exception.expires_source.line == 8);
    CHECK(exception.expires_source.column == 11);
}

TEST_CASE("every key of the example is read", "[loader]") {
    const DesiredState state = loaded("cloud = \"gcc-high\"\n"
                                      "[connection]\n"
                                      "app_id = \"6f1c0e2a-0000-4000-8000-000000000001\"\n"
                                      "certificate_password_env = \"AUTHGATE_CERT_PASSWORD\"\n"
                                      "login_endpoint = \"https://login.example.test\"\n"
                                      "exchange_endpoint = \"https://outlook.example.test\"\n"
                                      "[smtp_auth]\n"
                                      "org_disabled = false\n"
                                      "unlisted_overrides = \"revert\"\n"
                                      "deny = [\"ceo@contoso.com\", \"cfo@contoso.com\"]\n" +
                                      scanner_exception +
                                      "ticket = \"CHG0012345\"\n"
                                      "replacement = \"direct-send\"\n"
                                      "basic_auth = true\n"
                                      "[exceptions]\n"
                                      "max_days = 90\n"
                                      "warn_days = [30, 7, 1]\n"
                                      "basic_auth_policy = \"Allow Basic SMTP\"\n"
                                      "[[authentication_policy]]\n"
                                      "name = \"Allow Basic SMTP\"\n"
                                      "allow_basic_auth_smtp = true\n"
                                      "[organization]\n"
                                      "default_authentication_policy = \"Block Basic Auth\"\n"
                                      "[guardrails]\n"
                                      "max_changes = 50\n"
                                      "protected = [\"breakglass@contoso.com\"]\n");
    CHECK(state.tenant->cloud == Cloud::gcc_high);
    CHECK(state.connection.app_id == "6f1c0e2a-0000-4000-8000-000000000001");
    CHECK(state.connection.certificate_password_env == "AUTHGATE_CERT_PASSWORD");
    CHECK(state.connection.login_endpoint == "https://login.example.test");
    CHECK(state.connection.exchange_endpoint == "https://outlook.example.test");
    CHECK(state.smtp_auth->org_disabled->value == false);
    CHECK(state.smtp_auth->unlisted_overrides == UnlistedOverrides::revert);
    REQUIRE(state.smtp_auth->deny.size() == 2);
    CHECK(state.smtp_auth->deny[0].value == "ceo@contoso.com");
    CHECK(state.smtp_auth->deny[1].value == "cfo@contoso.com");
    CHECK(state.smtp_auth->deny[1].source.line == 13);
    CHECK(state.smtp_auth->deny[1].source.column == 28);
    const Exception& exception = state.smtp_auth->exceptions.at(0);
    CHECK(exception.ticket == "CHG0012345");
    CHECK(exception.replacement == Replacement::direct_send);
    CHECK(exception.basic_auth == true);
    CHECK(state.exception_settings.max_days == 90);
    CHECK(state.exception_settings.warn_days == std::vector<int>{30, 7, 1});
    CHECK(state.exception_settings.max_warn_days() == 30);
    CHECK(state.exception_settings.basic_auth_policy->value == "Allow Basic SMTP");
    REQUIRE(state.policies.size() == 1);
    CHECK(state.policies[0].name == "Allow Basic SMTP");
    CHECK(state.organization->default_authentication_policy->value == "Block Basic Auth");
    CHECK(state.guardrails.max_changes == 50);
    REQUIRE(state.guardrails.protected_mailboxes.size() == 1);
    CHECK(state.guardrails.protected_mailboxes[0].value == "breakglass@contoso.com");
}

TEST_CASE("each cloud, mode and replacement is read by its name", "[loader]") {
    for (const auto& [text, cloud] : std::vector<std::pair<std::string, Cloud>>{
             {"global", Cloud::global}, {"gcc-high", Cloud::gcc_high}, {"dod", Cloud::dod}, {"china", Cloud::china}}) {
        INFO(text);
        CHECK(loaded("cloud = \"" + text + "\"\n").tenant->cloud == cloud);
    }
    for (const auto& [text, mode] :
         std::vector<std::pair<std::string, UnlistedOverrides>>{{"revert", UnlistedOverrides::revert},
                                                                {"report", UnlistedOverrides::report},
                                                                {"ignore", UnlistedOverrides::ignore}}) {
        INFO(text);
        CHECK(loaded("[smtp_auth]\nunlisted_overrides = \"" + text + "\"\n").smtp_auth->unlisted_overrides == mode);
    }
    for (const auto& [text, replacement] :
         std::vector<std::pair<std::string, Replacement>>{{"oauth", Replacement::oauth},
                                                          {"hve", Replacement::hve},
                                                          {"acs", Replacement::acs},
                                                          {"relay", Replacement::relay},
                                                          {"direct-send", Replacement::direct_send},
                                                          {"retire", Replacement::retire}}) {
        INFO(text);
        const DesiredState state = loaded(scanner_exception + "replacement = \"" + text + "\"\n");
        CHECK(state.smtp_auth->exceptions.at(0).replacement == replacement);
    }
}

TEST_CASE("a date expiry holds through that whole day in UTC", "[loader]") {
    const Exception exception = loaded(scanner_exception).smtp_auth->exceptions.at(0);
    CHECK(exception.expires == at("2027-04-01T00:00:00Z"));
    CHECK(exception.expires_text == "2027-03-31");
}

TEST_CASE("a date-time expiry with an offset is that instant", "[loader]") {
    const std::vector<std::tuple<std::string, std::string, std::string>> rows{
        {"2027-04-30T18:00:00+02:00", "2027-04-30T16:00:00Z", "2027-04-30T18:00:00+02:00"},
        {"2027-04-30T18:00:00Z", "2027-04-30T18:00:00Z", "2027-04-30T18:00:00Z"},
        {"2027-04-30T18:00:00-05:30", "2027-04-30T23:30:00Z", "2027-04-30T18:00:00-05:30"},
        {"2027-04-30 23:30:00-02:00", "2027-05-01T01:30:00Z", "2027-04-30T23:30:00-02:00"},
    };
    for (const auto& [written, instant, text] : rows) {
        INFO(written);
        const DesiredState state =
            loaded("[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"b@contoso.com\"\nreason = \"r\"\n"
                   "expires = " +
                   written + "\n");
        const Exception& exception = state.smtp_auth->exceptions.at(0);
        CHECK(format_instant(exception.expires) == instant);
        CHECK(exception.expires_text == text);
    }
}

TEST_CASE("relative certificate and ca_bundle paths are resolved against the naming file's folder", "[loader]") {
    const std::vector<std::tuple<std::string, std::string, std::string>> rows{
        {"conf/tenant.toml", "secrets/authgate.pem", "conf/secrets/authgate.pem"},
        {"conf/tenant.toml", "../secrets/authgate.pem", "secrets/authgate.pem"},
        {"conf/tenant.toml", "./authgate.pfx", "conf/authgate.pfx"},
        {"tenant.toml", "secrets/authgate.pem", "secrets/authgate.pem"},
        {"/etc/authgate/tenant.toml", "authgate.pem", "/etc/authgate/authgate.pem"},
        {"conf/tenant.toml", "/etc/ssl/authgate.pem", "/etc/ssl/authgate.pem"},
    };
    for (const auto& [file, written, resolved] : rows) {
        INFO(file << " names " << written);
        const LoadResult result = load_desired_state_text(file, tenant_header + "[connection]\ncertificate = \"" +
                                                                    written + "\"\nca_bundle = \"" + written + "\"\n");
        REQUIRE(result.diagnostics.empty());
        CHECK(result.state.connection.certificate == resolved);
        CHECK(result.state.connection.ca_bundle == resolved);
    }
}

TEST_CASE("a certificate named in a subfolder's file is relative to that subfolder", "[loader]") {
    TempDir dir;
    dir.write("tenant.toml", tenant_header);
    dir.write("team/connection.toml",
              "[connection]\ncertificate = \"authgate.pem\"\nca_bundle = \"/etc/ssl/ca.pem\"\n");
    const LoadResult result = load_desired_state({dir.path()});
    REQUIRE(result.diagnostics.empty());
    CHECK(result.state.connection.certificate == dir / "team/authgate.pem");
    CHECK(result.state.connection.ca_bundle == "/etc/ssl/ca.pem");
}

TEST_CASE("a directory merges its files sorted by path, concatenating exceptions and policies", "[loader]") {
    TempDir dir;
    dir.write("tenant.toml", tenant_header + "[smtp_auth]\norg_disabled = true\n");
    dir.write("exceptions/b-team.toml", exception_for("b1@contoso.com") + exception_for("b2@contoso.com"));
    dir.write("exceptions/a-team.toml", exception_for("a1@contoso.com"));
    dir.write("policies/smtp.toml",
              "[[authentication_policy]]\nname = \"Allow Basic SMTP\"\nallow_basic_auth_smtp = true\n");
    dir.write("policies/block.toml", "[[authentication_policy]]\nname = \"Block Basic Auth\"\n");
    dir.write("README.md", "not TOML, not read");
    dir.write(".draft.toml", "this is [not valid TOML");
    dir.write(".git/config.toml", "neither [is this");
    dir.write("exceptions/.old/retired.toml", exception_for("retired@contoso.com"));

    const LoadResult result = load_desired_state({dir.path()});
    for (const auto& d : result.diagnostics.all()) INFO(format(d));
    REQUIRE(result.diagnostics.empty());
    const DesiredState& state = result.state;
    CHECK(state.files == std::vector<std::string>{dir / "exceptions/a-team.toml", dir / "exceptions/b-team.toml",
                                                  dir / "policies/block.toml", dir / "policies/smtp.toml",
                                                  dir / "tenant.toml"});
    REQUIRE(state.smtp_auth);
    CHECK(state.smtp_auth->org_disabled->value == true);
    std::vector<std::string> mailboxes;
    for (const auto& exception : state.smtp_auth->exceptions) mailboxes.push_back(exception.mailbox);
    CHECK(mailboxes == std::vector<std::string>{"a1@contoso.com", "b1@contoso.com", "b2@contoso.com"});
    CHECK(state.smtp_auth->exceptions[2].source.file == dir / "exceptions/b-team.toml");
    CHECK(state.smtp_auth->exceptions[2].source.line == 6);
    REQUIRE(state.policies.size() == 2);
    CHECK(state.policies[0].name == "Block Basic Auth");
    CHECK(state.policies[1].name == "Allow Basic SMTP");
    CHECK(state.policies[1].source.file == dir / "policies/smtp.toml");
}

TEST_CASE("several paths are merged in the order given", "[loader]") {
    TempDir dir;
    dir.write("z/tenant.toml", tenant_header);
    dir.write("a/more.toml", exception_for("a@contoso.com"));
    const LoadResult result = load_desired_state({dir / "z/tenant.toml", dir / "a"});
    REQUIRE(result.diagnostics.empty());
    CHECK(result.state.files == std::vector<std::string>{dir / "z/tenant.toml", dir / "a/more.toml"});
}

TEST_CASE("an empty default_authentication_policy is kept as empty, which clears it", "[loader]") {
    const DesiredState cleared = loaded("[organization]\ndefault_authentication_policy = \"\"\n");
    REQUIRE(cleared.organization);
    REQUIRE(cleared.organization->default_authentication_policy);
    CHECK(cleared.organization->default_authentication_policy->value == "");

    const DesiredState unmanaged = loaded("[organization]\n");
    REQUIRE(unmanaged.organization);
    CHECK_FALSE(unmanaged.organization->default_authentication_policy);
}

TEST_CASE("each of the twelve flags sets its own index and no other", "[loader]") {
    const std::vector<std::tuple<std::string, std::size_t, std::string>> rows{
        {"allow_basic_auth_active_sync", 0, "AllowBasicAuthActiveSync"},
        {"allow_basic_auth_autodiscover", 1, "AllowBasicAuthAutodiscover"},
        {"allow_basic_auth_imap", 2, "AllowBasicAuthImap"},
        {"allow_basic_auth_mapi", 3, "AllowBasicAuthMapi"},
        {"allow_basic_auth_offline_address_book", 4, "AllowBasicAuthOfflineAddressBook"},
        {"allow_basic_auth_outlook_service", 5, "AllowBasicAuthOutlookService"},
        {"allow_basic_auth_pop", 6, "AllowBasicAuthPop"},
        {"allow_basic_auth_powershell", 7, "AllowBasicAuthPowershell"},
        {"allow_basic_auth_reporting_web_services", 8, "AllowBasicAuthReportingWebServices"},
        {"allow_basic_auth_rpc", 9, "AllowBasicAuthRpc"},
        {"allow_basic_auth_smtp", 10, "AllowBasicAuthSmtp"},
        {"allow_basic_auth_web_services", 11, "AllowBasicAuthWebServices"},
    };
    REQUIRE(rows.size() == basic_auth_flag_count);
    CHECK(smtp_flag == 10);
    for (const auto& [key, index, exchange_name] : rows) {
        INFO(key);
        CHECK(basic_auth_flags[index].toml_key == key);
        CHECK(basic_auth_flags[index].exchange_name == exchange_name);
        const DesiredState state = loaded("[[authentication_policy]]\nname = \"P\"\n" + key + " = true\n");
        BasicAuthFlags expected{};
        expected[index] = true;
        CHECK(state.policies.at(0).flags == expected);
    }
}

TEST_CASE("unlisted flags are false and false is kept as false", "[loader]") {
    const DesiredState state = loaded("[[authentication_policy]]\nname = \"Block\"\nallow_basic_auth_pop = false\n");
    CHECK(state.policies.at(0).flags == BasicAuthFlags{});
}

TEST_CASE("the digest is stable for the same content and changes with any byte", "[loader]") {
    const std::string text = tenant_header + scanner_exception;
    const std::string digest = load_desired_state_text("desired.toml", text).state.digest;
    CHECK(digest.rfind("sha256:", 0) == 0);
    CHECK(digest.size() == 7 + 64);
    CHECK(load_desired_state_text("desired.toml", text).state.digest == digest);

    std::string changed = text;
    changed[changed.find("2027-03-31") + 9] = '0';  // 2027-03-30
    CHECK(load_desired_state_text("desired.toml", changed).state.digest != digest);
    CHECK(load_desired_state_text("desired.toml", text + " ").state.digest != digest);
}

TEST_CASE("a directory's digest covers relative paths and contents, not where the folder is", "[loader]") {
    TempDir first, second;
    for (const TempDir* dir : {&first, &second}) {
        dir->write("tenant.toml", tenant_header);
        dir->write("exceptions/a.toml", exception_for("a@contoso.com"));
    }
    const std::string digest = load_desired_state({first.path()}).state.digest;
    CHECK(load_desired_state({second.path()}).state.digest == digest);

    second.write("exceptions/a.toml", exception_for("A@contoso.com"));
    CHECK(load_desired_state({second.path()}).state.digest != digest);

    second.write("exceptions/a.toml", exception_for("a@contoso.com"));
    fs::rename(second / "exceptions/a.toml", second / "exceptions/b.toml");
    CHECK(load_desired_state({second.path()}).state.digest != digest);
}

TEST_CASE("a policy name may have 64 characters, counted as characters rather than bytes", "[loader]") {
    const std::string ascii64(64, 'p');
    CHECK(loaded("[[authentication_policy]]\nname = \"" + ascii64 + "\"\n").policies.at(0).name == ascii64);
    std::string umlauts;  // 64 characters, 128 bytes
    for (int i = 0; i < 64; ++i) umlauts += "\xC3\xBC";
    CHECK(loaded("[[authentication_policy]]\nname = \"" + umlauts + "\"\n").policies.at(0).name == umlauts);
}

TEST_CASE("problems of syntax, keys and types are reported where they are written", "[loader]") {
    struct Row {
        const char* what;
        std::string body;
        std::vector<std::string> expected;
    };
    const std::vector<Row> rows{
        {"TOML syntax error",
         "[smtp_auth]\norg_disabled = True\n",
         {"desired.toml:5:16: error: invalid TOML in boolean: expected 'true', saw 'T'"}},
        {"duplicate key",
         "[smtp_auth]\norg_disabled = true\norg_disabled = false\n",
         {"desired.toml:6:16: error: duplicate key 'org_disabled'; a key may be set only once in a table"}},
        {"duplicate table in one file",
         "[tenant]\ncloud = \"dod\"\n",
         {"desired.toml:4:1: error: duplicate table [tenant]; a table may be declared only once in a file"}},
        {"unknown key close to a known one",
         "[smtp_auth]\norgdisabled = true\n",
         {"desired.toml:5:1: error: unknown key 'orgdisabled' in [smtp_auth]; did you mean 'org_disabled'?"}},
        {"CamelCase flag",
         "[[authentication_policy]]\nname = \"P\"\nAllowBasicAuthSmtp = true\n",
         {"desired.toml:6:1: error: unknown key 'AllowBasicAuthSmtp' in [[authentication_policy]]; did you mean "
          "'allow_basic_auth_smtp'?"}},
        {"unknown key far from every known one",
         "[smtp_auth]\ncolour = \"blue\"\n",
         {"desired.toml:5:1: error: unknown key 'colour' in [smtp_auth]"}},
        {"unknown table",
         "[guardrail]\nmax_changes = 5\n",
         {"desired.toml:4:2: error: unknown table 'guardrail' in the desired state; did you mean 'guardrails'?"}},
        {"unknown array of tables",
         "[[smtp_auth.exceptions]]\nmailbox = \"a@contoso.com\"\n",
         {"desired.toml:4:13: error: unknown table 'exceptions' in [smtp_auth]; did you mean 'exception'?"}},
        {"misspelt required key is not also reported missing",
         "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"b@contoso.com\"\nreason = \"r\"\n"
         "expire = 2027-03-31\n",
         {"desired.toml:8:1: error: unknown key 'expire' in [[smtp_auth.exception]]; did you mean 'expires'?"}},
        {"boolean as a string",
         "[smtp_auth]\norg_disabled = \"yes\"\n",
         {"desired.toml:5:16: error: 'org_disabled' must be a boolean, not a string"}},
        {"integer as a string",
         "[exceptions]\nmax_days = \"90\"\n",
         {"desired.toml:5:12: error: 'max_days' must be an integer, not a string"}},
        {"integer out of range",
         "[exceptions]\nmax_days = 0\n",
         {"desired.toml:5:12: error: 'max_days' must be from 1 to 3650, not 0"}},
        {"array as a string",
         "[smtp_auth]\ndeny = \"x@y.com\"\n",
         {"desired.toml:5:8: error: 'deny' must be an array of mail addresses, not a string"}},
        {"array element of the wrong type",
         "[guardrails]\nprotected = [\"a@contoso.com\", 7]\n",
         {"desired.toml:5:31: error: 'protected[1]' must be a string, not an integer"}},
        {"array element not an address",
         "[smtp_auth]\ndeny = [\"ceo\"]\n",
         {"desired.toml:5:9: error: 'deny[0]' is not a plausible mail address: \"ceo\""}},
        {"warn_days not an array",
         "[exceptions]\nwarn_days = 7\n",
         {"desired.toml:5:13: error: 'warn_days' must be an array of whole days, not an integer"}},
        {"warn_days entry out of range",
         "[exceptions]\nwarn_days = [7, -1]\n",
         {"desired.toml:5:17: error: 'warn_days' entries must be whole days from 0 to 3650"}},
        {"exceptions not an array of tables",
         "[smtp_auth]\nexception = \"scanner\"\n",
         {"desired.toml:5:13: error: 'exception' must be an array of tables ([[smtp_auth.exception]]), not a string"}},
        {"enum value not among the choices",
         "[smtp_auth]\nunlisted_overrides = \"undo\"\n",
         {"desired.toml:5:22: error: 'unlisted_overrides' must be one of revert, report, ignore; not \"undo\""}},
        {"missing required keys of an exception",
         "[[smtp_auth.exception]]\nticket = \"CHG1\"\n",
         {"desired.toml:4:1: error: missing required key 'mailbox' in [[smtp_auth.exception]]",
          "desired.toml:4:1: error: missing required key 'owner' in [[smtp_auth.exception]]",
          "desired.toml:4:1: error: missing required key 'reason' in [[smtp_auth.exception]]",
          "desired.toml:4:1: error: missing required key 'expires' in [[smtp_auth.exception]]"}},
        {"missing policy name",
         "[[authentication_policy]]\nallow_basic_auth_smtp = true\n",
         {"desired.toml:4:1: error: missing required key 'name' in [[authentication_policy]]"}},
        {"empty strings",
         "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"\"\nreason = \"\"\nexpires = 2027-03-31\n",
         {"desired.toml:6:9: error: 'owner' must not be empty",
          "desired.toml:7:10: error: 'reason' must not be empty"}},
        {"control character",
         "[[authentication_policy]]\nname = \"Block\\tBasic\"\n",
         {"desired.toml:5:8: error: 'name' contains a control character"}},
        {"mailbox and owner not plausible addresses",
         "[[smtp_auth.exception]]\nmailbox = \"scanner 3f@contoso.com\"\nowner = \"facilities-it\"\nreason = \"r\"\n"
         "expires = 2027-03-31\n",
         {"desired.toml:5:11: error: 'mailbox' is not a plausible mail address: \"scanner 3f@contoso.com\"",
          "desired.toml:6:9: error: 'owner' is not a plausible mail address: \"facilities-it\""}},
        {"local date-time without offset",
         "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"b@contoso.com\"\nreason = \"r\"\n"
         "expires = 2027-03-31T18:00:00\n",
         {"desired.toml:8:11: error: 'expires' is a local date-time without offset; add a UTC offset, e.g. Z"}},
        {"expiry quoted as a string",
         "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"b@contoso.com\"\nreason = \"r\"\n"
         "expires = \"2027-03-31T18:00:00+02:00\"\n",
         {"desired.toml:8:11: error: 'expires' must be a TOML date or date-time, written without quotes, e.g. "
          "expires = 2027-03-31T18:00:00+02:00"}},
        {"expiry as words",
         "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"b@contoso.com\"\nreason = \"r\"\n"
         "expires = \"next friday\"\n",
         {"desired.toml:8:11: error: 'expires' must be a TOML date or date-time, written without quotes, e.g. "
          "expires = 2027-03-31"}},
        {"expiry as a time of day",
         "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"b@contoso.com\"\nreason = \"r\"\n"
         "expires = 18:00:00\n",
         {"desired.toml:8:11: error: 'expires' must be a date or a date-time with a UTC offset, not a time"}},
        {"secret in [connection]",
         "[connection]\ncertificate_password = \"hunter2\"\n",
         {"desired.toml:5:24: error: 'certificate_password': secrets do not belong in the desired state; put the "
          "password in an environment variable and name it with certificate_password_env"}},
        {"plain http endpoint",
         "[connection]\nlogin_endpoint = \"http://login.example.test\"\n",
         {"desired.toml:5:18: error: 'login_endpoint' must be an https:// URL (TLS is always verified), not "
          "\"http://login.example.test\""}},
        {"app_id not a GUID",
         "[connection]\napp_id = \"authgate\"\n",
         {"desired.toml:5:10: error: 'app_id' must be the application (client) id, a GUID; not \"authgate\""}},
        {"password variable not a variable name",
         "[connection]\ncertificate_password_env = \"$PASSWORD\"\n",
         {"desired.toml:5:28: error: 'certificate_password_env' must name an environment variable (letters, digits, "
          "_), not \"$PASSWORD\""}},
        {"policy name over 64 characters",
         "[[authentication_policy]]\nname = \"" + std::string(65, 'p') + "\"\n",
         {"desired.toml:5:8: error: policy name is 65 characters long; Exchange allows at most 64"}},
    };
    for (const Row& row : rows) {
        INFO(row.what);
        CHECK(lines(load(row.body).diagnostics) == row.expected);
    }
}

TEST_CASE("top-level keys, the tenant, its version and its cloud are checked", "[loader]") {
    struct Row {
        const char* what;
        std::string text;
        std::vector<std::string> expected;
    };
    const std::vector<Row> rows{
        {"section not a table",
         "version = 1\nsmtp_auth = true\n" + tenant_header.substr(12),
         {"desired.toml:2:13: error: 'smtp_auth' must be a table ([smtp_auth]), not a boolean"}},
        {"policies not an array of tables",
         "version = 1\nauthentication_policy = \"Block\"\n" + tenant_header.substr(12),
         {"desired.toml:2:25: error: 'authentication_policy' must be an array of tables ([[authentication_policy]]), "
          "not a string"}},
        {"version 2",
         "version = 2\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n",
         {"desired.toml:1:11: error: unsupported version 2; this authgate reads version 1"}},
        {"version as a string",
         "version = \"1\"\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n",
         {"desired.toml:1:11: error: 'version' must be an integer, not a string"}},
        {"no version beside [tenant]",
         "[tenant]\nid = \"contoso.onmicrosoft.com\"\n",
         {"desired.toml:1:1: error: missing required key 'version' in the file with [tenant] (add version = 1)"}},
        {"no [tenant]",
         "version = 1\n",
         {"desired.toml:1:1: error: no [tenant] table: the desired state must name its tenant ([tenant] id = "
          "\"contoso.onmicrosoft.com\")"}},
        {"no [tenant], besides another error",
         "version = 1\n[smtp_auth]\norg_disabled = \"yes\"\n",
         {"desired.toml:1:1: error: no [tenant] table: the desired state must name its tenant ([tenant] id = "
          "\"contoso.onmicrosoft.com\")",
          "desired.toml:3:16: error: 'org_disabled' must be a boolean, not a string"}},
        {"tenant not a table",
         "version = 1\ntenant = \"contoso.onmicrosoft.com\"\n",
         {"desired.toml:2:10: error: 'tenant' must be a table ([tenant]), not a string"}},
        {"tenant without id",
         "version = 1\n[tenant]\ncloud = \"global\"\n",
         {"desired.toml:2:1: error: missing required key 'id' in [tenant]"}},
        {"tenant id not a tenant",
         "version = 1\n[tenant]\nid = \"contoso.com\"\n",
         {"desired.toml:3:6: error: 'id' must be the tenant GUID or its initial *.onmicrosoft.com domain, not "
          "\"contoso.com\""}},
        {"tenant id empty", "version = 1\n[tenant]\nid = \"\"\n", {"desired.toml:3:6: error: 'id' must not be empty"}},
        {"unknown cloud",
         "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\ncloud = \"gcc_high\"\n",
         {"desired.toml:4:9: error: 'cloud' must be one of global, gcc-high, dod, china; not \"gcc_high\""}},
    };
    for (const Row& row : rows) {
        INFO(row.what);
        CHECK(lines(load_desired_state_text("desired.toml", row.text).diagnostics) == row.expected);
    }
}

TEST_CASE("tenant ids: a GUID or an initial domain of each cloud", "[loader]") {
    for (const char* id : {"0b7c6f4e-1f2a-4c3d-9e8f-0123456789ab", "contoso.onmicrosoft.com", "Contoso.OnMicrosoft.com",
                           "contoso.onmicrosoft.us", "contoso.partner.onmschina.cn"}) {
        INFO(id);
        CHECK(load_desired_state_text("desired.toml", "version = 1\n[tenant]\nid = \"" + std::string(id) + "\"\n")
                  .diagnostics.empty());
    }
    for (const char* id : {"contoso.com", ".onmicrosoft.com", "0b7c6f4e-1f2a-4c3d-9e8f-0123456789a",
                           "0b7c6f4e_1f2a_4c3d_9e8f_0123456789ab", "onmicrosoft.com"}) {
        INFO(id);
        CHECK(load_desired_state_text("desired.toml", "version = 1\n[tenant]\nid = \"" + std::string(id) + "\"\n")
                  .diagnostics.error_count() == 1);
    }
}

TEST_CASE("every secret key in [connection] is refused, and only once", "[loader]") {
    for (const std::string key : {"certificate_password", "password", "client_secret", "private_key"}) {
        INFO(key);
        CHECK(lines(load("[connection]\n" + key + " = \"x\"\n").diagnostics) ==
              std::vector<std::string>{"desired.toml:5:" + std::to_string(key.size() + 4) + ": error: '" + key +
                                       "': secrets do not belong in the desired state; put the password in an "
                                       "environment variable and name it with certificate_password_env"});
    }
}

TEST_CASE("singular sections may be declared in one file only", "[loader]") {
    TempDir dir;
    dir.write("a.toml", tenant_header + "[exceptions]\nmax_days = 30\n[smtp_auth]\norg_disabled = true\n");
    dir.write("b.toml", "[tenant]\nid = \"fabrikam.onmicrosoft.com\"\n[exceptions]\nmax_days = 60\n[smtp_auth]\ndeny = "
                        "[\"ceo@contoso.com\"]\n");
    const LoadResult result = load_desired_state({dir.path()});
    CHECK(lines(result.diagnostics) ==
          std::vector<std::string>{
              dir / "b.toml:1:1: error: [tenant] is already declared in " +
                  dir / "a.toml:2:1; it may appear in one file only",
              dir / "b.toml:1:1: error: missing required key 'version' in the file with [tenant] (add version = 1)",
              dir / "b.toml:3:1: error: [exceptions] is already declared in " +
                  dir / "a.toml:4:1; it may appear in one file only",
              dir / "b.toml:5:1: error: [smtp_auth] settings (org_disabled, unlisted_overrides, deny, accept_cutoff) "
                    "are already "
                    "declared in " +
                  dir / "a.toml:6:1; only [[smtp_auth.exception]] may be split across files"});
    // The first declaration stands.
    CHECK(result.state.tenant->id == "contoso.onmicrosoft.com");
    CHECK(result.state.exception_settings.max_days == 30);
    CHECK(result.state.smtp_auth->deny.empty());
}

TEST_CASE("exceptions may be written under [smtp_auth] in many files", "[loader]") {
    TempDir dir;
    dir.write("tenant.toml", tenant_header + "[smtp_auth]\norg_disabled = true\n");
    dir.write("x/one.toml", "[smtp_auth]\n" + exception_for("one@contoso.com"));
    dir.write("x/two.toml", exception_for("two@contoso.com"));
    const LoadResult result = load_desired_state({dir.path()});
    REQUIRE(result.diagnostics.empty());
    CHECK(result.state.smtp_auth->exceptions.size() == 2);
}

TEST_CASE("version is 1 wherever it is given", "[loader]") {
    TempDir dir;
    dir.write("tenant.toml", tenant_header);
    dir.write("team.toml", "version = 2\n");
    dir.write("other.toml", exception_for("a@contoso.com"));  // no version needed without [tenant]
    CHECK(
        lines(load_desired_state({dir.path()}).diagnostics) ==
        std::vector<std::string>{dir / "team.toml:1:11: error: unsupported version 2; this authgate reads version 1"});
}

TEST_CASE("errors of several files are reported together, sorted by file and position", "[loader]") {
    TempDir dir;
    dir.write("tenant.toml", tenant_header + "cloud = \"Global\"\n");
    dir.write("b.toml", "[guardrails]\nmax_changes = -1\n");
    dir.write("a.toml", "[smtp_auth]\norg_disabled = 1\nunlisted_overrides = \"none\"\n");
    CHECK(lines(load_desired_state({dir.path()}).diagnostics) ==
          std::vector<std::string>{
              dir / "a.toml:2:16: error: 'org_disabled' must be a boolean, not an integer",
              dir / "a.toml:3:22: error: 'unlisted_overrides' must be one of revert, report, ignore; not \"none\"",
              dir / "b.toml:2:15: error: 'max_changes' must be from 0 to 1000000, not -1",
              dir / "tenant.toml:4:9: error: 'cloud' must be one of global, gcc-high, dod, china; not \"Global\""});
}

TEST_CASE("a syntax error in one file does not hide the others, nor invent a missing [tenant]", "[loader]") {
    TempDir dir;
    dir.write("tenant.toml", "version = 1\n[tenant\nid = \"contoso.onmicrosoft.com\"\n");
    dir.write("z.toml", "[guardrails]\nmax_changes = \"many\"\n");
    CHECK(
        lines(load_desired_state({dir.path()}).diagnostics) ==
        std::vector<std::string>{dir / "tenant.toml:2:8: error: invalid TOML in table header: expected ']', saw '\\n'",
                                 dir / "z.toml:2:15: error: 'max_changes' must be an integer, not a string"});
}

TEST_CASE("paths that are missing or hold no TOML are errors", "[loader]") {
    TempDir dir;
    dir.write("notes/README.md", "nothing to read");
    dir.write("notes/.hidden.toml", tenant_header);
    CHECK(lines(load_desired_state({dir / "missing.toml"}).diagnostics) ==
          std::vector<std::string>{dir / "missing.toml: error: no such file or directory"});
    CHECK(lines(load_desired_state({dir / "notes"}).diagnostics) ==
          std::vector<std::string>{dir / "notes: error: no *.toml files in this directory"});
}

TEST_CASE("notifications take an https webhook or the variable that holds it", "[loader]") {
    const DesiredState direct = loaded("[notifications]\nwebhook_url = \"https://hooks.example.com/x\"\n");
    CHECK(direct.notifications.webhook_url == std::optional<std::string>("https://hooks.example.com/x"));
    CHECK_FALSE(direct.notifications.webhook_url_env);
    const DesiredState from_env = loaded("[notifications]\nwebhook_url_env = \"AUTHGATE_WEBHOOK\"\n");
    CHECK(from_env.notifications.webhook_url_env == std::optional<std::string>("AUTHGATE_WEBHOOK"));
    CHECK_FALSE(loaded("").notifications.webhook_url);
    const auto problems =
        lines(load("[notifications]\nwebhook_url = \"http://hooks.example.com/x\"\nwebhook_url_env = \"NOT A NAME\"\n"
                   "webhook = \"x\"\n")
                  .diagnostics);
    REQUIRE(problems.size() == 3);
    CHECK_THAT(problems[0], Catch::EndsWith("'webhook_url' must be an https:// URL"));
    CHECK_THAT(problems[1],
               Catch::EndsWith(
                   "'webhook_url_env' must name an environment variable (letters, digits, _), not \"NOT A NAME\""));
    CHECK_THAT(problems[2], Catch::EndsWith("unknown key 'webhook' in [notifications]; did you mean 'webhook_url'?"));
}
