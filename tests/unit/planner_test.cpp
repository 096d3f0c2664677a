// The planner's rules, as tables: desired x live x now -> changes.
#include <catch2/catch.hpp>

#include "policies/loader.h"
#include "policies/planner.h"

using namespace authgate;

namespace {

const Instant now = *parse_instant("2026-11-22T10:00:00Z");

DesiredState desired(const std::string& body) {
    LoadResult loaded = load_desired_state_text("desired.toml",
                                                "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n" + body);
    for (const auto& d : loaded.diagnostics.all()) INFO(format(d));
    REQUIRE_FALSE(loaded.diagnostics.has_errors());
    return loaded.state;
}

Mailbox mailbox(const std::string& alias, std::optional<bool> disabled) {
    return {"guid-" + alias, alias, "oid-" + alias, alias + "@contoso.com", disabled};
}

LivePolicy live_policy(const std::string& name, bool smtp = false) {
    LivePolicy policy{name, name, "guid-" + name, "CN=" + name, {}};
    policy.flags[smtp_flag] = smtp;
    return policy;
}

LiveUser user(const std::string& alias, std::optional<std::string> policy) {
    return {alias, "oid-" + alias, alias + "@contoso.com", std::move(policy)};
}

LiveState live(bool org_disabled, std::vector<Mailbox> mailboxes) {
    LiveState state;
    state.org_smtp_auth_disabled = org_disabled;
    state.mailboxes = std::move(mailboxes);
    state.policies = std::vector<LivePolicy>{};
    state.organization = OrganizationConfig{};
    state.users = std::vector<LiveUser>{};
    return state;
}

Plan plan_of(const DesiredState& d, const LiveState& l) {
    PlanResult result = make_plan(d, l, now);
    for (const auto& diagnostic : result.diagnostics.all()) INFO(format(diagnostic));
    REQUIRE_FALSE(result.diagnostics.has_errors());
    return result.plan;
}

std::vector<const Change*> changes_for(const Plan& plan, std::string_view target, std::string_view attribute) {
    std::vector<const Change*> found;
    for (const Change& change : plan.changes)
        if (change.target == target && change.attribute == attribute) found.push_back(&change);
    return found;
}

std::string exception_toml(const std::string& alias, const std::string& expires, bool basic_auth = false) {
    return "[[smtp_auth.exception]]\nmailbox = \"" + alias +
           "@contoso.com\"\nowner = \"owner@contoso.com\"\n"
           "reason = \"device\"\nexpires = " +
           expires + "\nticket = \"CHG1\"\nreplacement = \"oauth\"\n" + (basic_auth ? "basic_auth = true\n" : "");
}

bool has_warning(const Plan& plan, std::string_view code) {
    return std::any_of(plan.warnings.begin(), plan.warnings.end(), [&](const Diagnostic& d) { return d.code == code; });
}

}  // namespace

