#include "policies/planner.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_set>

#include "policies/lifecycle.h"

namespace authgate {
namespace {

constexpr std::string_view organization_target = "organization";

SettingValue optional_value(const std::optional<bool>& value) { return value ? SettingValue{*value} : SettingValue{}; }
SettingValue optional_value(const std::optional<std::string>& value) {
    return value ? SettingValue{*value} : SettingValue{};
}

std::string exception_context(const Exception& exception) {
    std::string text = "owner " + exception.owner;
    if (exception.ticket) text += ", " + *exception.ticket;
    return text;
}

// The optimal string alignment distance of `a` and `b` (already folded), or `bound + 1` once
// it is known to exceed `bound`.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t bound) {
    if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > bound) return bound + 1;
    std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        std::size_t row_best = current[0];
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                current[j] = std::min(current[j], before[j - 2] + 1);
            row_best = std::min(row_best, current[j]);
        }
        if (row_best > bound) return bound + 1;
        before.swap(previous);
        previous.swap(current);
    }
    return previous[b.size()];
}

// An exception or deny entry that names no live mailbox, judged once the plan is made.
struct MissingEntry {
    std::string address;
    std::string what;  // "exception owned by x", "listed in [smtp_auth] deny"
    std::string code;  // exception_missing, deny_missing
    std::string advice;
    SourceLocation source;
};

class Planner {
public:
    Planner(const DesiredState& desired, const LiveState& live, Instant now, const PlanHistory& history,
            const PlanOptions& options)
        : desired_(desired), live_(live), now_(now), history_(history), options_(options), index_(live) {}

    PlanResult run() {
        PlanResult result;
        result.plan.tenant = desired_.tenant ? desired_.tenant->id : "";
        result.plan.evaluated_at = now_;
        result.plan.desired_digest = desired_.digest;
        if (!require_live_parts(result.diagnostics)) return result;

        plan_policies();
        plan_default_policy();
        if (desired_.smtp_auth) {
            plan_org_switch();
            plan_exceptions();
            plan_deny();
            plan_unlisted_mailboxes();
            if (manages_user_policies()) plan_users();
            if (live_.users) plan_owed_revocations();
            judge_missing();
        }
        if (diagnostics_.has_errors()) {
            result.diagnostics = diagnostics_;
            return result;
        }

        std::stable_sort(ordered_.begin(), ordered_.end(), [](const Change& a, const Change& b) {
            return std::tie(a.phase, a.resource) < std::tie(b.phase, b.resource);
        });
        // For reviewers: whose mailbox each change touches, by the name people know it by.
        for (Change& change : ordered_)
            if (change.resource == Resource::mailbox || change.resource == Resource::user)
                if (const Mailbox* mailbox = index_.mailbox(change.target)) change.display_name = mailbox->display_name;
        result.plan.changes = std::move(ordered_);
        result.plan.max_changes = desired_.guardrails.max_changes;
        result.plan.exceptions = std::move(exceptions_);
        result.plan.skipped = std::move(skipped_);
        result.plan.warnings = diagnostics_.warnings();
        result.diagnostics = diagnostics_;
        return result;
    }

private:
    bool manages_user_policies() const {
        if (desired_.exception_settings.basic_auth_policy) return true;
        const auto& exceptions = desired_.smtp_auth->exceptions;
        return std::any_of(exceptions.begin(), exceptions.end(), [](const Exception& e) { return e.basic_auth; });
    }

    // Safety rule 3: what the plan needs must have been read.
    bool require_live_parts(Diagnostics& diagnostics) {
        std::vector<std::string> unknown;
        if (desired_.smtp_auth) {
            if (!live_.org_smtp_auth_disabled)
                unknown.push_back("the organization's SMTP AUTH setting (Get-TransportConfig)");
            if (!live_.mailboxes) unknown.push_back("the mailboxes (Get-CASMailbox)");
            if (manages_user_policies() && !live_.users)
                unknown.push_back("the users' authentication policies (Get-User)");
        }
        if ((!desired_.policies.empty() || desired_.organization) && !live_.policies)
            unknown.push_back("the authentication policies (Get-AuthenticationPolicy)");
        if (desired_.organization && desired_.organization->default_authentication_policy && !live_.organization)
            unknown.push_back("the organization's default authentication policy (Get-OrganizationConfig)");
        for (const auto& part : unknown)
            diagnostics.error({}, "could not read " + part + "; unknown is not absent, so no plan is made",
                              "live_unknown");
        return unknown.empty();
    }

