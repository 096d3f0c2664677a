// Apply against an in-memory tenant: order, batching, dependencies, verification.
#include <catch2/catch.hpp>

#include <map>

#include "agent/apply.h"
#include "fake_tenant.h"
#include "policies/loader.h"
#include "policies/planner.h"

using namespace authgate;
using namespace authgate::testing;

namespace {

const Instant planned_at = *parse_instant("2026-11-22T10:00:00Z");
// The time the revocations are stamped with.
struct FixedClock final : Clock {
    Instant now() const override { return *parse_instant("2026-11-22T10:05:00Z"); }
};
const FixedClock applied_at;

DesiredState desired() {
    const std::string exception = [] {
        std::string text;
        for (const char* alias : {"grant-a", "grant-b"})
            text += std::string("[[smtp_auth.exception]]\nmailbox = \"") + alias +
                    "@contoso.com\"\nowner = \"it@contoso.com\"\nreason = \"device\"\nexpires = 2027-03-31\n"
                    "ticket = \"CHG1\"\nreplacement = \"oauth\"\nbasic_auth = true\n";
        return text;
    }();
    LoadResult loaded = load_desired_state_text(
        "d.toml", "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n[smtp_auth]\norg_disabled = true\n"
                  "unlisted_overrides = \"revert\"\n" +
                      exception +
                      "[exceptions]\nbasic_auth_policy = \"Allow Basic SMTP\"\n"
                      "[[authentication_policy]]\nname = \"Allow Basic SMTP\"\nallow_basic_auth_smtp = true\n"
                      "[[authentication_policy]]\nname = \"Block Basic Auth\"\n"
                      "[organization]\ndefault_authentication_policy = \"Block Basic Auth\"\n");
    REQUIRE_FALSE(loaded.diagnostics.has_errors());
    return loaded.state;
}

Mailbox mailbox(const std::string& alias, std::optional<bool> value) {
    return {"guid-" + alias, alias, "oid-" + alias, alias + "@contoso.com", value};
}

LiveState live() {
    LiveState state;
    state.org_smtp_auth_disabled = false;
    state.mailboxes = std::vector<Mailbox>{mailbox("grant-a", std::nullopt), mailbox("grant-b", std::nullopt),
                                           mailbox("stray-1", false), mailbox("stray-2", false),
                                           mailbox("user", std::nullopt)};
    LivePolicy block{"Block Basic Auth", "Block Basic Auth", "g1", "CN=Block", {}};
    block.flags[2] = true;                            // IMAP: to be tightened
    state.policies = std::vector<LivePolicy>{block};  // Allow Basic SMTP: to be created
    state.organization = OrganizationConfig{};
    state.users = std::vector<LiveUser>{{"bot", "oid-bot", "bot@contoso.com", std::string("Allow Basic SMTP")}};
    return state;
}

Plan plan_for(const LiveState& state) {
    PlanResult result = make_plan(desired(), state, planned_at);
    REQUIRE_FALSE(result.diagnostics.has_errors());
    return result.plan;
}

std::vector<std::string> names(const std::vector<Cmdlet>& call) {
    std::vector<std::string> result;
    for (const Cmdlet& cmdlet : call) result.push_back(powershell_line(cmdlet));
    return result;
}

}  // namespace