TEST_CASE("mailbox overrides follow the rules of the desired state", "[planner]") {
    enum class Listing { active, expiring, expired, deny, unlisted };
    struct Row {
        const char* name;
        const char* settings;  // [smtp_auth] keys
        bool live_org_disabled;
        Listing listing;
        std::optional<bool> live_value;
        std::optional<Action> action;  // nullopt: no change
        std::optional<bool> after;
        Reason reason;
    };
    const auto T = std::optional<bool>(true), F = std::optional<bool>(false), N = std::optional<bool>();
    const std::vector<Row> rows{
        {"active exception grants a mailbox that inherits", "org_disabled = true", true, Listing::active, N,
         Action::update, F, Reason::exception_active},
        {"active exception grants a denied mailbox", "org_disabled = true", true, Listing::active, T, Action::update, F,
         Reason::exception_active},
        {"active exception already granted changes nothing", "org_disabled = true", true, Listing::active, F,
         std::nullopt, F, Reason::exception_active},
        {"active exception on a mailbox that inherits from an org that stays on needs no override",
         "org_disabled = false", false, Listing::active, N, std::nullopt, N, Reason::exception_active},
        {"active exception on a mailbox that inherits is granted before the org switch goes off", "org_disabled = true",
         false, Listing::active, N, Action::update, F, Reason::exception_active},
        {"expiring exception still grants", "org_disabled = true", true, Listing::expiring, N, Action::update, F,
         Reason::exception_active},
        {"expired exception reverts to inherit", "org_disabled = true", true, Listing::expired, F, Action::update, N,
         Reason::exception_expired},
        {"expired exception already inheriting changes nothing", "org_disabled = true", true, Listing::expired, N,
         std::nullopt, N, Reason::exception_expired},
        {"expired exception on a disabled mailbox reverts while the org is off", "org_disabled = true", true,
         Listing::expired, T, Action::update, N, Reason::exception_expired},
        {"expired exception on a disabled mailbox reverts after the org switch goes off", "org_disabled = true", false,
         Listing::expired, T, Action::update, N, Reason::exception_expired},
        {"expired exception on a disabled mailbox is only reported while the org stays on", "org_disabled = false",
         false, Listing::expired, T, Action::report, N, Reason::exception_expired},
        {"deny disables a mailbox that inherits", "org_disabled = true", true, Listing::deny, N, Action::update, T,
         Reason::declared},
        {"deny disables an enabled mailbox", "org_disabled = false", false, Listing::deny, F, Action::update, T,
         Reason::declared},
        {"deny already in force changes nothing", "org_disabled = true", true, Listing::deny, T, std::nullopt, T,
         Reason::declared},
        {"unlisted false is reverted in revert mode", "org_disabled = true\nunlisted_overrides = \"revert\"", true,
         Listing::unlisted, F, Action::update, N, Reason::unlisted_override},
        {"unlisted false is reverted even while the org is on", "org_disabled = false\nunlisted_overrides = \"revert\"",
         false, Listing::unlisted, F, Action::update, N, Reason::unlisted_override},
        {"unlisted true is reverted while the org is and stays off",
         "org_disabled = true\nunlisted_overrides = \"revert\"", true, Listing::unlisted, T, Action::update, N,
         Reason::unlisted_override},
        {"unlisted true is reverted after the org switch goes off in the same apply",
         "org_disabled = true\nunlisted_overrides = \"revert\"", false, Listing::unlisted, T, Action::update, N,
         Reason::unlisted_override},
        {"unlisted true is reported when the org will be turned on",
         "org_disabled = false\nunlisted_overrides = \"revert\"", true, Listing::unlisted, T, Action::report, N,
         Reason::unlisted_override},
        {"unlisted true is reverted when the org switch is unmanaged and off", "unlisted_overrides = \"revert\"", true,
         Listing::unlisted, T, Action::update, N, Reason::unlisted_override},
        {"unlisted true is reported when the org switch is unmanaged and on", "unlisted_overrides = \"revert\"", false,
         Listing::unlisted, T, Action::report, N, Reason::unlisted_override},
        {"unlisted false is reported in report mode", "org_disabled = true\nunlisted_overrides = \"report\"", true,
         Listing::unlisted, F, Action::report, N, Reason::unlisted_override},
        {"unlisted true is reported in report mode", "org_disabled = true\nunlisted_overrides = \"report\"", true,
         Listing::unlisted, T, Action::report, N, Reason::unlisted_override},
        {"report is the default mode", "org_disabled = true", true, Listing::unlisted, F, Action::report, N,
         Reason::unlisted_override},
        {"unlisted overrides are ignored in ignore mode", "org_disabled = true\nunlisted_overrides = \"ignore\"", true,
         Listing::unlisted, F, std::nullopt, N, Reason::unlisted_override},
        {"a mailbox that inherits is not an unlisted override", "org_disabled = true\nunlisted_overrides = \"revert\"",
         true, Listing::unlisted, N, std::nullopt, N, Reason::unlisted_override},
    };
    for (const Row& row : rows) {
        SECTION(row.name) {
            std::string body = std::string("[smtp_auth]\n") + row.settings + "\n";
            if (row.listing == Listing::deny)
                body = std::string("[smtp_auth]\n") + row.settings + "\ndeny = [\"dev@contoso.com\"]\n";
            if (row.listing == Listing::active) body += exception_toml("dev", "2027-03-31");
            if (row.listing == Listing::expiring) body += exception_toml("dev", "2026-11-29");
            if (row.listing == Listing::expired) body += exception_toml("dev", "2026-10-31");
            const Plan plan = plan_of(desired(body), live(row.live_org_disabled, {mailbox("dev", row.live_value),
                                                                                  mailbox("other", std::nullopt)}));
            const auto found = changes_for(plan, "dev@contoso.com", "SmtpClientAuthenticationDisabled");
            if (!row.action) {
                CHECK(found.empty());
                continue;
            }
            REQUIRE(found.size() == 1);
            const Change& change = *found.front();
            CHECK(change.action == *row.action);
            CHECK(change.reason == row.reason);
            CHECK(change.resource == Resource::mailbox);
            CHECK(change.before == (row.live_value ? SettingValue{*row.live_value} : SettingValue{}));
            CHECK(change.after == (row.after ? SettingValue{*row.after} : SettingValue{}));
            CHECK(change.cmdlet.name == "Set-CASMailbox");
            // A revert to inherit of a disabled mailbox waits for this plan's org switch.
            const bool waits = row.live_value == T && !row.after && !row.live_org_disabled &&
                               change.action == Action::update;
            CHECK(change.requires_org_disabled == waits);
            REQUIRE(change.cmdlet.parameters.size() == 2);
            CHECK(change.cmdlet.parameters[0] ==
                  std::pair<std::string, SettingValue>{"Identity", std::string("guid-dev")});
            CHECK(changes_for(plan, "other@contoso.com", "SmtpClientAuthenticationDisabled").empty());
        }
    }
}