    void add(Phase phase, Change change) {
        change.phase = phase;
        ordered_.push_back(std::move(change));
    }

    const LivePolicy* live_policy(std::string_view name) const { return index_.policy(name); }

    void plan_policies() {
        if (desired_.policies.empty()) return;
        for (const auto& policy : desired_.policies) {
            const LivePolicy* live = live_policy(policy.name);
            if (!live) {
                Change change{.resource = Resource::authentication_policy,
                              .target = policy.name,
                              .attribute = "Name",
                              .action = Action::create,
                              .after = SettingValue{policy.name},
                              .cmdlet = {"New-AuthenticationPolicy", {{"Name", policy.name}}},
                              .source = policy.source};
                std::string allowed;
                for (std::size_t i = 0; i < basic_auth_flag_count; ++i) {
                    if (!policy.flags[i]) continue;
                    change.cmdlet.parameters.emplace_back(std::string(basic_auth_flags[i].exchange_name), true);
                    allowed += (allowed.empty() ? "" : ", ") + std::string(basic_auth_flags[i].exchange_name);
                }
                change.detail = allowed.empty() ? "new policy blocking Basic auth for every protocol"
                                                : "new policy allowing " + allowed;
                add(Phase::policy_loosen, std::move(change));
                continue;
            }
            for (std::size_t i = 0; i < basic_auth_flag_count; ++i) {
                if (live->flags[i] == policy.flags[i]) continue;
                const std::string attribute(basic_auth_flags[i].exchange_name);
                add(policy.flags[i] ? Phase::policy_loosen : Phase::policy_tighten,
                    {.resource = Resource::authentication_policy,
                     .target = policy.name,
                     .attribute = attribute,
                     .before = SettingValue{live->flags[i]},
                     .after = SettingValue{policy.flags[i]},
                     .detail = "[[authentication_policy]] '" + policy.name + "' " +
                               std::string(basic_auth_flags[i].toml_key) + " = " + (policy.flags[i] ? "true" : "false"),
                     .cmdlet = {"Set-AuthenticationPolicy", {{"Identity", live->name}, {attribute, policy.flags[i]}}},
                     .source = policy.source});
            }
        }
        for (const auto& live : *live_.policies) {
            if (live.name == legacy_pseudo_policy || desired_.find_policy(live.name)) continue;
            diagnostics_.warning({}, "policy_not_declared",
                                 "authentication policy '" + live.name +
                                     "' exists in the tenant but is not declared; authgate leaves it alone");
        }
    }

    void plan_default_policy() {
        if (!desired_.organization || !desired_.organization->default_authentication_policy) return;
        const auto& declared = *desired_.organization->default_authentication_policy;
        const std::optional<std::string> wanted = declared.value.empty() ? std::nullopt
                                                                         : std::optional<std::string>(declared.value);
        const auto& current = live_.organization->default_authentication_policy;
        if (wanted.has_value() == current.has_value() && (!wanted || *current == *wanted)) return;
        if (wanted && !desired_.find_policy(*wanted) && !live_policy(*wanted)) {
            diagnostics_.error(declared.source, "default_authentication_policy '" + *wanted +
                                                    "' is neither declared nor present in the tenant");
            return;
        }
        add(Phase::org_default,
            {.resource = Resource::organization_config,
             .target = std::string(organization_target),
             .attribute = "DefaultAuthenticationPolicy",
             .before = optional_value(current),
             .after = optional_value(wanted),
             .detail = wanted ? "[organization] default_authentication_policy = '" + *wanted + "'"
                              : "[organization] default_authentication_policy = \"\" clears it",
             .cmdlet = {"Set-OrganizationConfig", {{"DefaultAuthenticationPolicy", optional_value(wanted)}}},
             .source = declared.source});
    }

    const Mailbox* find_mailbox(const std::string& address) const { return index_.mailbox(address); }

    // Whether SMTP AUTH is enabled for the organization after this plan's org switch change.
    bool org_enabled_after_plan() const {
        const auto& declared = desired_.smtp_auth->org_disabled;
        return declared ? !declared->value : !*live_.org_smtp_auth_disabled;
    }
    // Enabled now, and turned off by this plan (phase org_switch, before any revert).
    bool org_switched_off_by_plan() const { return !*live_.org_smtp_auth_disabled && !org_enabled_after_plan(); }

