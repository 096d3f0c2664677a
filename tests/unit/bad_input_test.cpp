// Broken and hostile desired states: deep nesting, huge values, invalid UTF-8, control
// characters, and names written to break out of PowerShell quoting. Each is an error naming
// file:line:column, or is accepted and then quoted so that it stays one value.
#include <catch2/catch.hpp>

#include "../fuzz/powershell_tokens.h"
#include "policies/loader.h"
#include "policies/planner.h"
#include "policies/validate.h"

using namespace authgate;

namespace {

const std::string tenant_header = "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n";

std::vector<std::string> errors_of(const std::string& text) {
    const LoadResult result = load_desired_state_text("desired.toml", text);
    std::vector<std::string> out;
    for (const auto& d : result.diagnostics.all()) out.push_back(format(d));
    return out;
}

std::string repeat(const std::string& part, int times) {
    std::string out;
    out.reserve(part.size() * static_cast<std::size_t>(times));
    for (int i = 0; i < times; ++i) out += part;
    return out;
}

const std::string too_deep =
    "nested more than 64 levels deep (tables, dotted keys, arrays); a desired state needs a few";

}  // namespace

TEST_CASE("deep nesting is an error at the level that goes too deep, never a crash", "[loader][bad-input]") {
    const auto [name, text, where] = GENERATE_COPY(table<std::string, std::string, std::string>({
        {"10,000 nested arrays",
         tenant_header + "[guardrails]\nprotected = " + repeat("[", 10000) + repeat("]", 10000) + "\n",
         "desired.toml:5:74"},
        {"10,000 nested inline tables",
         tenant_header + "x = " + repeat("{a = ", 10000) + "1" + repeat("}", 10000) + "\n", "desired.toml:4:160"},
        {"a table header of 10,000 parts", tenant_header + "[a" + repeat(".a", 10000) + "]\nx = 1\n",
         "desired.toml:4:129"},
        {"an array of tables of 100,000 parts", "[[a" + repeat(".a", 100000) + "]]\n", "desired.toml:1:130"},
        {"a dotted key of 100,000 parts", tenant_header + "a" + repeat(".a", 100000) + " = 1\n", "desired.toml:4:124"},
        {"quoted parts", tenant_header + "\"a\"" + repeat(".'a'", 100000) + " = 1\n", "desired.toml:4:248"},
        {"a header and a key that are deep together",
         tenant_header + "[a" + repeat(".a", 40) + "]\nb" + repeat(".b", 40) + " = 1\n", "desired.toml:5:44"},
    }));
    INFO(name);
    const std::vector<std::string> errors = errors_of(text);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == where + ": error: " + too_deep);
}

TEST_CASE("dots, brackets and quotes inside strings and comments are not nesting", "[loader][bad-input]") {
    const std::string deep = repeat("a.[{", 20000);
    const std::string text = tenant_header + "# " + deep +
                             "\n[notifications]\nwebhook_url = \"https://hooks.example.com/\\\"" + deep +
                             "\\\"\"\n[[smtp_auth.exception]]\nmailbox = \"scanner@contoso.com\"\n"
                             "owner = 'it@contoso.com' # " +
                             deep + "\nreason = \"\"\"\n\"\"" + deep +
                             "\"\"\"\"\"\n"
                             "ticket = '''\n''" +
                             deep + "'''\nexpires = 2026-12-01\n";
    const LoadResult result = load_desired_state_text("desired.toml", text);
    for (const auto& d : result.diagnostics.all()) INFO(format(d));
    REQUIRE_FALSE(result.diagnostics.has_errors());
    const Exception& exception = result.state.smtp_auth->exceptions.at(0);
    CHECK(exception.reason == "\"\"" + deep + "\"\"");
    CHECK(*exception.ticket == "''" + deep);
    CHECK(*result.state.notifications.webhook_url == "https://hooks.example.com/\"" + deep + "\"");
}

TEST_CASE("a 10 MB string is read, and quoted back cut short", "[loader][bad-input]") {
    const std::string huge(10 * 1024 * 1024, 'a');
    SECTION("as a reason it is just long") {
        const LoadResult result = load_desired_state_text(
            "desired.toml",
            tenant_header +
                "[[smtp_auth.exception]]\nmailbox = \"scanner@contoso.com\"\nowner = \"it@contoso.com\"\n"
                "reason = \"" +
                huge + "\"\nexpires = 2026-12-01\n");
        REQUIRE_FALSE(result.diagnostics.has_errors());
        CHECK(result.state.smtp_auth->exceptions.at(0).reason.size() == huge.size());
    }
    SECTION("as an address it is an error that does not print it") {
        CHECK(errors_of(tenant_header + "[smtp_auth]\ndeny = [\"" + huge + "\"]\n") ==
              std::vector<std::string>{"desired.toml:5:9: error: 'deny[0]' is not a plausible mail address: \"" +
                                       std::string(120, 'a') + "... (10485760 bytes)\""});
    }
    SECTION("as a key it is an error that does not print it") {
        CHECK(errors_of(tenant_header + huge + " = 1\n") ==
              std::vector<std::string>{"desired.toml:4:1: error: unknown key '" + std::string(120, 'a') +
                                       "... (10485760 bytes)' in [tenant]"});
    }
}

