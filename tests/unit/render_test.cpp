#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "agent/github.h"
#include "agent/json_output.h"
#include "agent/render.h"
#include "policies/loader.h"
#include "policies/planner.h"
#include "policies/printable.h"

using namespace authgate;

namespace {

std::string markdown_of(const Plan& plan) {
    std::ostringstream out;
    render_markdown(out, plan);
    return out.str();
}

}  // namespace

TEST_CASE("the pull-request report stays under 60,000 characters on a 100,000-mailbox tenant", "[render]") {
    const Instant now = *parse_instant("2026-11-22T10:00:00Z");
    std::string toml = "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n[smtp_auth]\norg_disabled = true\n"
                       "unlisted_overrides = \"revert\"\n";
    for (int i = 0; i < 300; ++i)  // exceptions of which some are missing: warnings too
        toml += "[[smtp_auth.exception]]\nmailbox = \"device-" + std::to_string(i * 7) +
                "@contoso.com\"\nowner = \"it@contoso.com\"\nreason = \"device\"\nexpires = 2026-12-01\n";
    LoadResult loaded = load_desired_state_text("big.toml", toml);
    REQUIRE_FALSE(loaded.diagnostics.has_errors());
    LiveState live;
    live.org_smtp_auth_disabled = false;
    live.mailboxes.emplace();
    live.mailboxes->reserve(100000);
    for (int i = 0; i < 100000; ++i) {
        std::optional<bool> value;
        if (i % 100 == 1) value = false;  // about 1% with an override
        live.mailboxes->push_back({"guid-" + std::to_string(i), "device-" + std::to_string(i),
                                   "oid-" + std::to_string(i), "device-" + std::to_string(i) + "@contoso.com", value});
    }
    live.policies.emplace();
    live.organization.emplace();
    live.users.emplace();
    const PlanResult result = make_plan(loaded.state, live, now);
    REQUIRE_FALSE(result.diagnostics.has_errors());
    REQUIRE(result.plan.changes.size() > 1000);

    const std::string report = markdown_of(result.plan);
    CHECK(report.size() < 60000);
    // The cut is said where it happens, with how much is shown, and where the rest is.
    std::size_t shown = 0;  // the rows of the changes' tables
    for (std::size_t at = report.find("\n| update | "); at != std::string::npos;
         at = report.find("\n| update | ", at + 1))
        ++shown;
    const std::size_t rows = result.plan.changes.size();
    REQUIRE(shown > 0);
    REQUIRE(shown < rows);
    CHECK_THAT(report, Catch::Contains("> **" + grouped(shown) + " of " + grouped(result.plan.changes.size()) +
                                       " changes shown**: the rest did not fit in a comment (60,000 characters). "
                                       "The full plan is the JSON plan"));
    // The summary stays whole however much is cut, with the guardrail apply will hold it to.
    CHECK_THAT(report, Catch::Contains("**Plan: " + std::to_string(result.plan.change_count()) + " to change"));
    CHECK_THAT(report, Catch::Contains("| Deny entries and reverts | mailbox | unlisted_override | "));
    CHECK_THAT(report, Catch::Contains("> **apply refuses this plan without `--allow-large`**: it has " +
                                       grouped(result.plan.change_count()) +
                                       " changes, more than `[guardrails] max_changes` = 100."));
}

TEST_CASE("a small report is not truncated", "[render]") {
    Plan plan;
    plan.tenant = "contoso.onmicrosoft.com";
    plan.changes.push_back({Resource::transport_config,
                            "organization",
                            "SmtpClientAuthenticationDisabled",
                            Action::update,
                            SettingValue{false},
                            SettingValue{true},
                            Reason::declared,
                            "[smtp_auth] org_disabled = true",
                            {"Set-TransportConfig", {{"SmtpClientAuthenticationDisabled", true}}},
                            std::nullopt});
    const std::string report = markdown_of(plan);
    CHECK(report.find(" shown**") == std::string::npos);
    CHECK(report.find("--allow-large") == std::string::npos);
    CHECK_THAT(report, Catch::Contains("Set-TransportConfig -SmtpClientAuthenticationDisabled $true"));
}