TEST_CASE("no implicit enablement: no mode ever turns SMTP AUTH on for an unlisted mailbox", "[planner][safety]") {
    // Every combination of org switch (declared and live) and mode, for a disabled mailbox.
    for (const char* declared : {"", "org_disabled = true\n", "org_disabled = false\n"}) {
        for (bool live_org_disabled : {true, false}) {
            for (const char* mode : {"revert", "report", "ignore"}) {
                const std::string body = std::string("[smtp_auth]\n") + declared + "unlisted_overrides = \"" + mode +
                                         "\"\n";
                const Plan plan = plan_of(desired(body), live(live_org_disabled, {mailbox("dev", true)}));
                const bool org_enabled_after = std::string(declared).find("false") != std::string::npos ||
                                               (std::string(declared).empty() && !live_org_disabled);
                const bool plan_turns_org_off =
                    std::any_of(plan.changes.begin(), plan.changes.end(), [](const Change& c) {
                        return c.resource == Resource::transport_config && c.after == SettingValue{true} &&
                               c.phase == Phase::org_switch;
                    });
                for (const Change& change : plan.changes) {
                    if (change.resource != Resource::mailbox || !change.changes_tenant()) continue;
                    INFO(declared << " live=" << live_org_disabled << " mode=" << mode);
                    // Inherit is only allowed when the organization stays off after the plan, and
                    // when it is on now, only after this plan's org switch, and depending on it.
                    CHECK_FALSE(org_enabled_after);
                    if (!live_org_disabled) {
                        CHECK(plan_turns_org_off);
                        CHECK(change.requires_org_disabled);
                        CHECK(change.phase > Phase::org_switch);
                    }
                }
            }
        }
    }
}

TEST_CASE("the org switch is set only when declared", "[planner]") {
    CHECK(changes_for(plan_of(desired("[smtp_auth]\norg_disabled = true\n"), live(false, {})), "organization",
                      "SmtpClientAuthenticationDisabled")
              .size() == 1);
    CHECK(changes_for(plan_of(desired("[smtp_auth]\norg_disabled = true\n"), live(true, {})), "organization",
                      "SmtpClientAuthenticationDisabled")
              .empty());
    CHECK(changes_for(plan_of(desired("[smtp_auth]\nunlisted_overrides = \"report\"\n"), live(false, {})),
                      "organization", "SmtpClientAuthenticationDisabled")
              .empty());
    const Plan enable = plan_of(desired("[smtp_auth]\norg_disabled = false\n"), live(true, {}));
    REQUIRE(enable.changes.size() == 1);
    CHECK(enable.changes[0].resource == Resource::transport_config);
    CHECK(enable.changes[0].after == SettingValue{false});
    CHECK(powershell_line(enable.changes[0].cmdlet) == "Set-TransportConfig -SmtpClientAuthenticationDisabled $false");
}

TEST_CASE("without [smtp_auth] mailbox overrides and the org switch are left alone", "[planner]") {
    LiveState state = live(false, {mailbox("a", true), mailbox("b", false)});
    state.mailboxes.reset();  // not even read: nothing about them is needed
    const Plan plan = plan_of(desired(""), state);
    CHECK(plan.changes.empty());
    CHECK(plan.warnings.empty());
}