TEST_CASE("text that is not UTF-8 is an error at its first bad byte", "[loader][bad-input]") {
    const auto [name, text, error] = GENERATE_COPY(table<std::string, std::string, std::string>({
        {"in a string", tenant_header + "[notifications]\nwebhook_url_env = \"AUTH\xFFGATE\"\n",
         "5:24: error: not UTF-8 (byte 0xFF)"},
        {"Latin-1", tenant_header + "[organization]\ndefault_authentication_policy = \"Drucker f\xFCr Empfang\"\n",
         "5:43: error: not UTF-8 (byte 0xFC)"},
        {"a lone continuation byte", tenant_header + "[organization]\ndefault_authentication_policy = \"\x80\"\n",
         "5:34: error: not UTF-8 (byte 0x80)"},
        {"a cut sequence", tenant_header + "[organization]\ndefault_authentication_policy = \"\xE2\x80\"\n",
         "5:34: error: not UTF-8 (byte 0xE2)"},
        {"an overlong encoding", tenant_header + "[organization]\ndefault_authentication_policy = \"\xC0\xAF\"\n",
         "5:34: error: not UTF-8 (byte 0xC0)"},
        {"a surrogate", tenant_header + "# \xED\xA0\x80\n", "4:3: error: not UTF-8 (byte 0xED)"},
        {"past U+10FFFF", tenant_header + "# \xF4\x90\x80\x80\n", "4:3: error: not UTF-8 (byte 0xF4)"},
        {"in a key, after a character of three bytes", tenant_header + "k\xE2\x82\xACy\xFF = 1\n",
         "4:4: error: not UTF-8 (byte 0xFF)"},
    }));
    INFO(name);
    CHECK(errors_of(text) == std::vector<std::string>{"desired.toml:" + error + "; save the file as UTF-8"});
}

TEST_CASE("a UTF-16 file is named for what it is", "[loader][bad-input]") {
    CHECK(errors_of(std::string("\xFF\xFEv\0e\0r\0", 8)) ==
          std::vector<std::string>{
              "desired.toml:1:1: error: the file is UTF-16; save it as UTF-8 (in Windows PowerShell: "
              "Out-File -Encoding utf8)"});
}

TEST_CASE("control characters are refused, and never printed raw", "[loader][bad-input]") {
    const auto [name, body, error] = GENERATE(table<std::string, std::string, std::string>({
        {"escape in a policy name", "[[authentication_policy]]\nname = \"Block\\u001b[2J\"\n",
         "desired.toml:5:8: error: 'name' contains a control character"},
        {"newline in a policy name", "[[authentication_policy]]\nname = \"Block\\nRemove-Mailbox\"\n",
         "desired.toml:5:8: error: 'name' contains a control character"},
        {"NUL in a reason",
         "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"b@contoso.com\"\nreason = "
         "\"x\\u0000y\"\nexpires = 2026-12-01\n",
         "desired.toml:7:10: error: 'reason' contains a control character"},
        {"C1 CSI in an owner",
         "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"b\\u009b31m@contoso.com\"\nreason = "
         "\"x\"\nexpires = 2026-12-01\n",
         "desired.toml:6:9: error: 'owner' contains a control character"},
        {"escape in a deny address", "[smtp_auth]\ndeny = [\"\\u001b]0;pwned\\u0007@contoso.com\"]\n",
         "desired.toml:5:9: error: 'deny[0]' is not a plausible mail address: \"\\x1b]0;pwned\\x07@contoso.com\""},
        {"C1 CSI in a key", "[guardrails]\n\"max\\u009b2Jchanges\" = 1\n",
         "desired.toml:5:1: error: unknown key 'max\\u009b2Jchanges' in [guardrails]; did you mean 'max_changes'?"},
        {"escape in a key", "[guardrails]\n\"max\\u001b[1Achanges\" = 1\n",
         "desired.toml:5:1: error: unknown key 'max\\x1b[1Achanges' in [guardrails]; did you mean 'max_changes'?"},
        {"DEL in a policy reference", "[organization]\ndefault_authentication_policy = \"a\\u007fb\"\n",
         "desired.toml:5:33: error: 'default_authentication_policy' contains a control character"},
    }));
    INFO(name);
    CHECK(errors_of(tenant_header + body) == std::vector<std::string>{error});
}