TEST_CASE("apply makes the plan's changes in order, mailboxes together, and verifies each", "[apply]") {
    FakeTenant tenant(live());
    const Plan plan = plan_for(tenant.state());
    const ApplyResult result = apply_plan(plan, tenant, applied_at);
    REQUIRE_FALSE(result.verification_error);
    CHECK(result.succeeded());
    CHECK(result.count(ChangeStatus::verified) == static_cast<int>(plan.change_count()) - 1);  // all but the STS stamp
    CHECK(result.count(ChangeStatus::applied) == 1);

    std::vector<std::vector<std::string>> calls;
    for (const auto& call : tenant.calls) calls.push_back(names(call));
    const std::vector<std::vector<std::string>> expected{
        {"New-AuthenticationPolicy -Name 'Allow Basic SMTP' -AllowBasicAuthSmtp $true"},
        {"Set-CASMailbox -Identity 'guid-grant-a' -SmtpClientAuthenticationDisabled $false",
         "Set-CASMailbox -Identity 'guid-grant-b' -SmtpClientAuthenticationDisabled $false"},
        {"Set-User -Identity 'oid-grant-a' -AuthenticationPolicy 'Allow Basic SMTP'"},
        {"Set-User -Identity 'oid-grant-b' -AuthenticationPolicy 'Allow Basic SMTP'"},
        {"Set-TransportConfig -SmtpClientAuthenticationDisabled $true"},
        {"Set-AuthenticationPolicy -Identity 'Block Basic Auth' -AllowBasicAuthImap $false"},
        {"Set-OrganizationConfig -DefaultAuthenticationPolicy 'Block Basic Auth'"},
        {"Set-CASMailbox -Identity 'guid-stray-1' -SmtpClientAuthenticationDisabled $null",
         "Set-CASMailbox -Identity 'guid-stray-2' -SmtpClientAuthenticationDisabled $null"},
        {"Set-User -Identity 'oid-bot' -AuthenticationPolicy $null"},
        // Stamped when applied, not when planned.
        {"Set-User -Identity 'oid-bot' -STSRefreshTokensValidFrom '2026-11-22T10:05:00.0000000Z'"},
    };
    CHECK(calls == expected);
}

TEST_CASE("applying twice changes nothing the second time", "[apply]") {
    FakeTenant tenant(live());
    apply_plan(plan_for(tenant.state()), tenant, applied_at);
    const Plan second = plan_for(tenant.state());
    CHECK(second.change_count() == 0);
    tenant.calls.clear();
    const ApplyResult again = apply_plan(second, tenant, applied_at);
    CHECK(tenant.calls.empty());
    CHECK(again.changes.empty());
}

TEST_CASE("a failed exception grant holds back enforcement, other changes go on", "[apply][safety]") {
    FakeTenant tenant(live());
    tenant.refuse.insert("Set-CASMailbox:guid-grant-b");
    const ApplyResult result = apply_plan(plan_for(tenant.state()), tenant, applied_at);
    CHECK_FALSE(result.succeeded());
    std::map<std::string, std::pair<ChangeStatus, std::string>> by_change;
    for (const AppliedChange& c : result.changes)
        by_change[std::string(to_string(c.change.resource)) + " " + c.change.target + " " + c.change.attribute] = {
            c.outcome, c.error};
    CHECK(by_change["mailbox grant-b@contoso.com SmtpClientAuthenticationDisabled"].first == ChangeStatus::failed);
    CHECK(by_change["mailbox grant-a@contoso.com SmtpClientAuthenticationDisabled"].first == ChangeStatus::verified);
    for (const char* held : {"transport_config organization SmtpClientAuthenticationDisabled",
                             "authentication_policy Block Basic Auth AllowBasicAuthImap",
                             "organization_config organization DefaultAuthenticationPolicy"}) {
        INFO(held);
        CHECK(by_change[held].first == ChangeStatus::skipped);
        CHECK(by_change[held].second == "not made: the exception grant for grant-b@contoso.com failed, and enforcing "
                                        "now would break it");
    }
    CHECK(by_change["mailbox stray-1@contoso.com SmtpClientAuthenticationDisabled"].first == ChangeStatus::verified);
    CHECK(tenant.state().org_smtp_auth_disabled == false);  // the org switch was not touched
}

TEST_CASE("a failed policy removal is not followed by its token revocation", "[apply]") {
    FakeTenant tenant(live());
    tenant.refuse.insert("Set-User:oid-bot");
    const ApplyResult result = apply_plan(plan_for(tenant.state()), tenant, applied_at);
    const AppliedChange& stamp = result.changes.back();
    REQUIRE(stamp.change.attribute == "STSRefreshTokensValidFrom");
    CHECK(stamp.outcome == ChangeStatus::skipped);
    CHECK(stamp.error == "not made: the policy change before it failed");
}

