#pragma once
// The plan is data: the ordered changes apply would make, each with before, after and a
// reason, computed apart from how it is shown and how it is applied.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "diagnostics.h"
#include "name.h"
#include "names.h"
#include "source.h"
#include "time.h"
#include "usage.h"

namespace authgate {

// A cmdlet parameter or setting value: $null, a boolean or a string (named apart from web::json::value).
using SettingValue = std::variant<std::monostate, bool, std::string>;

enum class Resource { transport_config, mailbox, authentication_policy, user, organization_config };
enum class Action { update, create, report };
enum class Reason { declared, exception_active, exception_expired, unlisted_override };
enum class ExceptionState { active, expiring, expired, missing };
// A change from plan to tenant. sending: the intent is journalled and the write is going out (a run
// that dies leaves it, and the next run that takes the tenant's lock makes it uncertain);
// applied: Exchange accepted it; verified: the tenant shows it when read back; uncertain: sent,
// and its outcome unknown (no answer, and no read-back either); skipped: not sent.
enum class ChangeStatus { planned, sending, applied, verified, failed, skipped, uncertain };

// Apply order. Grants come before enforcement so that declared exceptions never break in
// between (safety rule 2); reverts come last, after the org switch is off.
enum class Phase {
    policy_loosen = 0,   // creating policies, declared flags turned on
    grant = 1,           // exception grants: mailbox overrides and basic-auth assignments
    org_switch = 2,      // Set-TransportConfig
    policy_tighten = 3,  // declared flags turned off
    org_default = 4,     // Set-OrganizationConfig -DefaultAuthenticationPolicy
    enforce = 5,         // deny, expired and unlisted reverts
};

template <>
struct EnumNames<Resource> {
    static constexpr std::array<std::pair<Resource, std::string_view>, 5> table{{
        {Resource::transport_config, "transport_config"},
        {Resource::mailbox, "mailbox"},
        {Resource::authentication_policy, "authentication_policy"},
        {Resource::user, "user"},
        {Resource::organization_config, "organization_config"},
    }};
};
template <>
struct EnumNames<Action> {
    static constexpr std::array<std::pair<Action, std::string_view>, 3> table{
        {{Action::update, "update"}, {Action::create, "create"}, {Action::report, "report"}}};
};
template <>
struct EnumNames<Reason> {
    static constexpr std::array<std::pair<Reason, std::string_view>, 4> table{{
        {Reason::declared, "declared"},
        {Reason::exception_active, "exception_active"},
        {Reason::exception_expired, "exception_expired"},
        {Reason::unlisted_override, "unlisted_override"},
    }};
};
template <>
struct EnumNames<ChangeStatus> {
    static constexpr std::array<std::pair<ChangeStatus, std::string_view>, 7> table{{
        {ChangeStatus::planned, "planned"},
        {ChangeStatus::sending, "sending"},
        {ChangeStatus::applied, "applied"},
        {ChangeStatus::verified, "verified"},
        {ChangeStatus::failed, "failed"},
        {ChangeStatus::skipped, "skipped"},
        {ChangeStatus::uncertain, "uncertain"},
    }};
};
template <>
struct EnumNames<ExceptionState> {
    static constexpr std::array<std::pair<ExceptionState, std::string_view>, 4> table{{
        {ExceptionState::active, "active"},
        {ExceptionState::expiring, "expiring"},
        {ExceptionState::expired, "expired"},
        {ExceptionState::missing, "missing"},
    }};
};

// A value for people, the one way: null, true, false or the text between quotes ('text' in
// messages, "text" in text plans, bare in Markdown, whose code span sets it apart). Tenant text
// is as it is: show it through printable().
std::string describe(const SettingValue& value, std::string_view quote = "'");

// A value as a JSON library's value, the one way (for plan reports, Exchange's requests and the
// journal): `Json` is that library's type, cpprest's web::json::value; policies itself uses none.
template <class Json>
Json to_json(const SettingValue& value) {
    if (const bool* flag = std::get_if<bool>(&value)) return Json::boolean(*flag);
    if (const std::string* text = std::get_if<std::string>(&value)) return Json::string(*text);
    return Json::null();
}

struct Cmdlet {
    std::string name;
    std::vector<std::pair<std::string, SettingValue>> parameters;  // in the order PowerShell shows them
};

// The equivalent PowerShell line, e.g. "Set-CASMailbox -Identity 'x' -SmtpClientAuthenticationDisabled $null".
std::string powershell_line(const Cmdlet& cmdlet);

struct Change {
    Resource resource = Resource::mailbox;
    Name target{};            // address, policy name, user principal name, or "organization"
    std::string attribute{};  // the Exchange property
    Action action = Action::update;
    SettingValue before{};
    SettingValue after{};
    Reason reason = Reason::declared;
    std::string detail{};
    Cmdlet cmdlet{};
    std::optional<SourceLocation> source{};  // the TOML entry that causes it
    Phase phase = Phase::enforce;
    std::string display_name{};  // the mailbox's DisplayName, when the tenant gave one
    // Safe only once SMTP AUTH is off for the organization (a revert to inherit of a disabled
    // mailbox): apply makes it only after this plan's org switch change succeeded.
    bool requires_org_disabled = false;