TEST_CASE("exceptions are granted before enforcement, in one apply order", "[planner][safety]") {
    const std::string body =
        "[smtp_auth]\norg_disabled = true\nunlisted_overrides = \"revert\"\ndeny = [\"ceo@contoso.com\"]\n" +
        exception_toml("grant", "2027-03-31", true) + exception_toml("gone", "2026-10-31", true) +
        "[exceptions]\nbasic_auth_policy = \"Allow Basic SMTP\"\n"
        "[[authentication_policy]]\nname = \"Block Basic Auth\"\n"
        "[[authentication_policy]]\nname = \"Allow Basic SMTP\"\nallow_basic_auth_smtp = true\n"
        "[organization]\ndefault_authentication_policy = \"Block Basic Auth\"\n";
    LiveState state = live(false, {mailbox("grant", std::nullopt), mailbox("gone", false), mailbox("ceo", std::nullopt),
                                   mailbox("stray", false)});
    LivePolicy block = live_policy("Block Basic Auth", true);  // wrong flag: tightened
    state.policies = std::vector<LivePolicy>{block};           // Allow Basic SMTP missing: created
    state.users = std::vector<LiveUser>{user("gone", "Allow Basic SMTP")};
    const Plan plan = plan_of(desired(body), state);

    std::vector<std::string> order;
    for (const Change& change : plan.changes)
        order.push_back(std::string(to_string(change.resource)) + " " + change.target + " " + change.attribute);
    const std::vector<std::string> expected{
        "authentication_policy Allow Basic SMTP Name",
        "mailbox grant@contoso.com SmtpClientAuthenticationDisabled",
        "user grant@contoso.com AuthenticationPolicy",
        "transport_config organization SmtpClientAuthenticationDisabled",
        "authentication_policy Block Basic Auth AllowBasicAuthSmtp",
        "organization_config organization DefaultAuthenticationPolicy",
        "mailbox gone@contoso.com SmtpClientAuthenticationDisabled",
        "mailbox ceo@contoso.com SmtpClientAuthenticationDisabled",
        "mailbox stray@contoso.com SmtpClientAuthenticationDisabled",
        "user gone@contoso.com AuthenticationPolicy",
        "user gone@contoso.com STSRefreshTokensValidFrom",
    };
    CHECK(order == expected);
}

TEST_CASE("protected mailboxes are skipped, never changed", "[planner][safety]") {
    const std::string body = "[smtp_auth]\norg_disabled = true\nunlisted_overrides = \"revert\"\n"
                             "[exceptions]\nbasic_auth_policy = \"Allow Basic SMTP\"\n"
                             "[[authentication_policy]]\nname = \"Allow Basic SMTP\"\nallow_basic_auth_smtp = true\n"
                             "[guardrails]\nprotected = [\"BreakGlass@contoso.com\"]\n";
    LiveState state = live(true, {mailbox("breakglass", false), mailbox("other", false)});
    state.policies = std::vector<LivePolicy>{live_policy("Allow Basic SMTP", true)};
    state.users = std::vector<LiveUser>{user("breakglass", "Allow Basic SMTP")};
    const Plan plan = plan_of(desired(body), state);
    for (const Change& change : plan.changes) CHECK(change.target != "breakglass@contoso.com");
    REQUIRE(plan.skipped.size() == 2);
    CHECK(plan.skipped[0].target == "breakglass@contoso.com");
    CHECK(plan.skipped[0].reason == "protected");
    CHECK(plan.skipped[0].detail == "would set SmtpClientAuthenticationDisabled false -> null (unlisted_override)");
    CHECK(plan.skipped[1].detail == "would set AuthenticationPolicy 'Allow Basic SMTP' -> null (unlisted_override)");
    CHECK(changes_for(plan, "other@contoso.com", "SmtpClientAuthenticationDisabled").size() == 1);
}

TEST_CASE("exception states are reported with days left and a missing mailbox is a warning", "[planner]") {
    const std::string body = "[smtp_auth]\norg_disabled = true\n" + exception_toml("active", "2027-03-31") +
                             exception_toml("soon", "2026-11-29") + exception_toml("past", "2026-10-31") +
                             exception_toml("ghost", "2027-01-31");
    const Plan plan = plan_of(
        desired(body), live(true, {mailbox("active", false), mailbox("soon", false), mailbox("past", std::nullopt)}));
    REQUIRE(plan.exceptions.size() == 4);
    CHECK(plan.exceptions[0].state == ExceptionState::active);
    CHECK(plan.exceptions[0].days_left == 129);
    CHECK(plan.exceptions[1].state == ExceptionState::expiring);
    CHECK(plan.exceptions[1].days_left == 7);
    CHECK(plan.exceptions[2].state == ExceptionState::expired);
    CHECK(plan.exceptions[2].days_left == -22);
    CHECK(plan.exceptions[3].state == ExceptionState::missing);
    CHECK(plan.changes.empty());
    REQUIRE(plan.warnings.size() == 1);
    CHECK(plan.warnings[0].code == "exception_missing");
    CHECK(plan.warnings[0].message ==
          "no mailbox has the address 'ghost@contoso.com' (exception owned by owner@contoso.com); check the address "
          "or remove the exception");
    CHECK(to_string(plan.warnings[0].source) == "desired.toml:27:1");
}

TEST_CASE("addresses match case-insensitively", "[planner]") {
    const std::string body = "[smtp_auth]\norg_disabled = true\n" + exception_toml("Scanner", "2027-03-31");
    Mailbox m = mailbox("scanner", std::nullopt);
    m.primary_smtp_address = "SCANNER@Contoso.com";
    const Plan plan = plan_of(desired(body), live(true, {m}));
    REQUIRE(plan.changes.size() == 1);
    CHECK(plan.changes[0].target == "SCANNER@Contoso.com");
}