TEST_CASE("verification reads the tenant back", "[apply]") {
    FakeTenant tenant(live());
    SECTION("a write Exchange accepted but did not make fails") {
        tenant.ignore.insert("Set-CASMailbox:guid-stray-1");
        const ApplyResult result = apply_plan(plan_for(tenant.state()), tenant, applied_at);
        const auto it = std::find_if(result.changes.begin(), result.changes.end(),
                                     [](const AppliedChange& c) { return c.change.target == "stray-1@contoso.com"; });
        CHECK(it->outcome == ChangeStatus::failed);
        CHECK(it->error == "Exchange accepted Set-CASMailbox but stray-1@contoso.com shows "
                           "SmtpClientAuthenticationDisabled = false when read back");
    }
    SECTION("a write whose outcome was unknown but shows is verified") {
        tenant.uncertain.insert("Set-CASMailbox:guid-stray-1");
        const ApplyResult result = apply_plan(plan_for(tenant.state()), tenant, applied_at);
        CHECK(result.succeeded());
    }
    SECTION("a read-back that fails leaves the changes unverified") {
        tenant.fail_reads = true;
        const ApplyResult result = apply_plan(plan_for(live()), tenant, applied_at);
        REQUIRE(result.verification_error);
        CHECK(*result.verification_error ==
              "the changes could not be read back: Get-CASMailbox failed: HTTP 500: the fake is down");
        CHECK(result.count(ChangeStatus::verified) == 0);
        CHECK_FALSE(result.succeeded());
    }
}

TEST_CASE("a revert that needs the org switch off is not made when the switch failed", "[apply][safety]") {
    LiveState state = live();
    state.mailboxes->push_back(mailbox("disabled", true));  // unlisted true, org on: waits for the switch
    FakeTenant tenant(state);
    tenant.refuse.insert("Set-TransportConfig");
    const ApplyResult result = apply_plan(plan_for(tenant.state()), tenant, applied_at);
    const auto it = std::find_if(result.changes.begin(), result.changes.end(),
                                 [](const AppliedChange& c) { return c.change.target == "disabled@contoso.com"; });
    REQUIRE(it != result.changes.end());
    CHECK(it->change.requires_org_disabled);
    CHECK(it->outcome == ChangeStatus::skipped);
    CHECK(it->error == "not made: the organization switch is still on, and inherit would enable SMTP AUTH");
    CHECK(tenant.state().mailboxes->back().smtp_auth_disabled == true);
    // Without the fault the same plan reverts it, after the switch.
    FakeTenant healthy(state);
    CHECK(apply_plan(plan_for(healthy.state()), healthy, applied_at).succeeded());
    CHECK(healthy.state().mailboxes->back().smtp_auth_disabled == std::nullopt);
}

TEST_CASE("a revert that needs the org switch off is not made from a plan without the switch", "[apply][safety]") {
    // As in reconcile --mode expiry, which applies only the expiry changes of a plan.
    LiveState state = live();
    state.mailboxes->push_back(mailbox("disabled", true));
    FakeTenant tenant(state);
    Plan plan = plan_for(tenant.state());
    std::erase_if(plan.changes, [](const Change& c) { return c.resource == Resource::transport_config; });
    const ApplyResult result = apply_plan(plan, tenant, applied_at);
    const auto it = std::find_if(result.changes.begin(), result.changes.end(),
                                 [](const AppliedChange& c) { return c.change.target == "disabled@contoso.com"; });
    REQUIRE(it != result.changes.end());
    CHECK(it->outcome == ChangeStatus::skipped);
    CHECK(tenant.state().mailboxes->back().smtp_auth_disabled == true);
}