TEST_CASE("table cells cannot break the markdown table", "[render]") {
    Plan plan;
    plan.tenant = "contoso.onmicrosoft.com";
    plan.changes.push_back({Resource::mailbox,
                            "a|b@contoso.com",
                            "SmtpClientAuthenticationDisabled",
                            Action::update,
                            SettingValue{},
                            SettingValue{false},
                            Reason::exception_active,
                            "line one\nline two <script>",
                            {"Set-CASMailbox", {{"Identity", std::string("g")}}},
                            std::nullopt});
    const std::string report = markdown_of(plan);
    // Code spans: a pipe escaped for the table, a newline shown as \n, markup left as text.
    CHECK_THAT(report, Catch::Contains("| `a\\|b@contoso.com`<br>Identity `g` |"));
    CHECK_THAT(report, Catch::Contains("| `line one\\nline two <script>` |"));
}

TEST_CASE("each change shows the mailbox's name and identity and links the TOML line that causes it", "[render]") {
    Plan plan;
    plan.tenant = "contoso.onmicrosoft.com";
    Change change{.resource = Resource::mailbox,
                  .target = "scanner@contoso.com",
                  .attribute = "SmtpClientAuthenticationDisabled",
                  .after = SettingValue{false},
                  .reason = Reason::exception_active,
                  .detail = "exception until 2027-03-31",
                  .cmdlet = {"Set-CASMailbox", {{"Identity", std::string("9feb45ad-0000")}}},
                  .source = SourceLocation{"policies/it ops (1).toml", 12, 1},
                  .phase = Phase::grant,
                  .display_name = "Scanner `3F` | lobby"};
    plan.changes.push_back(change);
    SourceLinks links{"https://github.com/contoso/policies/blob/abc123", std::filesystem::current_path().string()};
    std::ostringstream out;
    render_markdown(out, plan, links);
    CHECK_THAT(out.str(), Catch::Contains("| `scanner@contoso.com` (``Scanner `3F` \\| lobby``)<br>Identity "
                                          "`9feb45ad-0000` |"));
    CHECK_THAT(out.str(), Catch::Contains("[`policies/it ops (1).toml:12`](https://github.com/contoso/policies/blob/"
                                          "abc123/policies/it%20ops%20%281%29.toml#L12) |"));
    // Without links, the place is plain text; a file outside the repository is never linked.
    CHECK_THAT(markdown_of(plan), Catch::Contains("| `policies/it ops (1).toml:12` |"));
    plan.changes[0].source = SourceLocation{"/elsewhere/x.toml", 3, 1};
    std::ostringstream outside;
    render_markdown(outside, plan, links);
    CHECK_THAT(outside.str(), Catch::Contains("| `/elsewhere/x.toml:3` |"));

    std::ostringstream text;
    render_text(text, plan);
    CHECK_THAT(text.str(), Catch::Contains("  ~ mailbox scanner@contoso.com \"Scanner `3F` | lobby\" [9feb45ad-0000]  "
                                           "SmtpClientAuthenticationDisabled: null -> false\n"));
    CHECK_THAT(text.str(), Catch::Contains("      from /elsewhere/x.toml:3\n"));
}

TEST_CASE("expiring lists exceptions still in force, expired ones have their own list", "[render]") {
    Plan plan;
    plan.tenant = "contoso.onmicrosoft.com";
    plan.exceptions.push_back(
        {Name("soon@contoso.com"), "it@contoso.com", "2026-11-29", ExceptionState::expiring, 7, {}});
    plan.exceptions.push_back(
        {Name("gone@contoso.com"), "it@contoso.com", "2026-10-31", ExceptionState::expired, -22, {}});
    plan.exceptions.push_back(
        {Name("later@contoso.com"), "it@contoso.com", "2027-05-01", ExceptionState::active, 160, {}});
    const std::string report = markdown_of(plan);
    const std::size_t expiring = report.find("Exceptions expiring within 30 days (1)");
    const std::size_t expired = report.find("Expired exceptions still listed (1)");
    REQUIRE(expiring != std::string::npos);
    REQUIRE(expired != std::string::npos);
    CHECK(report.find("`soon@contoso.com`") < expired);
    CHECK(report.find("`gone@contoso.com` | `it@contoso.com` | `2026-10-31` | 22 |") > expired);
    CHECK(report.find("later@contoso.com") == std::string::npos);
}