TEST_CASE("authentication policies are created and corrected as declared", "[planner]") {
    const std::string body = "[[authentication_policy]]\nname = \"Block Basic Auth\"\n"
                             "[[authentication_policy]]\nname = \"Allow Basic SMTP\"\nallow_basic_auth_smtp = true\n"
                             "allow_basic_auth_pop = true\n";
    LiveState state = live(true, {});
    SECTION("a missing policy is created with its allowed flags") {
        state.policies = std::vector<LivePolicy>{live_policy("block basic auth")};
        const Plan plan = plan_of(desired(body), state);
        REQUIRE(plan.changes.size() == 1);
        CHECK(plan.changes[0].action == Action::create);
        CHECK(powershell_line(plan.changes[0].cmdlet) ==
              "New-AuthenticationPolicy -Name 'Allow Basic SMTP' -AllowBasicAuthPop $true -AllowBasicAuthSmtp $true");
    }
    SECTION("each wrong flag is one update, with the live policy's name as identity") {
        LivePolicy allow = live_policy("Allow Basic SMTP", false);
        allow.flags[2] = true;  // IMAP, not declared: must become false
        state.policies = std::vector<LivePolicy>{live_policy("Block Basic Auth"), allow};
        const Plan plan = plan_of(desired(body), state);
        std::vector<std::string> lines;
        for (const Change& change : plan.changes) lines.push_back(powershell_line(change.cmdlet));
        CHECK(lines == std::vector<std::string>{
                           "Set-AuthenticationPolicy -Identity 'Allow Basic SMTP' -AllowBasicAuthPop $true",
                           "Set-AuthenticationPolicy -Identity 'Allow Basic SMTP' -AllowBasicAuthSmtp $true",
                           "Set-AuthenticationPolicy -Identity 'Allow Basic SMTP' -AllowBasicAuthImap $false"});
    }
    SECTION("undeclared policies are reported, never deleted; the legacy pseudo policy is skipped") {
        state.policies = std::vector<LivePolicy>{live_policy("Block Basic Auth"), live_policy("Allow Basic SMTP"),
                                                 live_policy("Old Policy"), live_policy("LegacyExchangeTokens")};
        state.policies->at(1).flags[smtp_flag] = true;
        state.policies->at(1).flags[6] = true;
        const Plan plan = plan_of(desired(body), state);
        CHECK(plan.changes.empty());
        REQUIRE(plan.warnings.size() == 1);
        CHECK(plan.warnings[0].code == "policy_not_declared");
        CHECK(plan.warnings[0].message ==
              "authentication policy 'Old Policy' exists in the tenant but is not declared; authgate leaves it alone");
    }
    SECTION("the legacy pseudo policy is skipped in any case Exchange spells it") {
        // It was compared case-sensitively: "legacyexchangetokens" was warned about as undeclared.
        state.policies = std::vector<LivePolicy>{live_policy("Block Basic Auth"), live_policy("Allow Basic SMTP"),
                                                 live_policy("legacyexchangetokens")};
        state.policies->at(1).flags[smtp_flag] = true;
        state.policies->at(1).flags[6] = true;
        const Plan plan = plan_of(desired(body), state);
        CHECK(plan.changes.empty());
        CHECK(plan.warnings.empty());
    }
    SECTION("with no policy declared, policies are not managed at all") {
        state.policies = std::vector<LivePolicy>{live_policy("Old Policy", true)};
        CHECK(plan_of(desired(""), state).warnings.empty());
    }
}

TEST_CASE("the org default policy is set as declared", "[planner]") {
    LiveState state = live(true, {});
    state.policies = std::vector<LivePolicy>{live_policy("Block Basic Auth")};
    SECTION("null becomes the declared policy") {
        const Plan plan = plan_of(desired("[organization]\ndefault_authentication_policy = \"Block Basic Auth\"\n"),
                                  state);
        REQUIRE(plan.changes.size() == 1);
        CHECK(powershell_line(plan.changes[0].cmdlet) ==
              "Set-OrganizationConfig -DefaultAuthenticationPolicy 'Block Basic Auth'");
    }
    SECTION("the same name in another case is no change") {
        state.organization->default_authentication_policy = "BLOCK basic auth";
        CHECK(plan_of(desired("[organization]\ndefault_authentication_policy = \"Block Basic Auth\"\n"), state)
                  .changes.empty());
    }
    SECTION("an empty name clears it") {
        state.organization->default_authentication_policy = "Block Basic Auth";
        const Plan plan = plan_of(desired("[organization]\ndefault_authentication_policy = \"\"\n"), state);
        REQUIRE(plan.changes.size() == 1);
        CHECK(plan.changes[0].after == SettingValue{});
        CHECK(powershell_line(plan.changes[0].cmdlet) == "Set-OrganizationConfig -DefaultAuthenticationPolicy $null");
    }
    SECTION("a policy that exists nowhere is an error") {
        const PlanResult result = make_plan(desired("[organization]\ndefault_authentication_policy = \"Nope\"\n"),
                                            state, now);
        REQUIRE(result.diagnostics.error_count() == 1);
        CHECK(format(result.diagnostics.all()[0]) == "desired.toml:5:33: error: default_authentication_policy 'Nope' "
                                                     "is neither declared nor present in the tenant");
    }
}