    void plan_org_switch() {
        const auto& declared = desired_.smtp_auth->org_disabled;
        if (!declared || *live_.org_smtp_auth_disabled == declared->value) return;
        add(Phase::org_switch,
            {.resource = Resource::transport_config,
             .target = std::string(organization_target),
             .attribute = "SmtpClientAuthenticationDisabled",
             .before = SettingValue{*live_.org_smtp_auth_disabled},
             .after = SettingValue{declared->value},
             .detail = std::string("[smtp_auth] org_disabled = ") + (declared->value ? "true" : "false"),
             .cmdlet = {"Set-TransportConfig", {{"SmtpClientAuthenticationDisabled", declared->value}}},
             .source = declared->source});
    }

    static std::string mailbox_identity(const Mailbox& mailbox) {
        return !mailbox.guid.empty() ? mailbox.guid : mailbox.external_directory_object_id;
    }

    // Plans one mailbox override, applying safety rules 1 (no implicit enablement) and 4 (protected).
    void plan_mailbox(const Mailbox& mailbox, std::optional<bool> wanted, Phase phase, Reason reason, Action action,
                      std::string detail, std::optional<SourceLocation> source) {
        if (mailbox.smtp_auth_disabled == wanted) return;
        // Inherit while the org is enabled would turn SMTP AUTH on for a mailbox that has it off.
        // When this plan turns the org switch off first, the revert waits for that to succeed.
        bool requires_org_disabled = false;
        if (!wanted && mailbox.smtp_auth_disabled == true && action != Action::report) {
            if (org_enabled_after_plan()) {
                action = Action::report;
                detail += "; not reverted: the organization setting enables SMTP AUTH, so inherit would enable it";
            } else if (org_switched_off_by_plan()) {
                requires_org_disabled = true;
                detail += "; made only once the organization switch is off";
            }
        }
        Change change{.resource = Resource::mailbox,
                      .target = mailbox.primary_smtp_address,
                      .attribute = "SmtpClientAuthenticationDisabled",
                      .action = action,
                      .before = optional_value(mailbox.smtp_auth_disabled),
                      .after = optional_value(wanted),
                      .reason = reason,
                      .detail = std::move(detail),
                      .cmdlet = {"Set-CASMailbox",
                                 {{"Identity", mailbox_identity(mailbox)},
                                  {"SmtpClientAuthenticationDisabled", optional_value(wanted)}}},
                      .source = std::move(source),
                      .requires_org_disabled = requires_org_disabled};
        if (desired_.is_protected(mailbox.primary_smtp_address)) {
            skip(change);
            return;
        }
        add(phase, std::move(change));
    }

    void skip(const Change& change) {
        skipped_.push_back({change.target, "protected",
                            "would " + std::string(change.action == Action::report ? "report " : "set ") +
                                change.attribute + " " + describe(change.before) + " -> " + describe(change.after) +
                                " (" + std::string(to_string(change.reason)) + ")"});
    }

    void plan_exceptions() {
        const ExceptionSettings& settings = desired_.exception_settings;
        for (const Exception& exception : desired_.smtp_auth->exceptions) {
            ExceptionStatus status{exception.mailbox,          exception.owner,
                                   exception.expires_text,     state_at(exception, settings, now_),
                                   days_left(exception, now_), exception.source};
            const Mailbox* mailbox = find_mailbox(exception.mailbox);
            listed_.insert(exception.mailbox);
            if (!mailbox) {
                status.state = ExceptionState::missing;
                exceptions_.push_back(status);
                missing_.push_back({exception.mailbox, "exception owned by " + exception.owner, "exception_missing",
                                    "check the address or remove the exception", exception.source});
                continue;
            }
            exceptions_.push_back(status);
            if (status.state == ExceptionState::expired) {
                plan_mailbox(*mailbox, std::nullopt, Phase::enforce, Reason::exception_expired, Action::update,
                             "exception expired " + exception.expires_text + " (" + exception_context(exception) + ")",
                             exception.source);
            } else if (!mailbox->smtp_auth_disabled && org_enabled_after_plan()) {
                // It inherits SMTP AUTH from an organization that has it on, and keeps it on: the
                // exception holds without an override; the plan that turns the switch off grants it.
                continue;
            } else {
                plan_mailbox(*mailbox, false, Phase::grant, Reason::exception_active, Action::update,
                             "exception until " + exception.expires_text + " (" + exception_context(exception) + ")",
                             exception.source);
            }
        }
    }

