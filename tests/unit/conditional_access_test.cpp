// Entra's layer of SMTP AUTH: each Conditional Access policy against one user's membership, and
// security defaults with the policies together. Each as a table.
#include <catch2/catch.hpp>

#include "policies/conditional_access.h"

using namespace authgate;

namespace {

const std::string user = "1a2b3c4d-0000-4000-8000-000000000001";
const std::string group = "9f000000-0000-4000-8000-00000000000a";
const std::string nested_group = "9f000000-0000-4000-8000-00000000000b";
const std::string role = "29232cdf-9323-42fd-ade2-1d097af3e4de";  // Exchange Administrator's template

ConditionalAccessPolicy block_legacy() {
    ConditionalAccessPolicy policy;
    policy.id = "p1";
    policy.display_name = "Block legacy authentication";
    policy.state = PolicyState::enabled;
    policy.client_app_types = {"exchangeActiveSync", "other"};
    policy.include_users = {"All"};
    policy.include_applications = {"All"};
    policy.grant_controls = {"block"};
    return policy;
}

DirectoryMembership member_of(std::set<std::string> groups, std::set<std::string> roles = {}) {
    return {std::move(groups), std::move(roles), ""};
}

const DirectoryMembership unread{std::nullopt, std::nullopt, "HTTP 403 Authorization_RequestDenied"};

}  // namespace

TEST_CASE("a Conditional Access policy judged against one user's Basic SMTP sign-in", "[unit][conditional-access]") {
    struct Row {
        const char* name;
        std::function<void(ConditionalAccessPolicy&)> edit;
        DirectoryMembership membership;
        PolicyVerdict expected;
        const char* why_contains;
    };
    const std::vector<Row> rows = {
        {"all users, all apps, other clients", [](auto&) {}, member_of({}), PolicyVerdict::blocks, "all users"},
        {"disabled", [](auto& p) { p.state = PolicyState::disabled; }, member_of({}), PolicyVerdict::not_concerned,
         "disabled"},
        {"report-only", [](auto& p) { p.state = PolicyState::report_only; }, member_of({}), PolicyVerdict::report_only,
         "only reports"},
        {"only Exchange ActiveSync", [](auto& p) { p.client_app_types = {"exchangeActiveSync"}; }, member_of({}),
         PolicyVerdict::not_concerned, "legacy clients"},
        {"client app types all", [](auto& p) { p.client_app_types = {"all"}; }, member_of({}), PolicyVerdict::blocks,
         "all users"},
        {"Exchange Online by app id", [](auto& p) { p.include_applications = {std::string(exchange_online_app_id)}; },
         member_of({}), PolicyVerdict::blocks, ""},
        {"the Office365 app group", [](auto& p) { p.include_applications = {"Office365"}; }, member_of({}),
         PolicyVerdict::blocks, ""},
        {"another application only", [](auto& p) { p.include_applications = {"797f4846-ba00-4fd7-ba43-dac1f8f63013"}; },
         member_of({}), PolicyVerdict::not_concerned, ""},
        {"all apps but Exchange excluded",
         [](auto& p) { p.exclude_applications = {std::string(exchange_online_app_id)}; }, member_of({}),
         PolicyVerdict::not_concerned, ""},
        {"MFA for other clients", [](auto& p) { p.grant_controls = {"mfa"}; }, member_of({}), PolicyVerdict::blocks,
         "cannot give"},
        {"no grant control", [](auto& p) { p.grant_controls = {}; }, member_of({}), PolicyVerdict::not_concerned, ""},
        {"includes the user by id", [](auto& p) { p.include_users = {user}; }, unread, PolicyVerdict::blocks,
         "by name"},
        {"includes nobody", [](auto& p) { p.include_users = {"None"}; }, member_of({}), PolicyVerdict::not_included,
         ""},
        {"excludes the user by id", [](auto& p) { p.exclude_users = {user}; }, member_of({}), PolicyVerdict::excluded,
         "excludeUsers"},
        {"excludes a group the user is in", [](auto& p) { p.exclude_groups = {group}; }, member_of({group}),
         PolicyVerdict::excluded, group.c_str()},
        {"excludes a group the user is not in", [](auto& p) { p.exclude_groups = {group}; }, member_of({nested_group}),
         PolicyVerdict::blocks, "no exclusion matches"},
        {"excludes a group, membership not read", [](auto& p) { p.exclude_groups = {group}; }, unread,
         PolicyVerdict::unknown, "not read"},
        {"includes a group the user is in through another",
         [](auto& p) {
             p.include_users = {};
             p.include_groups = {group};
         },
         member_of({group, nested_group}), PolicyVerdict::blocks, "of which the user is a member"},
        {"includes a group the user is not in",
         [](auto& p) {
             p.include_users = {};
             p.include_groups = {group};
         },
         member_of({nested_group}), PolicyVerdict::not_included, ""},
        {"includes a group, membership not read",
         [](auto& p) {
             p.include_users = {};
             p.include_groups = {group};
         },
         unread, PolicyVerdict::unknown, "Authorization_RequestDenied"},
        {"includes a role the user holds",
         [](auto& p) {
             p.include_users = {};
             p.include_roles = {role};
         },
         member_of({}, {role}), PolicyVerdict::blocks, "role"},
        {"excludes a role the user holds", [](auto& p) { p.exclude_roles = {role}; }, member_of({}, {role}),
         PolicyVerdict::excluded, "role"},
        {"a named location", [](auto& p) { p.sign_in_conditions = {"locations"}; }, member_of({}),
         PolicyVerdict::depends, "where it signs in from"},
        {"a device filter", [](auto& p) { p.sign_in_conditions = {"devices"}; }, member_of({}), PolicyVerdict::depends,
         "the sign-in"},
        {"a named location, but the user is excluded",
         [](auto& p) {
             p.sign_in_conditions = {"locations"};
             p.exclude_users = {user};
         },
         member_of({}), PolicyVerdict::excluded, ""},
    };
    for (const Row& row : rows) {
        SECTION(row.name) {
            ConditionalAccessPolicy policy = block_legacy();
            row.edit(policy);
            const PolicyJudgement judged = judge_policy(policy, SmtpAuthKind::basic, user, row.membership);
            INFO(judged.why);
            CHECK(judged.verdict == row.expected);
            CHECK_THAT(judged.why, Catch::Contains(row.why_contains));
        }
    }
}

