// The domain rules the commands ask the core: who can use SMTP AUTH, which warning an exception
// has crossed, what a reconcile mode makes, what apply holds back, when a saved plan is stale,
// the max_changes guardrail, and the name of every enum. Each as a table.
#include <catch2/catch.hpp>

#include "policies/access.h"
#include "policies/lifecycle.h"
#include "policies/planner.h"
#include "policies/readback.h"

using namespace authgate;

namespace {

const Instant now = *parse_instant("2026-11-22T10:00:00Z");

LiveState tenant(bool org_disabled, std::optional<bool> mailbox_disabled, std::optional<std::string> user_policy,
                 std::optional<std::string> default_policy) {
    LiveState live;
    live.org_smtp_auth_disabled = org_disabled;
    live.mailboxes = std::vector<Mailbox>{{"guid-1", "printer", "oid-1", "printer@contoso.com", mailbox_disabled}};
    LivePolicy allow{"Allow Basic SMTP", "Allow Basic SMTP", "guid-a", "CN=Allow", {}};
    allow.flags[smtp_flag] = true;
    LivePolicy block{"Block Basic", "Block Basic", "guid-b", "CN=Block", {}};
    live.policies = std::vector<LivePolicy>{allow, block};
    live.organization = OrganizationConfig{default_policy};
    live.users = std::vector<LiveUser>{};
    if (user_policy) live.users->push_back({"printer", "oid-1", "printer@contoso.com", user_policy});
    return live;
}

Change change(Resource resource, std::string target, std::string attribute, Phase phase,
              SettingValue after = SettingValue{true}) {
    Change made;
    made.resource = resource;
    made.target = std::move(target);
    made.attribute = std::move(attribute);
    made.phase = phase;
    made.after = std::move(after);
    return made;
}

}  // namespace

TEST_CASE("SMTP AUTH access follows the override, then the user's policy, then the default", "[rules]") {
    using P = std::optional<std::string>;
    struct Row {
        const char* name;
        bool org_disabled;
        std::optional<bool> mailbox_disabled;
        P user_policy, default_policy;
        bool smtp_auth, basic;
        const char* basic_why;
    };
    const Row rows[] = {
        {"inherits the org switch off", true, std::nullopt, P{}, P{}, false, false,
         "SMTP AUTH itself is off for this mailbox"},
        {"inherits the org switch on, no policy", false, std::nullopt, P{}, P{}, true, true,
         "no authentication policy applies (none assigned, no default), and none means not blocked"},
        {"override on despite the org", true, false, P{}, P{"Block Basic"}, true, false,
         "the organization's default policy 'Block Basic' has AllowBasicAuthSmtp = false"},
        {"the user's policy beats the default", true, false, P{"allow basic smtp"}, P{"Block Basic"}, true, true,
         "the user's authentication policy 'Allow Basic SMTP' has AllowBasicAuthSmtp = true"},
        {"override off despite a policy", false, true, P{"Allow Basic SMTP"}, P{}, false, false,
         "SMTP AUTH itself is off for this mailbox"},
        {"a policy the tenant does not list", false, std::nullopt, P{"Gone"}, P{}, true, false,
         "the user's authentication policy 'Gone' was not found among the tenant's policies"},
    };
    for (const Row& row : rows) {
        INFO(row.name);
        const LiveState live = tenant(row.org_disabled, row.mailbox_disabled, row.user_policy, row.default_policy);
        const LiveIndex index(live);
        const SmtpAuthAccess access = smtp_auth_access(live, index, live.mailboxes->front());
        CHECK(access.smtp_auth == row.smtp_auth);
        CHECK(access.basic == row.basic);
        CHECK(access.basic_why == row.basic_why);
        CHECK(access.user_policy == row.user_policy);
        CHECK(access.default_policy == row.default_policy);
    }
}

TEST_CASE("the warning crossed is the most urgent warn_days threshold passed", "[rules]") {
    struct Row {
        const char* name;
        std::chrono::hours before_expiry;
        std::optional<int> threshold;
    };
    const Row rows[] = {
        {"a month out", std::chrono::hours(24 * 30), std::nullopt},
        {"just inside 14 days", std::chrono::hours(24 * 14 - 1), 14},
        {"exactly 14 days", std::chrono::hours(24 * 14), 14},
        {"eight days", std::chrono::hours(24 * 8), 14},
        {"six days: 7 passed too", std::chrono::hours(24 * 6), 7},
        {"hours left", std::chrono::hours(5), 1},
        {"expired", std::chrono::hours(-1), std::nullopt},
    };
    ExceptionSettings settings;  // warn_days 14, 7, 1
    for (const Row& row : rows) {
        INFO(row.name);
        Exception exception;
        exception.expires = now + row.before_expiry;
        CHECK(crossed_threshold(exception, settings, now) == row.threshold);
    }
}