    void plan_deny() {
        for (const auto& entry : desired_.smtp_auth->deny) {
            listed_.insert(entry.value);
            const Mailbox* mailbox = find_mailbox(entry.value);
            if (!mailbox) {
                missing_.push_back({entry.value, "listed in [smtp_auth] deny", "deny_missing",
                                    "check the address or remove it from the list", entry.source});
                continue;
            }
            plan_mailbox(*mailbox, true, Phase::enforce, Reason::declared, Action::update, "listed in [smtp_auth] deny",
                         entry.source);
        }
    }

    void plan_unlisted_mailboxes() {
        const UnlistedOverrides mode = desired_.smtp_auth->unlisted_overrides;
        std::vector<const Mailbox*> unlisted;
        for (const auto& mailbox : *live_.mailboxes) {
            if (!mailbox.smtp_auth_disabled) continue;  // most mailboxes inherit
            if (listed_.count(mailbox.primary_smtp_address)) continue;
            const auto grant = history_.granted.find(mailbox.primary_smtp_address);
            if (grant != history_.granted.end() && mailbox.smtp_auth_disabled == false) {
                // A removed exception still in force: it goes, like an expired one.
                plan_mailbox(mailbox, std::nullopt, Phase::enforce, Reason::exception_expired, Action::update,
                             "exception removed from the desired state (was granted until " + grant->second.expires +
                                 ", owner " + grant->second.owner + ")",
                             std::nullopt);
                continue;
            }
            if (mode != UnlistedOverrides::ignore) unlisted.push_back(&mailbox);
        }
        std::sort(unlisted.begin(), unlisted.end(),
                  [](const Mailbox* a, const Mailbox* b) { return a->primary_smtp_address < b->primary_smtp_address; });
        for (const Mailbox* mailbox : unlisted)
            plan_mailbox(*mailbox, std::nullopt, Phase::enforce, Reason::unlisted_override,
                         mode == UnlistedOverrides::revert ? Action::update : Action::report,
                         std::string("explicit override with no exception or deny entry"), unlisted_source());
    }

    // An unlisted override is caused by the absence of an entry: the setting that says what to do
    // with it is the line to point at, when it is written.
    std::optional<SourceLocation> unlisted_source() const {
        const SourceLocation& source = desired_.smtp_auth->unlisted_overrides_source;
        return source.known() ? std::optional<SourceLocation>(source) : std::nullopt;
    }

    void plan_users() {
        const auto& setting = desired_.exception_settings.basic_auth_policy;
        const std::string policy = setting ? setting->value : std::string();
        std::set<const LiveUser*> covered;
        for (const Exception& exception : desired_.smtp_auth->exceptions) {
            const Mailbox* mailbox = find_mailbox(exception.mailbox);
            if (!mailbox || !exception.basic_auth) continue;
            const LiveUser* user = index_.user_of(*mailbox);
            if (user) covered.insert(user);
            const std::optional<std::string> current = user ? user->authentication_policy : std::nullopt;
            const bool assigned = current && *current == policy;
            const std::string identity = user && !user->external_directory_object_id.empty()
                                             ? user->external_directory_object_id
                                             : (!mailbox->external_directory_object_id.empty()
                                                    ? mailbox->external_directory_object_id
                                                    : mailbox->guid);
            const ExceptionState state = state_at(exception, desired_.exception_settings, now_);
            if (state != ExceptionState::expired && !assigned) {
                plan_user(mailbox->primary_smtp_address, identity, current, policy, Phase::grant,
                          Reason::exception_active, Action::update,
                          "basic_auth exception until " + exception.expires_text + " (" + exception_context(exception) +
                              ")",
                          exception.source);
            } else if (state == ExceptionState::expired && assigned) {
                plan_user(mailbox->primary_smtp_address, identity, current, std::nullopt, Phase::enforce,
                          Reason::exception_expired, Action::update,
                          "basic_auth exception expired " + exception.expires_text + " (" +
                              exception_context(exception) + ")",
                          exception.source);
            }
        }

        const UnlistedOverrides mode = desired_.smtp_auth->unlisted_overrides;
        if (mode == UnlistedOverrides::ignore) return;
        std::vector<const LiveUser*> unlisted;
        for (const auto& user : *live_.users)
            if (!covered.count(&user) && user.authentication_policy && *user.authentication_policy == policy)
                unlisted.push_back(&user);
        for (const LiveUser* user : unlisted) {
            const std::string target = user_target(*user);
            plan_user(target,
                      user->external_directory_object_id.empty() ? user->identity : user->external_directory_object_id,
                      user->authentication_policy, std::nullopt, Phase::enforce, Reason::unlisted_override,
                      mode == UnlistedOverrides::revert ? Action::update : Action::report,
                      "assigned to basic_auth_policy '" + policy + "' with no basic_auth exception", unlisted_source());
        }
    }