TEST_CASE("an OAuth SMTP sign-in is refused only by a block of modern clients", "[unit][conditional-access]") {
    struct Row {
        std::vector<std::string> client_app_types;
        std::vector<std::string> grant_controls;
        PolicyVerdict expected;
    };
    const std::vector<Row> rows = {
        {{"exchangeActiveSync", "other"}, {"block"}, PolicyVerdict::not_concerned},
        {{"mobileAppsAndDesktopClients"}, {"block"}, PolicyVerdict::blocks},
        {{"all"}, {"block"}, PolicyVerdict::blocks},
        {{"all"}, {"mfa"}, PolicyVerdict::not_concerned},
    };
    for (const Row& row : rows) {
        ConditionalAccessPolicy policy = block_legacy();
        policy.client_app_types = row.client_app_types;
        policy.grant_controls = row.grant_controls;
        CHECK(judge_policy(policy, SmtpAuthKind::oauth, user, member_of({})).verdict == row.expected);
    }
}

TEST_CASE("Entra's answer: security defaults and every policy together, unknown never read as allowed",
          "[unit][conditional-access]") {
    ConditionalAccessPolicy excluding = block_legacy();
    excluding.exclude_groups = {group};
    ConditionalAccessPolicy located = block_legacy();
    located.sign_in_conditions = {"locations"};
    ConditionalAccessPolicy reporting = block_legacy();
    reporting.state = PolicyState::report_only;
    struct Row {
        const char* name;
        EntraPolicies entra;
        DirectoryMembership membership;
        EntraOutcome basic;
        EntraOutcome oauth;
    };
    const std::vector<Row> rows = {
        {"security defaults on",
         {true, "", std::vector<ConditionalAccessPolicy>{}, ""},
         member_of({}),
         EntraOutcome::refuses,
         EntraOutcome::allows},
        {"nothing blocks",
         {false, "", std::vector<ConditionalAccessPolicy>{}, ""},
         member_of({}),
         EntraOutcome::allows,
         EntraOutcome::allows},
        {"security defaults not read",
         {std::nullopt, "HTTP 403", std::vector<ConditionalAccessPolicy>{}, ""},
         member_of({}),
         EntraOutcome::unknown,
         EntraOutcome::allows},
        {"policies not read (no licence)",
         {false, "", std::nullopt, "no P1"},
         member_of({}),
         EntraOutcome::unknown,
         EntraOutcome::unknown},
        {"policies not read, but security defaults refuse anyway",
         {true, "", std::nullopt, "HTTP 403"},
         member_of({}),
         EntraOutcome::refuses,
         EntraOutcome::unknown},
        {"blocking policy, user excluded through its group",
         {false, "", std::vector{excluding}, ""},
         member_of({group}),
         EntraOutcome::allows,
         EntraOutcome::allows},
        {"blocking policy, user not in the excluded group",
         {false, "", std::vector{excluding}, ""},
         member_of({nested_group}),
         EntraOutcome::refuses,
         EntraOutcome::allows},
        {"blocking policy with a named location",
         {false, "", std::vector{located}, ""},
         member_of({}),
         EntraOutcome::depends,
         EntraOutcome::allows},
        {"report-only policy",
         {false, "", std::vector{reporting}, ""},
         member_of({}),
         EntraOutcome::allows,
         EntraOutcome::allows},
        {"membership unknown",
         {false, "", std::vector{excluding}, ""},
         unread,
         EntraOutcome::unknown,
         EntraOutcome::allows},
    };
    for (const Row& row : rows) {
        SECTION(row.name) {
            const EntraAnswer basic = entra_answer(row.entra, SmtpAuthKind::basic, user, row.membership);
            const EntraAnswer oauth = entra_answer(row.entra, SmtpAuthKind::oauth, user, row.membership);
            CHECK(basic.outcome == row.basic);
            CHECK(oauth.outcome == row.oauth);
            CHECK_FALSE(basic.reasons.empty());
        }
    }
}