TEST_CASE("bidirectional controls are refused where they would make text read otherwise", "[loader][bad-input]") {
    const auto [name, body, error] = GENERATE(table<std::string, std::string, std::string>({
        {"a right-to-left override in an owner",
         "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"it\u202e@moc.osotnoc\"\nreason = "
         "\"x\"\nexpires = 2026-12-01\n",
         "desired.toml:6:9: error: 'owner' contains the bidirectional control U+202E, which makes the text read "
         "differently from what it is; remove it"},
        {"an isolate in a reason",
         "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"b@contoso.com\"\nreason = \"ok "
         "\u2066x\u2069\"\nexpires = 2026-12-01\n",
         "desired.toml:7:10: error: 'reason' contains the bidirectional control U+2066, which makes the text read "
         "differently from what it is; remove it"},
        {"a right-to-left mark in a ticket",
         "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"b@contoso.com\"\nreason = \"x\"\nexpires = "
         "2026-12-01\nticket = \"CHG\u200f1\"\n",
         "desired.toml:9:10: error: 'ticket' contains the bidirectional control U+200F, which makes the text read "
         "differently from what it is; remove it"},
    }));
    INFO(name);
    CHECK(errors_of(tenant_header + body) == std::vector<std::string>{error});
    // Right-to-left text itself is welcome.
    CHECK(errors_of(tenant_header + "[[smtp_auth.exception]]\nmailbox = \"a@contoso.com\"\nowner = \"b@contoso.com\"\n"
                                    "reason = \"\u05de\u05d3\u05e4\u05e1\u05ea\"\nexpires = 2026-12-01\n")
              .empty());
}

TEST_CASE("100,000 exceptions load and validate, and a duplicate among them is found", "[loader][bad-input]") {
    std::string text = tenant_header + "[smtp_auth]\norg_disabled = true\n";
    text.reserve(text.size() + 100000 * 160);
    for (int i = 0; i < 100000; ++i)
        text += "[[smtp_auth.exception]]\nmailbox = \"device-" + std::to_string(i % 99999) +
                "@contoso.com\"\nowner = \"it@contoso.com\"\nreason = \"r\"\nticket = \"T\"\nreplacement = \"hve\"\n"
                "expires = 2026-12-31\n";
    const LoadResult loaded = load_desired_state_text("desired.toml", text);
    REQUIRE_FALSE(loaded.diagnostics.has_errors());
    CHECK(loaded.state.smtp_auth->exceptions.size() == 100000);
    const Diagnostics checked = validate(loaded.state, *parse_instant("2026-11-22T10:00:00Z"));
    REQUIRE(checked.error_count() == 1);
    CHECK(format(checked.all().front()) ==
          "desired.toml:699999:1: error: duplicate exception for mailbox 'device-0@contoso.com' (first declared at "
          "desired.toml:6:1)");
}

TEST_CASE("names that try to break out of PowerShell quoting stay one value", "[plan][bad-input][quoting]") {
    const auto [name, line] = GENERATE(table<std::string, std::string>({
        {"Block'; Remove-Mailbox -Identity * -Confirm:$false; '",
         "New-AuthenticationPolicy -Name 'Block''; Remove-Mailbox -Identity * -Confirm:$false; '''"},
        {"Block\xE2\x80\x99; iex $env:X; \xE2\x80\x98",
         "New-AuthenticationPolicy -Name 'Block\xE2\x80\x99\xE2\x80\x99; iex $env:X; \xE2\x80\x98\xE2\x80\x98'"},
        {"\xE2\x80\x9A\xE2\x80\x9B",
         "New-AuthenticationPolicy -Name '\xE2\x80\x9A\xE2\x80\x9A\xE2\x80\x9B\xE2\x80\x9B'"},
        {"$(Remove-Mailbox x) `n ; -or 1 -eq 1 \"q\"",
         "New-AuthenticationPolicy -Name '$(Remove-Mailbox x) `n ; -or 1 -eq 1 \"q\"'"},
    }));
    const std::string toml_name = [&] {  // as a TOML literal-free basic string
        std::string out;
        for (char c : name) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
        return out;
    }();
    const LoadResult loaded = load_desired_state_text(
        "desired.toml", tenant_header + "[[authentication_policy]]\nname = \"" + toml_name + "\"\n");
    REQUIRE_FALSE(loaded.diagnostics.has_errors());
    LiveState live{false, std::vector<Mailbox>{}, std::vector<LivePolicy>{}, OrganizationConfig{},
                   std::vector<LiveUser>{}};
    const PlanResult result = make_plan(loaded.state, live, *parse_instant("2026-11-22T10:00:00Z"));
    REQUIRE(result.plan.changes.size() == 1);
    const Cmdlet& cmdlet = result.plan.changes[0].cmdlet;
    CHECK(powershell_line(cmdlet) == line);
    const auto read = fuzz::read_powershell_line(powershell_line(cmdlet));
    REQUIRE(read);
    CHECK(read->parameters == cmdlet.parameters);
}

TEST_CASE("addresses that try to inject are not plausible addresses", "[loader][bad-input][quoting]") {
    for (const std::string address :
         {"x$(Remove-Mailbox)@contoso.com", "a;b@contoso.com", "a@contoso.com -or 1 -eq 1", "a@contoso.com'; iex x; '",
          "a\n@contoso.com", "a@contoso.com`n", "a b@contoso.com"})
        CHECK_FALSE(is_plausible_address(address));
    // Quotes and backticks are valid in the local part; they reach PowerShell only quoted.
    for (const std::string address : {"o'brien@contoso.com", "a`b@contoso.com", "{x}@contoso.com"})
        CHECK(is_plausible_address(address));
}