    // The mailbox address of a user where known, so that targets read the same everywhere.
    std::string user_target(const LiveUser& user) const {
        const Mailbox* mailbox = index_.mailbox_of(user);
        if (mailbox) return mailbox->primary_smtp_address;
        return user.user_principal_name.empty() ? user.identity : user.user_principal_name;
    }

    void plan_user(const std::string& target, const std::string& identity, const std::optional<std::string>& current,
                   const std::optional<std::string>& wanted, Phase phase, Reason reason, Action action,
                   std::string detail, std::optional<SourceLocation> source) {
        Change change{.resource = Resource::user,
                      .target = target,
                      .attribute = "AuthenticationPolicy",
                      .action = action,
                      .before = optional_value(current),
                      .after = optional_value(wanted),
                      .reason = reason,
                      .detail = std::move(detail),
                      .cmdlet = {"Set-User",
                                 {{"Identity", identity}, {"AuthenticationPolicy", optional_value(wanted)}}},
                      .source = source};
        if (desired_.is_protected(target)) {
            skip(change);
            return;
        }
        add(phase, change);
        if (wanted || action == Action::report) return;
        add_revocation(phase, target, identity, reason,
                       "revokes refresh tokens so that the policy removal takes effect within about 30 minutes",
                       source);
    }

    // Without this a policy removal takes up to 24 hours to bite; with it about 30 minutes.
    void add_revocation(Phase phase, const std::string& target, const std::string& identity, Reason reason,
                        std::string detail, std::optional<SourceLocation> source) {
        const std::string stamp = format_exchange_instant(now_);
        add(phase, {.resource = Resource::user,
                    .target = target,
                    .attribute = "STSRefreshTokensValidFrom",
                    .after = SettingValue{stamp},
                    .reason = reason,
                    .detail = std::move(detail),
                    .cmdlet = {"Set-User", {{"Identity", identity}, {"STSRefreshTokensValidFrom", stamp}}},
                    .source = source});
    }

    // A removal an earlier run made without the revocation after it: the revocation cannot be
    // read back, so only the journal knows it is owed.
    void plan_owed_revocations() {
        for (const auto& [target, reason] : history_.revocations_owed) {
            const bool planned = std::any_of(ordered_.begin(), ordered_.end(), [&](const Change& change) {
                return change.resource == Resource::user && equals_ignoring_case(change.target, target);
            });
            const Mailbox* mailbox = index_.mailbox(target);
            if (planned || !mailbox || desired_.is_protected(mailbox->primary_smtp_address)) continue;
            const LiveUser* user = index_.user_of(*mailbox);
            if (user && user->authentication_policy) continue;  // the removal did not happen; planned as usual
            const std::string identity =
                !mailbox->external_directory_object_id.empty() ? mailbox->external_directory_object_id : mailbox->guid;
            add_revocation(Phase::enforce, mailbox->primary_smtp_address, identity, reason,
                           "completes an earlier run: its policy removal was made, the revocation of refresh tokens "
                           "after it was not",
                           std::nullopt);
        }
    }