    bool changes_tenant() const { return action != Action::report; }
};

// A change for people, its tenant text inert: "mailbox scanner@contoso.com SmtpClientAuthenticationDisabled".
std::string describe(const Change& change);
// The object the cmdlet names (its -Identity: a mailbox's Guid, a user's directory id, a policy's
// name), or "" when the cmdlet names none (the organization's settings).
std::string cmdlet_identity(const Change& change);
// What each phase is, for people: "exception grants", in apply order.
std::string_view phase_title(Phase phase);
inline constexpr std::array<Phase, 6> phases_in_order{Phase::policy_loosen,  Phase::grant,       Phase::org_switch,
                                                      Phase::policy_tighten, Phase::org_default, Phase::enforce};

struct ExceptionStatus {
    Name mailbox;
    std::string owner;
    std::string expires;  // as written
    ExceptionState state = ExceptionState::active;
    long days_left = 0;
    SourceLocation source;
};

struct Skipped {
    std::string target;
    std::string reason;  // "protected"
    std::string detail;  // what would have changed
};

// A sender a change would cut off (take SMTP AUTH, or only Basic SMTP, away from), with its use.
struct Cutoff {
    Name mailbox;
    std::string use;  // what was seen: "312 messages with Basic SMTP, last 2026-11-29 (1 day ago) (sign-in logs)"
    std::optional<Instant> last_seen;
    bool basic_only = false;              // the change takes Basic SMTP away; OAuth goes on
    bool recent = false;                  // seen within [guardrails] recent_use_days
    std::optional<std::string> accepted;  // why it may: accept_cutoff's reason, or "--accept-impact"
};

struct ChangeImpact {
    std::size_t change = 0;  // its index in Plan::changes
    std::vector<Cutoff> cutoffs;
    long inheriting = -1;  // the org switch turned off: mailboxes that inherit it (else -1)
    long inheriting_seen = 0;
};

// What the plan does to the senders seen using SMTP AUTH, and what the evidence could see.
struct PlanUsage {
    int days = 0;  // the window of evidence, in days
    std::vector<SourceReport> sources;
    std::vector<ChangeImpact> impacts;

    bool incomplete() const;
    std::size_t cutoff_count() const;
    // The impact of the change at `index` in the plan, or null.
    const ChangeImpact* of(std::size_t index) const;
};

// "inherited by 1204 mailboxes, 3 of them seen sending in the last 7 days"; "cuts off
// scanner-2@contoso.com: 312 messages with Basic SMTP ..." (accepted: why). For people, inert.
std::string describe(const ChangeImpact& impact, int days);
std::string describe(const Cutoff& cutoff);
// "sign-in logs: read, 1000 rows, 2026-11-23 to 2026-11-30" or "...: not read: why".
std::string describe(const SourceReport& source);

struct Plan {
    int format_version = 1;
    std::string tenant;
    Instant evaluated_at{};
    std::string desired_digest;
    std::vector<Change> changes;  // in apply order
    std::vector<ExceptionStatus> exceptions;
    std::vector<Diagnostic> warnings;
    std::vector<Skipped> skipped;
    std::optional<PlanUsage> usage;  // when usage evidence was asked for
    int max_changes = 0;             // [guardrails] max_changes, which apply holds it to (0: none known)

    std::size_t change_count() const;  // update + create
    std::size_t report_count() const;
    // Drift: anything the tenant holds that the desired state does not, changed or only reported.
    // plan --detailed-exitcode and reconcile exit 2 on it.
    bool has_drift() const { return !changes.empty(); }
    // More changes than max_changes: apply refuses the plan without --allow-large.
    bool exceeds_max_changes() const {
        return max_changes > 0 && change_count() > static_cast<std::size_t>(max_changes);
    }
};

// Grants: policies created or loosened, and exceptions granted.
bool is_grant(Phase phase);
// Enforcement that a grant must precede: the org switch, tightened policies, the default policy.
bool is_enforcement(Phase phase);

// The dependencies between a plan's changes, as apply makes them in order: a failed exception
// grant holds back the enforcement after it (which would break that exception); a change that
// requires the org switch off waits until this apply turned it off; a revocation of a user's
// sessions waits for the policy change before it.
class ChangeDependencies {
public:
    // Why `change` must not be made now, or nullopt.
    std::optional<std::string> held_back(const Change& change) const;
    // The outcome of a change that was sent: `made` when the tenant took it.
    void settled(const Change& change, bool made);

private:
    std::optional<std::string> failed_grant_;  // the first exception grant that failed
    bool org_switched_off_ = false;            // a Set-TransportConfig to disabled went through
    std::vector<std::string> failed_users_;    // users whose policy change failed
};

// What a scheduled reconcile makes of its plan: all of it, only the reverts of expired
// exceptions, or nothing (it records and reports).
enum class ReconcileMode { enforce, expiry, report };
template <>
struct EnumNames<ReconcileMode> {
    static constexpr std::array<std::pair<ReconcileMode, std::string_view>, 3> table{
        {{ReconcileMode::enforce, "enforce"}, {ReconcileMode::expiry, "expiry"}, {ReconcileMode::report, "report"}}};
};
bool makes(ReconcileMode mode, const Change& change);

// Whether two plans make the same changes to the tenant: the same list, in order, of resource,
// target, attribute, action, before and after (a revocation's time is taken when it is made, so
// only its presence counts). Nullopt when they do; otherwise the first difference, for people
// (tenant text shown inert). Reports, reasons and cmdlets are not compared: a reviewed plan is
// made with the cmdlets of the plan made now.
std::optional<std::string> first_difference(const Plan& reviewed, const Plan& made);

}  // namespace authgate