TEST_CASE("doctor counts the enabled policies that refuse Basic SMTP", "[unit][conditional-access]") {
    ConditionalAccessPolicy reporting = block_legacy();
    reporting.state = PolicyState::report_only;
    ConditionalAccessPolicy active_sync = block_legacy();
    active_sync.client_app_types = {"exchangeActiveSync"};
    CHECK(legacy_blocking_policies({block_legacy(), reporting, active_sync, block_legacy()}) == 2);
    CHECK(exclusion_advice(block_legacy(), user) ==
          "exclude the user (" + user +
              ") from Conditional Access policy 'Block legacy authentication' (conditions.users.excludeUsers, or a "
              "group of its own in excludeGroups)");
}

TEST_CASE("the warnings of basic_auth exceptions Entra refuses, on the exception's line",
          "[unit][conditional-access]") {
    LiveState live;
    live.mailboxes = std::vector<Mailbox>{{"guid-1", "printer", user, "printer@contoso.com", std::nullopt}};
    DesiredState desired;
    desired.smtp_auth = SmtpAuth{};
    Exception exception;
    exception.mailbox = Name("printer@contoso.com");
    exception.basic_auth = true;
    exception.expires = *parse_instant("2027-01-01T00:00:00Z");
    exception.source = {"exceptions/printers.toml", 3, 1};
    desired.smtp_auth->exceptions.push_back(exception);
    const Instant now = *parse_instant("2026-11-22T10:00:00Z");
    const auto codes = [&](const EntraPolicies& entra, const EntraMemberships& memberships = {}) {
        Diagnostics warnings;
        warn_entra_blocks(desired, live, entra, memberships, now, warnings);
        std::vector<std::string> found;
        for (const Diagnostic& warning : warnings.all()) {
            CHECK(warning.source.line == 3);
            found.push_back(warning.code);
        }
        return found;
    };
    ConditionalAccessPolicy excluding = block_legacy();
    excluding.exclude_groups = {group};
    ConditionalAccessPolicy reporting = block_legacy();
    reporting.state = PolicyState::report_only;
    using Codes = std::vector<std::string>;
    CHECK(codes({false, "", std::vector<ConditionalAccessPolicy>{}, ""}).empty());
    CHECK(codes({true, "", std::vector<ConditionalAccessPolicy>{}, ""}) == Codes{"exception_blocked_by_entra"});
    CHECK(codes({false, "", std::vector{block_legacy()}, ""}) == Codes{"exception_blocked_by_entra"});
    CHECK(codes({false, "", std::vector{reporting}, ""}) == Codes{"exception_report_only_block"});
    CHECK(codes({std::nullopt, "403", std::nullopt, "403"}) == Codes{"entra_unread", "entra_unread"});
    CHECK(codes({false, "", std::vector{excluding}, ""}) == Codes{"entra_unread"});
    EntraMemberships in_group;
    in_group.by_user.emplace_back(user, member_of({group}));
    CHECK(codes({false, "", std::vector{excluding}, ""}, in_group).empty());
    desired.smtp_auth->exceptions.front().expires = now;  // expired: no longer in force
    CHECK(codes({true, "", std::vector{block_legacy()}, ""}).empty());
}