TEST_CASE("basic-auth assignments follow basic_auth exceptions", "[planner]") {
    const std::string policies =
        "[exceptions]\nbasic_auth_policy = \"Allow Basic SMTP\"\n"
        "[[authentication_policy]]\nname = \"Allow Basic SMTP\"\nallow_basic_auth_smtp = true\n";
    LiveState state = live(true, {mailbox("dev", false), mailbox("bot", std::nullopt)});
    state.policies = std::vector<LivePolicy>{live_policy("Allow Basic SMTP", true)};
    const auto user_changes = [](const Plan& plan) {
        std::vector<Change> found;
        std::copy_if(plan.changes.begin(), plan.changes.end(), std::back_inserter(found),
                     [](const Change& c) { return c.resource == Resource::user; });
        return found;
    };

    SECTION("an active basic_auth exception assigns the policy to the user") {
        const Plan plan = plan_of(
            desired("[smtp_auth]\norg_disabled = true\n" + exception_toml("dev", "2027-03-31", true) + policies),
            state);
        REQUIRE(plan.changes.size() == 1);
        CHECK(plan.changes[0].resource == Resource::user);
        CHECK(plan.changes[0].reason == Reason::exception_active);
        CHECK(powershell_line(plan.changes[0].cmdlet) ==
              "Set-User -Identity 'oid-dev' -AuthenticationPolicy 'Allow Basic SMTP'");
    }
    SECTION("an expired one removes the assignment and revokes refresh tokens") {
        state.users = std::vector<LiveUser>{user("dev", "Allow Basic SMTP")};
        const Plan plan = plan_of(
            desired("[smtp_auth]\norg_disabled = true\n" + exception_toml("dev", "2026-10-31", true) + policies),
            state);
        std::vector<std::string> lines;
        for (const Change& change : plan.changes) lines.push_back(powershell_line(change.cmdlet));
        CHECK(lines == std::vector<std::string>{
                           "Set-CASMailbox -Identity 'guid-dev' -SmtpClientAuthenticationDisabled $null",
                           "Set-User -Identity 'oid-dev' -AuthenticationPolicy $null",
                           "Set-User -Identity 'oid-dev' -STSRefreshTokensValidFrom '2026-11-22T10:00:00.0000000Z'"});
    }
    SECTION("an unlisted assignment is reverted in revert mode and reported in report mode") {
        state.users = std::vector<LiveUser>{user("bot", "allow basic smtp")};
        const auto reverted =
            user_changes(plan_of(desired("[smtp_auth]\nunlisted_overrides = \"revert\"\n" + policies), state));
        REQUIRE(reverted.size() == 2);
        CHECK(reverted[0].target == "bot@contoso.com");
        CHECK(reverted[0].reason == Reason::unlisted_override);
        CHECK(reverted[0].action == Action::update);
        CHECK(reverted[1].attribute == "STSRefreshTokensValidFrom");
        const auto reported =
            user_changes(plan_of(desired("[smtp_auth]\nunlisted_overrides = \"report\"\n" + policies), state));
        REQUIRE(reported.size() == 1);
        CHECK(reported[0].action == Action::report);
    }
    SECTION("users assigned to other policies are left alone") {
        state.users = std::vector<LiveUser>{user("bot", "Temp Allow IMAP")};
        CHECK(
            user_changes(plan_of(desired("[smtp_auth]\nunlisted_overrides = \"revert\"\n" + policies), state)).empty());
    }
}

