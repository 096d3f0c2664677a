#include "agent/apply.h"

#include <algorithm>

#include "policies/readback.h"

namespace authgate {
namespace {

// Groups of changes sent together: a run of Set-CASMailbox in one phase, or a single change.
std::vector<std::pair<std::size_t, std::size_t>> groups_of(const std::vector<const Change*>& changes) {
    std::vector<std::pair<std::size_t, std::size_t>> groups;
    for (std::size_t i = 0; i < changes.size();) {
        std::size_t end = i + 1;
        if (changes[i]->resource == Resource::mailbox)
            while (end < changes.size() && changes[end]->resource == Resource::mailbox &&
                   changes[end]->phase == changes[i]->phase)
                ++end;
        groups.emplace_back(i, end);
        i = end;
    }
    return groups;
}

}  // namespace

int ApplyResult::count(ChangeStatus outcome) const {
    return static_cast<int>(
        std::count_if(changes.begin(), changes.end(), [&](const AppliedChange& c) { return c.outcome == outcome; }));
}

bool ApplyResult::succeeded() const {
    return !verification_error && !stopped && count(ChangeStatus::failed) == 0 && count(ChangeStatus::skipped) == 0 &&
           count(ChangeStatus::uncertain) == 0;
}

namespace {

// A revocation is read back one user at a time (the user may be on no policy, so no listing
// shows it): made when the tenant's StsRefreshTokensValidFrom is at least what was sent. Where
// the tenant cannot tell, or the read fails, a revocation Exchange accepted stays "applied".
void verify_revocations(ApplyResult& result, TenantConnector& connector) {
    for (AppliedChange& applied : result.changes) {
        if (!applied.revoked_from || applied.change.attribute != "STSRefreshTokensValidFrom") continue;
        if (applied.outcome != ChangeStatus::applied && applied.outcome != ChangeStatus::uncertain) continue;
        std::optional<std::string> shown;
        try {
            shown = connector.read_tokens_valid_from(identity_of(applied.change));
        } catch (const ConnectorError&) {
            continue;
        }
        if (!shown) continue;
        const std::optional<Instant> from = parse_instant(*shown);
        if (from && *from >= *applied.revoked_from) {
            applied.outcome = ChangeStatus::verified;
            applied.error.clear();
        } else if (applied.outcome == ChangeStatus::applied) {
            applied.outcome = ChangeStatus::failed;
            applied.error = "Exchange accepted Set-User but " + applied.change.target +
                            " shows STSRefreshTokensValidFrom = " + *shown + " when read back, before the " +
                            format_instant(*applied.revoked_from) + " sent";
        } else {
            applied.outcome = ChangeStatus::failed;
            applied.error += "; the read-back shows it was not made";
        }
    }
}

// Reads the tenant to learn what became of the uncertain writes among `sent`. When the read
// fails too they stay uncertain.
void settle_uncertain(ApplyResult& result, const std::vector<std::size_t>& sent, TenantConnector& connector) {
    LiveState live;
    try {
        live = connector.read_live_state();
    } catch (const ConnectorError&) {
        return;
    }
    const LiveIndex index(live);
    for (const std::size_t i : sent) {
        AppliedChange& applied = result.changes[i];
        if (applied.outcome != ChangeStatus::uncertain) continue;
        if (shows(applied.change, live, index)) {
            applied.outcome = ChangeStatus::applied;
            applied.error.clear();
        } else if (live_value(applied.change, live, index) || applied.change.action == Action::create) {
            applied.outcome = ChangeStatus::failed;
            applied.error += "; the read-back shows it was not made";
        }
    }
}

}  // namespace

ApplyResult apply_plan(const Plan& plan, TenantConnector& connector, const authgate::Clock& clock,
                       const ApplyHooks& hooks) {
    std::vector<const Change*> changes;
    for (const Change& change : plan.changes)
        if (change.changes_tenant()) changes.push_back(&change);

    ApplyResult result;
    result.changes.resize(changes.size());
    ChangeDependencies dependencies;
    using Clock = std::chrono::steady_clock;
    const auto since = [](Clock::time_point start) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    };
    const Clock::time_point writes_started = Clock::now();

