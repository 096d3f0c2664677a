#include "policies/impact.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "policies/printable.h"

namespace authgate {

bool PlanUsage::incomplete() const {
    return std::any_of(sources.begin(), sources.end(), [](const SourceReport& source) { return !source.read; });
}

const ChangeImpact* PlanUsage::of(std::size_t index) const {
    for (const ChangeImpact& impact : impacts)
        if (impact.change == index) return &impact;
    return nullptr;
}

std::string describe(const ChangeImpact& impact, int days) {
    if (impact.inheriting < 0) return "";
    return "inherited by " + std::to_string(impact.inheriting) +
           (impact.inheriting == 1 ? " mailbox, " : " mailboxes, ") + std::to_string(impact.inheriting_seen) +
           " of them seen sending in the last " + std::to_string(days) + " days";
}

std::string describe(const Cutoff& cutoff) {
    std::string text = std::string(cutoff.basic_only ? "takes Basic SMTP from " : "cuts off ") +
                       printable(cutoff.mailbox.text()) + ": " + cutoff.use;
    if (cutoff.accepted) text += " [accepted: " + printable(*cutoff.accepted) + "]";
    return text;
}

std::string describe(const SourceReport& source) {
    std::string text = std::string(to_string(source.source)) + ": ";
    if (!source.read) return text + "not read: " + printable(source.why_not);
    text += "read, " + std::to_string(source.rows) + (source.rows == 1 ? " sender" : " senders") + ", " +
            format_instant(source.from).substr(0, 10) + " to " + format_instant(source.to).substr(0, 10);
    for (const std::string& note : source.notes) text += "; " + printable(note);
    return text;
}

std::size_t PlanUsage::cutoff_count() const {
    std::size_t count = 0;
    for (const ChangeImpact& impact : impacts) count += impact.cutoffs.size();
    return count;
}

namespace {

constexpr std::string_view smtp_attribute = "SmtpClientAuthenticationDisabled";

const bool* as_bool(const SettingValue& value) { return std::get_if<bool>(&value); }

// SMTP AUTH is on for a mailbox with this override when the org switch is `org_disabled`.
bool smtp_on(const std::optional<bool>& override_disabled, bool org_disabled) {
    return override_disabled ? !*override_disabled : !org_disabled;
}

std::optional<bool> override_of(const SettingValue& value) {
    if (const bool* disabled = as_bool(value)) return *disabled;
    return std::nullopt;
}

// Whether a policy (by name) allows Basic SMTP, as the plan leaves it.
class PolicyFlags {
public:
    PolicyFlags(const Plan& plan, const LiveState& live) {
        if (live.policies)
            for (const LivePolicy& policy : *live.policies) smtp_[policy.name] = policy.flags[smtp_flag];
        for (const Change& change : plan.changes) {
            if (change.resource != Resource::authentication_policy || change.attribute != "AllowBasicAuthSmtp")
                continue;
            if (const bool* allowed = as_bool(change.after)) after_[change.target] = *allowed;
        }
    }
    bool before(const std::optional<Name>& policy) const { return policy && lookup(smtp_, *policy); }
    bool after(const std::optional<Name>& policy) const {
        if (!policy) return false;
        if (const auto found = after_.find(*policy); found != after_.end()) return found->second;
        return lookup(smtp_, *policy);
    }

private:
    static bool lookup(const std::unordered_map<Name, bool>& flags, const Name& policy) {
        const auto found = flags.find(policy);
        return found != flags.end() && found->second;
    }
    std::unordered_map<Name, bool> smtp_;
    std::unordered_map<Name, bool> after_;
};

}  // namespace

PlanUsage assess_impact(const Plan& plan, const DesiredState& desired, const LiveState& live,
                        const UsageEvidence& evidence, Instant now, const ImpactOptions& options) {
    PlanUsage usage;
    usage.days = options.days;
    usage.sources = evidence.sources;
    const Instant since = now - std::chrono::hours(24) * options.days;
    std::unordered_map<Name, MailboxUsage> seen;
    for (MailboxUsage& sender : usage_by_sender(evidence, live, since))
        if (sender.matched) seen.emplace(sender.mailbox, std::move(sender));

    const std::optional<int> recent_days = desired.guardrails.recent_use_days
                                               ? std::optional<int>(desired.guardrails.recent_use_days->value)
                                               : std::nullopt;
    std::unordered_map<Name, std::string> accepted;
    if (desired.smtp_auth)
        for (const AcceptedCutoff& entry : desired.smtp_auth->accept_cutoff) accepted[entry.mailbox] = entry.reason;
    const auto cutoff = [&](const MailboxUsage& sender, bool basic_only) {
        Cutoff result;
        result.mailbox = sender.mailbox;
        result.use = describe(sender, now);
        result.last_seen = sender.last_seen;
        result.basic_only = basic_only;
        result.recent = recent_days && sender.last_seen &&
                        *sender.last_seen >= now - std::chrono::hours(24) * *recent_days;
        if (const auto found = accepted.find(sender.mailbox); found != accepted.end())
            result.accepted = "accept_cutoff: " + found->second;
        else if (options.accept_all) result.accepted = "--accept-impact";
        return result;
    };

    // The org switch and each mailbox's override, before and after the plan.
    const bool org_before = live.org_smtp_auth_disabled.value_or(false);
    bool org_after = org_before;
    std::unordered_map<Name, const Change*> mailbox_changes;
    for (const Change& change : plan.changes) {
        if (!change.changes_tenant() || change.attribute != smtp_attribute) continue;
        if (change.resource == Resource::transport_config) {
            if (const bool* disabled = as_bool(change.after)) org_after = *disabled;
        } else if (change.resource == Resource::mailbox) {
            mailbox_changes[change.target] = &change;
        }
    }

    LiveIndex index(live);
    const PolicyFlags policies(plan, live);
    for (std::size_t i = 0; i < plan.changes.size(); ++i) {
        const Change& change = plan.changes[i];
        if (!change.changes_tenant()) continue;
        ChangeImpact impact;
        impact.change = i;
        if (change.resource == Resource::transport_config && change.attribute == smtp_attribute && org_after &&
            !org_before) {
            // Turned off: every mailbox that inherits it after the plan loses SMTP AUTH.
            impact.inheriting = 0;
            if (live.mailboxes) {
                for (const Mailbox& mailbox : *live.mailboxes) {
                    const auto own = mailbox_changes.find(mailbox.primary_smtp_address);
                    const std::optional<bool> after = own == mailbox_changes.end() ? mailbox.smtp_auth_disabled
                                                                                   : override_of(own->second->after);
                    if (after) continue;
                    ++impact.inheriting;
                    const auto sender = seen.find(mailbox.primary_smtp_address);
                    if (sender == seen.end()) continue;
                    ++impact.inheriting_seen;
                    // A mailbox that this plan also changes is listed under its own change.
                    if (own == mailbox_changes.end()) impact.cutoffs.push_back(cutoff(sender->second, false));
                }
            }
        } else if (change.resource == Resource::mailbox && change.attribute == smtp_attribute) {
            const bool before_on = smtp_on(override_of(change.before), org_before);
            const bool after_on = smtp_on(override_of(change.after), org_after);
            if (before_on && !after_on)
                if (const auto sender = seen.find(change.target); sender != seen.end())
                    impact.cutoffs.push_back(cutoff(sender->second, false));
        } else if (change.resource == Resource::user && change.attribute == "AuthenticationPolicy") {
            // Basic SMTP goes with a policy that allowed it.
            const auto name_of = [](const SettingValue& value) -> std::optional<Name> {
                if (const auto* text = std::get_if<std::string>(&value)) return Name(*text);
                return std::nullopt;
            };
            if (policies.before(name_of(change.before)) && !policies.after(name_of(change.after)))
                if (const LiveUser* user = index.user(change.target))
                    if (const Mailbox* mailbox = index.mailbox_of(*user))
                        if (const auto sender = seen.find(mailbox->primary_smtp_address);
                            sender != seen.end() && sender->second.basic)
                            impact.cutoffs.push_back(cutoff(sender->second, true));
        } else if (change.resource == Resource::authentication_policy && change.attribute == "AllowBasicAuthSmtp") {
            const bool* allowed = as_bool(change.after);
            if (allowed && !*allowed && live.users) {
                for (const LiveUser& user : *live.users) {
                    if (!user.authentication_policy || !(*user.authentication_policy == change.target)) continue;
                    if (const Mailbox* mailbox = index.mailbox_of(user))
                        if (const auto sender = seen.find(mailbox->primary_smtp_address);
                            sender != seen.end() && sender->second.basic)
                            impact.cutoffs.push_back(cutoff(sender->second, true));
                }
            }
        }
        if (!impact.cutoffs.empty() || impact.inheriting >= 0) usage.impacts.push_back(std::move(impact));
    }
    return usage;
}

void check_recent_use(const PlanUsage& usage, const DesiredState& desired, bool accept_all, Diagnostics& diagnostics) {
    if (!desired.guardrails.recent_use_days) return;
    const int* days = &desired.guardrails.recent_use_days->value;
    const SourceLocation& where = desired.guardrails.recent_use_days->source;
    const bool cuts_off = std::any_of(usage.impacts.begin(), usage.impacts.end(), [](const ChangeImpact& impact) {
        return !impact.cutoffs.empty() || impact.inheriting > 0;
    });
    for (const ChangeImpact& impact : usage.impacts) {
        for (const Cutoff& cut : impact.cutoffs) {
            if (!cut.recent || cut.accepted) continue;
            diagnostics.error(where,
                              "this plan cuts off " + printable(cut.mailbox.text()) + ", seen sending within " +
                                  std::to_string(*days) + " days ([guardrails] recent_use_days): " + cut.use +
                                  "; give it an exception, or accept the cut-off in [smtp_auth] accept_cutoff with a "
                                  "reason, or run with --accept-impact",
                              "recent_use");
        }
    }
    if (cuts_off && usage.incomplete() && !accept_all) {
        std::string unread;
        for (const SourceReport& source : usage.sources)
            if (!source.read)
                unread += (unread.empty() ? "" : "; ") + std::string(to_string(source.source)) + ": " + source.why_not;
        diagnostics.error(where,
                          "the usage evidence could not be read (" + printable(unread) +
                              "), and [guardrails] recent_use_days is set: this plan cuts off mailboxes, and unknown "
                              "use is not no use; fix the source, or run with --accept-impact",
                          "usage_unknown");
    }
}

namespace {

bool can_judge_unused(const DesiredState& desired, const UsageEvidence& evidence) {
    return desired.exception_settings.unused_days && desired.smtp_auth && !evidence.sources.empty() &&
           !evidence.incomplete();
}

// The senders seen within [exceptions] unused_days of `now`, by mailbox.
std::unordered_map<Name, MailboxUsage> recent_senders(const DesiredState& desired, const LiveState& live,
                                                      const UsageEvidence& evidence, Instant now) {
    std::unordered_map<Name, MailboxUsage> seen;
    const int days = desired.exception_settings.unused_days->value;
    for (MailboxUsage& sender : usage_by_sender(evidence, live, now - std::chrono::hours(24) * days))
        seen.emplace(sender.mailbox, std::move(sender));
    return seen;
}

}  // namespace

std::optional<std::set<Name>> unused_exceptions(const DesiredState& desired, const LiveState& live,
                                                const UsageEvidence& evidence, Instant now) {
    if (!can_judge_unused(desired, evidence)) return std::nullopt;
    const auto seen = recent_senders(desired, live, evidence, now);
    std::set<Name> unused;
    for (const Exception& exception : desired.smtp_auth->exceptions)
        if (exception.expires > now && !seen.count(exception.mailbox)) unused.insert(exception.mailbox);
    return unused;
}

void warn_unused_exceptions(const DesiredState& desired, const LiveState& live, const UsageEvidence& evidence,
                            Instant now, Diagnostics& diagnostics) {
    if (!desired.exception_settings.unused_days || !desired.smtp_auth || desired.smtp_auth->exceptions.empty()) return;
    const int* days = &desired.exception_settings.unused_days->value;
    if (!can_judge_unused(desired, evidence)) {
        diagnostics.warning(desired.exception_settings.unused_days->source, "unused_unknown",
                            "[exceptions] unused_days is set, but the usage evidence could not be read in full: "
                            "which exceptions are unused is not known");
        return;
    }
    const auto seen = recent_senders(desired, live, evidence, now);
    for (const Exception& exception : desired.smtp_auth->exceptions) {
        if (exception.expires <= now) continue;
        const auto sender = seen.find(exception.mailbox);
        if (sender == seen.end()) {
            diagnostics.warning(exception.source, "exception_unused",
                                "exception for " + printable(exception.mailbox.text()) + " (owner " +
                                    printable(exception.owner) + "): no SMTP AUTH use seen in " +
                                    std::to_string(*days) + " days; remove it if the sender has moved on");
        } else if (exception.basic_auth && sender->second.oauth && !sender->second.basic) {
            diagnostics.warning(exception.source, "basic_auth_unneeded",
                                "exception for " + printable(exception.mailbox.text()) +
                                    ": basic_auth no longer needed, seen only on OAuth SMTP in " +
                                    std::to_string(*days) + " days");
        }
    }
}

}  // namespace authgate
