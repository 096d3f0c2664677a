#include <catch2/catch.hpp>

#include <sstream>

#include "agent/render.h"
#include "policies/loader.h"
#include "policies/planner.h"

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
    CHECK_THAT(report,
               Catch::Contains(
                   "lines were left out to keep this comment under 60,000 characters; the JSON plan has everything."));
    // The summary stays whole however much is cut.
    CHECK_THAT(report, Catch::Contains("**Plan: " + std::to_string(result.plan.change_count()) + " to change"));
    CHECK_THAT(report, Catch::Contains("| mailbox | unlisted_override | "));
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
    CHECK(report.find("left out") == std::string::npos);
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
    CHECK_THAT(report, Catch::Contains("| `a\\|b@contoso.com` |"));
    CHECK_THAT(report, Catch::Contains("| `line one\\nline two <script>` |"));
}