TEST_CASE("unknown is not absent: a part that was not read fails the plan", "[planner][safety]") {
    struct Row {
        const char* name;
        std::string body;
        void (*forget)(LiveState&);
        const char* message;
    };
    const std::string basic = "[exceptions]\nbasic_auth_policy = \"Allow Basic SMTP\"\n[[authentication_policy]]\n"
                              "name = \"Allow Basic SMTP\"\nallow_basic_auth_smtp = true\n";
    const std::vector<Row> rows{
        {"org switch", "[smtp_auth]\norg_disabled = true\n", [](LiveState& s) { s.org_smtp_auth_disabled.reset(); },
         "could not read the organization's SMTP AUTH setting (Get-TransportConfig); unknown is not absent, so no plan "
         "is made"},
        {"mailboxes", "[smtp_auth]\norg_disabled = true\n", [](LiveState& s) { s.mailboxes.reset(); },
         "could not read the mailboxes (Get-CASMailbox); unknown is not absent, so no plan is made"},
        {"users", "[smtp_auth]\norg_disabled = true\n" + basic, [](LiveState& s) { s.users.reset(); },
         "could not read the users' authentication policies (Get-User); unknown is not absent, so no plan is made"},
        {"policies", "[[authentication_policy]]\nname = \"X\"\n", [](LiveState& s) { s.policies.reset(); },
         "could not read the authentication policies (Get-AuthenticationPolicy); unknown is not absent, so no plan is "
         "made"},
        {"default policy", "[organization]\ndefault_authentication_policy = \"\"\n",
         [](LiveState& s) { s.organization.reset(); },
         "could not read the organization's default authentication policy (Get-OrganizationConfig); unknown is not "
         "absent, so no plan is made"},
    };
    for (const Row& row : rows) {
        SECTION(row.name) {
            LiveState state = live(false, {mailbox("a", false)});
            row.forget(state);
            const PlanResult result = make_plan(desired(row.body), state, now);
            REQUIRE(result.diagnostics.error_count() == 1);
            CHECK(result.diagnostics.all()[0].message == row.message);
            CHECK(result.plan.changes.empty());
        }
    }
}

TEST_CASE("a plan is the same however often it is made", "[planner]") {
    const std::string body = "[smtp_auth]\norg_disabled = true\nunlisted_overrides = \"revert\"\n" +
                             exception_toml("a", "2027-03-31") + exception_toml("b", "2026-10-31");
    const DesiredState d = desired(body);
    const LiveState l =
        live(false, {mailbox("a", std::nullopt), mailbox("b", false), mailbox("c", false), mailbox("d", true)});
    const Plan first = plan_of(d, l);
    const Plan second = plan_of(d, l);
    REQUIRE(first.changes.size() == second.changes.size());
    for (std::size_t i = 0; i < first.changes.size(); ++i) {
        CHECK(first.changes[i].target == second.changes[i].target);
        CHECK(first.changes[i].attribute == second.changes[i].attribute);
    }
    CHECK(has_warning(first, "exception_missing") == false);
}

TEST_CASE("a removed exception still in force is reverted like an expired one, in every mode", "[planner]") {
    PlanHistory history;
    history.granted["gone@contoso.com"] = {"facilities-it@contoso.com", "2027-03-31"};
    for (const char* mode : {"revert", "report", "ignore"}) {
        INFO(mode);
        const DesiredState d =
            desired(std::string("[smtp_auth]\norg_disabled = true\nunlisted_overrides = \"") + mode + "\"\n");
        const PlanResult result = make_plan(d, live(true, {mailbox("gone", false), mailbox("stray", false)}), now,
                                            history);
        REQUIRE_FALSE(result.diagnostics.has_errors());
        const auto gone = changes_for(result.plan, "gone@contoso.com", "SmtpClientAuthenticationDisabled");
        REQUIRE(gone.size() == 1);
        CHECK(gone[0]->action == Action::update);
        CHECK(gone[0]->reason == Reason::exception_expired);
        CHECK(gone[0]->after == SettingValue{});
        CHECK(
            gone[0]->detail ==
            "exception removed from the desired state (was granted until 2027-03-31, owner facilities-it@contoso.com)");
        // A mailbox authgate never granted stays an ordinary unlisted override.
        const auto stray = changes_for(result.plan, "stray@contoso.com", "SmtpClientAuthenticationDisabled");
        CHECK(stray.size() == (std::string(mode) == "ignore" ? 0u : 1u));
    }
    // Once reverted (inherit), a past grant plans nothing.
    const DesiredState d = desired("[smtp_auth]\norg_disabled = true\n");
    CHECK(make_plan(d, live(true, {mailbox("gone", std::nullopt)}), now, history).plan.changes.empty());
}

TEST_CASE("similar addresses are within two edits, case ignored, nearest first", "[planner]") {
    const std::vector<Mailbox> mailboxes{mailbox("old-printer", std::nullopt), mailbox("old-printers", std::nullopt),
                                         mailbox("scanner", std::nullopt), mailbox("Old-Pritner", std::nullopt)};
    CHECK(similar_addresses("old-prnter@contoso.com", mailboxes) ==
          std::vector<std::string>{"old-printer@contoso.com", "Old-Pritner@contoso.com", "old-printers@contoso.com"});
    CHECK(similar_addresses("OLD-PRINTRE@contoso.com", mailboxes, 1) ==
          std::vector<std::string>{"old-printer@contoso.com"});
    CHECK(similar_addresses("scanner@contoso.com", mailboxes).empty());  // the same address is not "similar"
    CHECK(similar_addresses("payroll@contoso.com", mailboxes).empty());
}

