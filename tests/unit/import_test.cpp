#include <catch2/catch.hpp>

#include "agent/import.h"
#include "connectors/snapshot.h"
#include "policies/loader.h"
#include "policies/planner.h"
#include "policies/validate.h"

using namespace authgate;

TEST_CASE("an imported desired state plans no change against the tenant it came from", "[import]") {
    const Instant now = *parse_instant("2026-11-22T10:00:00Z");
    const std::string path = std::string(AUTHGATE_SOURCE_DIR) + "/examples/contoso/live.json";
    const LiveState live = SnapshotConnector(path).read_live_state();
    const std::string text = import_desired_state(live, {"contoso.onmicrosoft.com", Cloud::global, now, 30});

    LoadResult loaded = load_desired_state_text("imported.toml", text);
    for (const auto& d : loaded.diagnostics.all()) INFO(format(d));
    REQUIRE_FALSE(loaded.diagnostics.has_errors());
    const Diagnostics checks = validate(loaded.state, now);
    CHECK_FALSE(checks.has_errors());
    // Every imported exception is flagged until someone owns it.
    const auto warnings = checks.warnings();
    CHECK(std::count_if(warnings.begin(), warnings.end(),
                        [](const Diagnostic& d) { return d.code == "exception_without_owner"; }) == 7);

    const PlanResult plan = make_plan(loaded.state, live, now);
    REQUIRE_FALSE(plan.diagnostics.has_errors());
    CHECK(plan.plan.change_count() == 0);
    // Nothing to report either: a user on the basic-auth policy whose mailbox inherits SMTP AUTH from
    // the organization is imported as a basic_auth exception, which needs no override while it is on.
    CHECK(plan.plan.report_count() == 0);
    CHECK_THAT(text, Catch::Contains("mailbox = \"sales-bot@contoso.com\"\nowner = \"unknown\""));

    CHECK_THAT(text, Catch::Contains("deny = [\n  \"hr-payroll@contoso.com\",\n]\n"));
    CHECK_THAT(text, Catch::Contains("mailbox = \"legacy-erp@contoso.com\"\nowner = \"unknown\""));
    CHECK_THAT(text, Catch::Contains("expires = 2026-12-22\nbasic_auth = true"));
    CHECK_THAT(text, Catch::Contains(
                         "[[authentication_policy]]\nname = \"Block Basic Auth\"\nallow_basic_auth_imap = true\n"));
    CHECK_THAT(text, Catch::Contains("[organization]\ndefault_authentication_policy = \"\"\n"));
}

TEST_CASE("import quotes names so that no address or policy name can break out of its string", "[import]") {
    LiveState live;
    live.org_smtp_auth_disabled = true;
    live.mailboxes = std::vector<Mailbox>{{"g1", "x", "o1", "o'brien@contoso.com", false}};
    live.policies = std::vector<LivePolicy>{{"Quote \" and \\ back", "Quote", "g", "CN=q", {}}};
    live.organization = OrganizationConfig{};
    live.users = std::vector<LiveUser>{};
    const std::string text =
        import_desired_state(live, {"contoso.onmicrosoft.com", Cloud::global, *parse_instant("2026-11-22"), 30});
    LoadResult loaded = load_desired_state_text("imported.toml", text);
    REQUIRE_FALSE(loaded.diagnostics.has_errors());
    REQUIRE(loaded.state.policies.size() == 1);
    CHECK(loaded.state.policies[0].name == "Quote \" and \\ back");
    CHECK(loaded.state.smtp_auth->exceptions.at(0).mailbox == "o'brien@contoso.com");
}

TEST_CASE("import's comments hold tenant text inert: a newline in a policy name writes no TOML line",
          "[import][safety]") {
    LiveState live;
    live.org_smtp_auth_disabled = true;
    live.mailboxes = std::vector<Mailbox>{{"g1", "x", "o1", "printer@contoso.com", false}};
    // The policy that allows Basic SMTP, named to end the comment and write a setting of its own.
    const std::string name = "Allow SMTP\norg_disabled = false";
    BasicAuthFlags flags{};
    for (std::size_t i = 0; i < flags.size(); ++i)
        if (basic_auth_flags[i].exchange_name == std::string_view("AllowBasicAuthSmtp")) flags[i] = true;
    live.policies = std::vector<LivePolicy>{{name, name, "g", "CN=p", flags}};
    live.organization = OrganizationConfig{};
    live.users = std::vector<LiveUser>{{"x", "o1", "printer@contoso.com", name}};
    const std::string text =
        import_desired_state(live, {"contoso.onmicrosoft.com", Cloud::global, *parse_instant("2026-11-22"), 30});
    INFO(text);
    CHECK(text.find("\norg_disabled = false") == std::string::npos);
    CHECK_THAT(text, Catch::Contains("# its user is on Allow SMTP\\norg_disabled = false\n"));
    // Such a name cannot be declared: the file is refused for it, never read as another setting.
    LoadResult loaded = load_desired_state_text("imported.toml", text);
    std::string errors;
    for (const auto& d : loaded.diagnostics.all()) errors += format(d) + "\n";
    CHECK_THAT(errors, Catch::Contains("contains a control character"));
    CHECK_THAT(errors, !Catch::Contains("org_disabled"));
}

TEST_CASE("an import with a long --exception-days validates, and names the connection it used", "[import]") {
    const Instant now = *parse_instant("2026-11-22T10:00:00Z");
    const std::string path = std::string(AUTHGATE_SOURCE_DIR) + "/examples/contoso/live.json";
    const LiveState live = SnapshotConnector(path).read_live_state();
    for (int days : {1, 179, 180, 365, 3649}) {
        ImportOptions options{"contoso.onmicrosoft.com", Cloud::global, now, days};
        options.connection = {{"app_id", "6f1c0e2a-0000-4000-8000-000000000001"}, {"credential", "certificate"}};
        const std::string text = import_desired_state(live, options);
        const LoadResult loaded = load_desired_state_text("imported.toml", text);
        INFO(days);
        CHECK_FALSE(loaded.diagnostics.has_errors());
        CHECK_FALSE(validate(loaded.state, now).has_errors());
        CHECK(loaded.state.connection.app_id == "6f1c0e2a-0000-4000-8000-000000000001");
        CHECK(loaded.state.exception_settings.max_days == imported_max_days(days));
    }
}