    // A missing mailbox whose address is close to one this plan changes is likely a typo of it:
    // the plan fails, or (reconcile) that mailbox is left alone and reported. Otherwise it is a
    // warning naming the nearest live addresses, or an error when the guardrail says so.
    void judge_missing() {
        const bool always_error = desired_.guardrails.missing_mailbox == MissingMailbox::error;
        for (const MissingEntry& entry : missing_) {
            const std::vector<std::string> similar = similar_addresses(entry.address, *live_.mailboxes);
            const std::string head = "no mailbox has the address '" + entry.address + "' (" + entry.what + ")";
            const Change* changed = nullptr;
            for (const std::string& address : similar) {
                if (listed_.count(address)) continue;  // named in its own right
                for (const Change& change : ordered_)
                    if (change.changes_tenant() && change.resource == Resource::mailbox &&
                        equals_ignoring_case(change.target, address)) {
                        changed = &change;
                        break;
                    }
                if (changed) break;
            }
            if (changed) {
                const std::string target = changed->target;
                const std::string what = changed->attribute + " " + describe(changed->before) + " -> " +
                                         describe(changed->after) + ", " + std::string(to_string(changed->reason));
                if (always_error || options_.similar_mailbox == SimilarMailbox::refuse) {
                    diagnostics_.error(entry.source,
                                       head + "; did you mean '" + target + "', which this plan would change (" + what +
                                           ")? Correct the address; nothing is changed until then",
                                       entry.code + "_similar");
                    continue;
                }
                for (Change& change : ordered_)
                    if (change.resource == Resource::mailbox && equals_ignoring_case(change.target, target) &&
                        change.changes_tenant()) {
                        change.action = Action::report;
                        change.detail = "held: '" + entry.address + "' (" + source_text(entry.source) +
                                        ") may mean this mailbox; " + change.detail;
                    }
                diagnostics_.warning(entry.source, entry.code + "_similar",
                                     head + "; did you mean '" + target + "'? Its change (" + what +
                                         ") is held, reported and not made, until the address is corrected");
                continue;
            }
            std::string message = head + "; " + entry.advice;
            if (!similar.empty()) {
                message += " (nearest live addresses: ";
                for (std::size_t i = 0; i < similar.size(); ++i) message += (i ? ", '" : "'") + similar[i] + "'";
                message += ")";
            }
            if (always_error)
                diagnostics_.error(entry.source, message + "; [guardrails] missing_mailbox = \"error\"", entry.code);
            else diagnostics_.warning(entry.source, entry.code, message);
        }
    }

    static std::string source_text(const SourceLocation& source) {
        return source.file + ":" + std::to_string(source.line);
    }

    const DesiredState& desired_;
    const LiveState& live_;
    const Instant now_;
    const PlanHistory& history_;
    const PlanOptions options_;
    std::vector<MissingEntry> missing_;
    Diagnostics diagnostics_;
    std::vector<Change> ordered_;
    std::vector<ExceptionStatus> exceptions_;
    std::vector<Skipped> skipped_;
    const LiveIndex index_;
    std::unordered_set<Name> listed_;
};

}  // namespace

PlanResult make_plan(const DesiredState& desired, const LiveState& live, Instant now, const PlanHistory& history,
                     const PlanOptions& options) {
    return Planner(desired, live, now, history, options).run();
}

std::vector<std::string> similar_addresses(const std::string& address, const std::vector<Mailbox>& mailboxes,
                                           std::size_t limit) {
    constexpr std::size_t bound = 2;
    const std::string wanted = fold_case(address);
    std::vector<std::pair<std::size_t, std::string>> found;
    for (const Mailbox& mailbox : mailboxes) {
        const std::string& candidate = mailbox.primary_smtp_address;
        if ((candidate.size() > wanted.size() ? candidate.size() - wanted.size() : wanted.size() - candidate.size()) >
            bound)
            continue;
        const std::size_t distance = edit_distance(wanted, fold_case(candidate), bound);
        if (distance <= bound && distance > 0) found.emplace_back(distance, candidate);
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> nearest;
    for (std::size_t i = 0; i < found.size() && i < limit; ++i) nearest.push_back(found[i].second);
    return nearest;
}

void prepend_warnings(Plan& plan, const Diagnostics& desired) {
    const auto own = desired.warnings();
    plan.warnings.insert(plan.warnings.begin(), own.begin(), own.end());
}

std::optional<std::string> exceeds_max_changes(std::size_t changes, const Guardrails& guardrails) {
    if (static_cast<long long>(changes) <= guardrails.max_changes) return std::nullopt;
    return "the plan has " + std::to_string(changes) +
           " changes, more than [guardrails] max_changes = " + std::to_string(guardrails.max_changes);
}

}  // namespace authgate