TEST_CASE("a missing mailbox that looks like one the plan changes stops the plan, or holds that change",
          "[planner][safety]") {
    const std::string body = "[smtp_auth]\norg_disabled = true\nunlisted_overrides = \"revert\"\n" +
                             exception_toml("old-prnter", "2027-03-31");
    const LiveState tenant = live(true, {mailbox("old-printer", false), mailbox("legacy", false)});
    SECTION("plan and apply: an error naming both") {
        const PlanResult result = make_plan(desired(body), tenant, now);
        REQUIRE(result.diagnostics.has_errors());
        CHECK_THAT(result.diagnostics.all().at(0).message,
                   Catch::Equals(
                       "no mailbox has the address 'old-prnter@contoso.com' (exception owned by "
                       "owner@contoso.com); did you mean 'old-printer@contoso.com', which this plan would change "
                       "(SmtpClientAuthenticationDisabled false -> null, unlisted_override)? Correct the "
                       "address; nothing is changed until then"));
    }
    SECTION("reconcile: that mailbox is reported, not changed; the rest goes on") {
        const PlanResult result = make_plan(desired(body), tenant, now, {}, {SimilarMailbox::hold});
        REQUIRE_FALSE(result.diagnostics.has_errors());
        const auto printer = changes_for(result.plan, "old-printer@contoso.com", "SmtpClientAuthenticationDisabled");
        REQUIRE(printer.size() == 1);
        CHECK(printer[0]->action == Action::report);
        CHECK_THAT(printer[0]->detail, Catch::StartsWith("held: 'old-prnter@contoso.com' (desired.toml:"));
        const auto legacy = changes_for(result.plan, "legacy@contoso.com", "SmtpClientAuthenticationDisabled");
        REQUIRE(legacy.size() == 1);
        CHECK(legacy[0]->action == Action::update);
        CHECK(has_warning(result.plan, "exception_missing_similar"));
    }
    SECTION("a similar mailbox named in its own right is not taken for a typo") {
        const Plan plan = plan_of(desired(body + exception_toml("old-printer", "2027-03-31")), tenant);
        CHECK(has_warning(plan, "exception_missing"));
    }
}

TEST_CASE("a missing mailbox no plan change resembles is a warning naming the nearest, or an error by guardrail",
          "[planner]") {
    const std::string body = "[smtp_auth]\norg_disabled = true\ndeny = [\"scaner@contoso.com\"]\n";
    const LiveState tenant = live(true, {mailbox("scanner", true)});  // already as denied: no change
    const Plan plan = plan_of(desired(body), tenant);
    REQUIRE(has_warning(plan, "deny_missing"));
    CHECK_THAT(plan.warnings.at(0).message,
               Catch::EndsWith("check the address or remove it from the list (nearest live addresses: "
                               "'scanner@contoso.com')"));
    const PlanResult strict = make_plan(desired(body + "[guardrails]\nmissing_mailbox = \"error\"\n"), tenant, now);
    REQUIRE(strict.diagnostics.has_errors());
    CHECK_THAT(strict.diagnostics.all().at(0).message, Catch::EndsWith("[guardrails] missing_mailbox = \"error\""));
}

TEST_CASE("a change names the mailbox's display name, the TOML line behind it and the guardrail it is held to",
          "[planner]") {
    Mailbox scanner = mailbox("scanner", std::nullopt);
    scanner.display_name = "Lobby Scanner";
    const Plan plan =
        plan_of(desired("[smtp_auth]\norg_disabled = true\nunlisted_overrides = \"revert\"\n"
                        "[[smtp_auth.exception]]\nmailbox = \"scanner@contoso.com\"\nowner = \"it@contoso.com\"\n"
                        "reason = \"r\"\nexpires = 2026-12-31\n[guardrails]\nmax_changes = 1\n"),
                live(false, {scanner, mailbox("stray", false)}));
    REQUIRE(plan.changes.size() == 3);  // the grant, the org switch, the stray's revert
    CHECK(plan.changes[0].display_name == "Lobby Scanner");
    CHECK(cmdlet_identity(plan.changes[0]) == "guid-scanner");
    CHECK(plan.changes[0].source->line == 7);  // its [[smtp_auth.exception]]
    CHECK(plan.changes[1].source->line == 5);  // org_disabled
    CHECK(plan.changes[2].source->line == 6);  // unlisted_overrides, which says to revert it
    CHECK(plan.max_changes == 1);
    CHECK(plan.exceeds_max_changes());
}