TEST_CASE("a reconcile mode makes all changes, only expiry reverts, or none", "[rules]") {
    Change expired = change(Resource::mailbox, "a@contoso.com", "SmtpClientAuthenticationDisabled", Phase::enforce);
    expired.reason = Reason::exception_expired;
    Change declared = change(Resource::transport_config, "organization", "SmtpClientAuthenticationDisabled",
                             Phase::org_switch);
    Change report = expired;
    report.action = Action::report;
    struct Row {
        ReconcileMode mode;
        bool expired, declared, report;
    };
    const Row rows[] = {{ReconcileMode::enforce, true, true, false},
                        {ReconcileMode::expiry, true, false, false},
                        {ReconcileMode::report, false, false, false}};
    for (const Row& row : rows) {
        INFO(to_string(row.mode));
        CHECK(makes(row.mode, expired) == row.expired);
        CHECK(makes(row.mode, declared) == row.declared);
        CHECK(makes(row.mode, report) == row.report);
    }
}

TEST_CASE("apply holds back what depends on a change that failed", "[rules]") {
    const Change grant = change(Resource::mailbox, "printer@contoso.com", "SmtpClientAuthenticationDisabled",
                                Phase::grant, SettingValue{false});
    const Change org_off = change(Resource::transport_config, "organization", "SmtpClientAuthenticationDisabled",
                                  Phase::org_switch);
    Change revert = change(Resource::mailbox, "old@contoso.com", "SmtpClientAuthenticationDisabled", Phase::enforce,
                           SettingValue{});
    revert.requires_org_disabled = true;
    const Change policy = change(Resource::user, "Kiosk@contoso.com", "AuthenticationPolicy", Phase::enforce,
                                 SettingValue{});
    const Change revoke = change(Resource::user, "kiosk@contoso.com", "STSRefreshTokensValidFrom", Phase::enforce,
                                 SettingValue{std::string("now")});

    SECTION("nothing failed: the revert still waits for the org switch") {
        ChangeDependencies dependencies;
        CHECK_FALSE(dependencies.held_back(org_off));
        CHECK(dependencies.held_back(revert) ==
              std::string("the organization switch is still on, and inherit would enable SMTP AUTH"));
        dependencies.settled(org_off, true);
        CHECK_FALSE(dependencies.held_back(revert));
    }
    SECTION("a failed grant holds back enforcement, not other grants") {
        ChangeDependencies dependencies;
        dependencies.settled(grant, false);
        CHECK(dependencies.held_back(org_off) ==
              std::string("the exception grant for printer@contoso.com failed, and enforcing now would break it"));
        CHECK_FALSE(dependencies.held_back(grant));
    }
    SECTION("a failed policy removal holds back its revocation, whatever the case of the address") {
        ChangeDependencies dependencies;
        dependencies.settled(policy, false);
        CHECK(dependencies.held_back(revoke) == std::string("the policy change before it failed"));
    }
}

TEST_CASE("a saved plan is stale where the tenant no longer holds what it saw", "[rules]") {
    const LiveState live = tenant(false, true, std::nullopt, std::nullopt);
    Plan saved;
    Change mailbox = change(Resource::mailbox, "PRINTER@contoso.com", "SmtpClientAuthenticationDisabled", Phase::grant,
                            SettingValue{false});
    mailbox.before = SettingValue{};  // the plan saw inherit; the tenant now holds true
    Change org = change(Resource::transport_config, "organization", "SmtpClientAuthenticationDisabled",
                        Phase::org_switch);
    org.before = SettingValue{false};  // as the tenant holds it
    saved.changes = {mailbox, org};
    const std::vector<StaleValue> stale = stale_values(saved, saved, live);
    REQUIRE(stale.size() == 1);
    CHECK(stale[0].change == &saved.changes[0]);
    CHECK(stale[0].now == SettingValue{true});
}

TEST_CASE("max_changes refuses more changes than it allows, and names both", "[rules]") {
    Guardrails guardrails;
    guardrails.max_changes = 3;
    CHECK_FALSE(exceeds_max_changes(3, guardrails));
    CHECK(exceeds_max_changes(4, guardrails) ==
          std::string("the plan has 4 changes, more than [guardrails] max_changes = 3"));
    guardrails.max_changes = 0;
    CHECK(exceeds_max_changes(1, guardrails));
}

TEMPLATE_TEST_CASE("every enum name reads back as the same value, and no other name does", "[rules]", Resource, Action,
                   Reason, ExceptionState, ChangeStatus, ReconcileMode, Cloud, UnlistedOverrides, Replacement,
                   MissingMailbox) {
    for (const auto& [value, name] : EnumNames<TestType>::table) {
        CHECK(to_string(value) == name);
        CHECK(parse_name<TestType>(name) == value);
    }
    CHECK_FALSE(parse_name<TestType>("no-such-name"));
}

TEST_CASE("a list of names reads as people write it", "[rules]") {
    CHECK(name_list<ReconcileMode>() == "enforce, expiry or report");
    CHECK(name_list<MissingMailbox>() == "warn or error");
}