TEST_CASE("counts are pluralised and grouped", "[render]") {
    CHECK(counted(1, "change") == "1 change");
    CHECK(counted(0, "change") == "0 changes");
    CHECK(counted(4016, "change") == "4,016 changes");
    CHECK(counted(2, "entry", "entries") == "2 entries");
    CHECK(grouped(1234567) == "1,234,567");
    CHECK(grouped(999) == "999");
}

TEST_CASE("links come from --link-base or GitHub's variables, and only as plain https addresses", "[render]") {
    const auto restore = [](const char* name, const char* old) {
        if (old) ::setenv(name, old, 1);
        else ::unsetenv(name);
    };
    const char* names[] = {"GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_WORKSPACE"};
    std::vector<std::optional<std::string>> saved;
    for (const char* name : names)
        saved.push_back(std::getenv(name) ? std::optional<std::string>(std::getenv(name)) : std::nullopt);
    ::setenv("GITHUB_SERVER_URL", "https://github.com", 1);
    ::setenv("GITHUB_REPOSITORY", "contoso/policies", 1);
    ::setenv("GITHUB_SHA", "0123abcd", 1);
    ::setenv("GITHUB_WORKSPACE", "/work/checkout", 1);
    const po::variables_map none;
    SourceLinks links = source_links(none);
    CHECK(links.base == "https://github.com/contoso/policies/blob/0123abcd");
    CHECK(links.root == "/work/checkout");
    CHECK(links.url({"/work/checkout/policies/it.toml", 4, 1}) ==
          "https://github.com/contoso/policies/blob/0123abcd/policies/it.toml#L4");
    CHECK_FALSE(links.url({"/elsewhere/it.toml", 4, 1}));
    // Anything but a plain https:// address gives no links rather than a link that misleads.
    ::setenv("GITHUB_SERVER_URL", "javascript:alert(1)//", 1);
    CHECK(source_links(none).base.empty());
    ::setenv("GITHUB_SERVER_URL", "https://github.com/x) [y](https://evil.example", 1);
    CHECK(source_links(none).base.empty());
    ::unsetenv("GITHUB_SHA");
    CHECK(source_links(none).base.empty());
    for (std::size_t i = 0; i < saved.size(); ++i) restore(names[i], saved[i] ? saved[i]->c_str() : nullptr);
}

TEST_CASE("JSON strings are written byte for byte as cpprest writes them", "[render][json]") {
    std::vector<std::string> texts{"",
                                   "plain",
                                   "a \"quoted\" \\ path",
                                   "tab\tnew\nline\rfeed\fback\b",
                                   "caf\xc3\xa9 \xe2\x80\x8b \xf0\x9f\x98\x80",
                                   "\x7f del",
                                   "end\\"};
    for (int c = 0; c < 256; ++c) texts.push_back(std::string(1, static_cast<char>(c)) + "x");
    for (const std::string& text : texts) {
        std::string written;
        append_json_string(written, text);
        INFO(web::json::value::string(text).serialize());
        CHECK(written == web::json::value::string(text).serialize());
    }
    // Keys too, in a whole document.
    web::json::value document = web::json::value::object(true);
    document["k\"e\ny"] = web::json::value::string("v\x01");
    std::ostringstream out;
    write_json(out, document);
    CHECK(out.str() == "{\n  \"k\\\"e\\ny\": \"v\\u0001\"\n}\n");
}