    const auto stop_at = [&](std::size_t first, const std::string& reason) {
        result.stopped = reason;
        for (std::size_t i = first; i < changes.size(); ++i) {
            AppliedChange& applied = result.changes[i];
            applied.change = *changes[i];
            applied.outcome = ChangeStatus::skipped;
            applied.error = "not made: " + reason;
            applied.revoked_from.reset();
            if (hooks.settled) hooks.settled(applied);
        }
    };
    // The calls of a group's hooks, together when the hooks can (one journal transaction).
    const auto together = [&hooks](const std::function<void()>& work) {
        if (hooks.together) return hooks.together(work);
        work();
        return true;
    };
    for (const auto& [first, end] : groups_of(changes)) {
        if (hooks.stop)
            if (std::optional<std::string> reason = hooks.stop()) {
                stop_at(first, *reason);
                break;
            }
        std::vector<Cmdlet> cmdlets;
        std::vector<std::size_t> sent;
        bool recorded = true;
        const auto prepare = [&, first = first, end = end] {
            for (std::size_t i = first; i < end; ++i) {
                const Change& change = *changes[i];
                AppliedChange& applied = result.changes[i];
                applied.change = change;
                if (const std::optional<std::string> reason = dependencies.held_back(change)) {
                    applied.error = "not made: " + *reason;
                    continue;
                }
                Cmdlet cmdlet = change.cmdlet;
                if (change.attribute == "STSRefreshTokensValidFrom") {
                    // Revocation counts from when it is applied, not from when it was planned.
                    applied.revoked_from = clock.now();
                    const std::string stamp = format_exchange_instant(*applied.revoked_from);
                    for (auto& [name, value] : cmdlet.parameters)
                        if (name == change.attribute) value = stamp;
                }
                if (hooks.sending && !hooks.sending(i, change)) {
                    recorded = false;
                    break;
                }
                cmdlets.push_back(std::move(cmdlet));
                sent.push_back(i);
            }
        };
        if (!together(prepare)) recorded = false;
        if (!recorded) {
            stop_at(first, "the journal could not record the change before it was sent");
            break;
        }
        const std::vector<WriteOutcome> outcomes = cmdlets.empty() ? std::vector<WriteOutcome>{}
                                                                   : connector.write(cmdlets);
        bool must_settle = false;
        for (std::size_t k = 0; k < sent.size(); ++k) {
            AppliedChange& applied = result.changes[sent[k]];
            const WriteOutcome& outcome = outcomes[k];
            applied.outcome = outcome.made()        ? ChangeStatus::applied
                              : outcome.uncertain() ? ChangeStatus::uncertain
                                                    : ChangeStatus::failed;
            applied.error = outcome.error;
            applied.client_request_id = outcome.client_request_id;
            applied.warnings = outcome.warnings;
            const Change& change = applied.change;
            must_settle |= !outcome.made() && outcome.uncertain() &&
                           (is_grant(change.phase) || change.resource == Resource::transport_config ||
                            change.resource == Resource::user);
        }
        // Later changes depend on these (enforcement on grants, reverts on the org switch, the
        // revocation on the policy removal): an answer lost in transit is settled by reading now.
        if (must_settle) settle_uncertain(result, sent, connector);
        for (const std::size_t i : sent) {
            const AppliedChange& applied = result.changes[i];
            dependencies.settled(applied.change, applied.outcome == ChangeStatus::applied);
        }
        const auto settle = [&, first = first, end = end] {
            for (std::size_t i = first; i < end; ++i)
                if (hooks.settled) hooks.settled(result.changes[i]);
        };
        together(settle);
    }

    result.write_time = since(writes_started);
    if (result.stopped) return result;

    // Read everything back: a change counts as made only when the tenant shows it.
    const Clock::time_point read_back_started = Clock::now();
    LiveState live;
    try {
        live = connector.read_live_state();
    } catch (const ConnectorError& error) {
        result.verification_error = std::string("the changes could not be read back: ") + error.what();
        return result;
    }
    result.verify_time = since(read_back_started);
    const LiveIndex index(live);
    for (AppliedChange& applied : result.changes) {
        if (applied.outcome == ChangeStatus::skipped) continue;
        const Change& change = applied.change;
        const std::optional<SettingValue> now_value = live_value(change, live, index);
        if (shows(change, live, index)) {
            // An uncertain write that the tenant shows was made after all.
            applied.outcome = ChangeStatus::verified;
            applied.error.clear();
        } else if (applied.outcome == ChangeStatus::applied && now_value) {
            applied.outcome = ChangeStatus::failed;
            applied.error = "Exchange accepted " + change.cmdlet.name + " but " + change.target + " shows " +
                            change.attribute + " = " + describe(*now_value) + " when read back";
        } else if (applied.outcome == ChangeStatus::uncertain && (now_value || change.action == Action::create)) {
            // The read-back settles it: the write was not made.
            applied.outcome = ChangeStatus::failed;
            applied.error += "; the read-back shows it was not made";
        }
    }
    verify_revocations(result, connector);
    return result;
}

}  // namespace authgate
