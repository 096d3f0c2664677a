#include "agent/apply_run.h"

#include <cstdlib>
#include <ostream>

#include "policies/printable.h"
#include "agent/state_options.h"

namespace authgate {
namespace {

// How long a lock outlives the last sign of life of its holder. AUTHGATE_LOCK_LEASE shortens it
// for crash tests (scripts/crash-loop); it is not meant for production.
std::chrono::seconds lock_lease() {
    if (const char* text = std::getenv("AUTHGATE_LOCK_LEASE"); text && *text)
        if (const auto lease = parse_duration(text); lease && lease->count() > 0) return *lease;
    return std::chrono::seconds{600};
}

ChangeStatus journal_status(ChangeOutcome outcome) {
    switch (outcome) {
        case ChangeOutcome::verified: return ChangeStatus::verified;
        case ChangeOutcome::applied: return ChangeStatus::applied;
        case ChangeOutcome::failed: return ChangeStatus::failed;
        case ChangeOutcome::skipped: return ChangeStatus::skipped;
        case ChangeOutcome::uncertain: return ChangeStatus::uncertain;
    }
    return ChangeStatus::failed;
}

// The exception lifecycle as the journal tells it to auditors.
void record_exception_events(Journal& journal, long long run_id, const Plan& plan, const ApplyResult& result, Instant now) {
    for (const AppliedChange& applied : result.changes) {
        const Change& change = applied.change;
        if (applied.outcome != ChangeOutcome::verified || change.resource != Resource::mailbox) continue;
        if (change.reason != Reason::exception_active && change.reason != Reason::exception_expired) continue;
        bool listed = false;
        for (const ExceptionStatus& exception : plan.exceptions) {
            if (!equals_ignoring_case(exception.mailbox, change.target)) continue;
            listed = true;
            const ExceptionEvent event =
                change.reason == Reason::exception_active ? ExceptionEvent::granted : ExceptionEvent::reverted;
            journal.record_exception_event({run_id, plan.tenant, exception.mailbox, event, exception.owner,
                                            exception.expires, 0, now});
        }
        if (listed || change.reason != Reason::exception_expired) continue;
        // Reverted with no exception in the desired state: one that was removed from it.
        const PlanHistory history = journal.plan_history(plan.tenant);
        if (const auto grant = history.granted.find(fold_case(change.target)); grant != history.granted.end())
            journal.record_exception_event({run_id, plan.tenant, change.target, ExceptionEvent::removed,
                                            grant->second.owner, grant->second.expires, 0, now});
    }
}

}  // namespace

TenantLock::TenantLock(Journal& journal, std::string tenant, const Clock& system)
    : journal_(journal), tenant_(std::move(tenant)), holder_(lock_holder_name()), system_(system) {}

TenantLock::~TenantLock() {
    if (held_) journal_.release_lock(tenant_, holder_);
}

std::optional<LockHolder> TenantLock::acquire() {
    const Instant now = system_.now();
    auto other = journal_.acquire_lock(tenant_, holder_, now, lock_lease());
    held_ = !other;
    // Holding the lock, no other writer of this tenant is alive: a run still "running" died.
    if (held_) journal_.settle_interrupted_runs(tenant_, now);
    return other;
}

void TenantLock::renew() { journal_.renew_lock(tenant_, holder_, system_.now(), lock_lease()); }

std::string describe(const Change& change) {
    return std::string(to_string(change.resource)) + " " + printable(change.target) + " " + printable(change.attribute);
}

ApplyResult apply_journalled(const Plan& plan, TenantConnector& connector, JournalledApply& context) {
    Journal& journal = context.journal;
    RunRecord& run = context.run;
    context.out << "\nApplying " << plan.change_count() << " changes...\n";
    int sequence = 0;
    std::vector<bool> recorded(plan.changes.size(), false);
    // The intent is journalled before the write goes out, so that a run killed in between
    // leaves a trace ("sending", later "uncertain") rather than nothing.
    const auto sending = [&](std::size_t index, const Change& change) {
        journal.record_change({run.id, static_cast<int>(index) + 1, change, ChangeStatus::sending, "", "", context.clock.now()});
        recorded[index] = true;
    };
    const ApplyResult result = apply_plan(
        plan, connector, context.system,
        [&](const AppliedChange& applied) {
            const std::size_t index = static_cast<std::size_t>(sequence++);
            if (recorded[index])
                journal.update_change(run.id, sequence, journal_status(applied.outcome), applied.error,
                                      applied.client_request_id);
            else
                journal.record_change({run.id, sequence, applied.change, journal_status(applied.outcome), applied.error,
                                       applied.client_request_id, context.clock.now()});
            context.lock.renew();
            if (context.progress)
                context.progress->update("applying: " + std::to_string(sequence) + " of " +
                                         std::to_string(plan.change_count()));
        },
        sending);
    if (context.progress) context.progress->update("reading the changes back");
    if (context.progress) context.progress->done();
    for (std::size_t i = 0; i < result.changes.size(); ++i) {
        const AppliedChange& applied = result.changes[i];
        journal.update_change(run.id, static_cast<int>(i) + 1, journal_status(applied.outcome), applied.error);
        context.out << "  " << to_string(applied.outcome) << "  " << describe(applied.change);
        if (!applied.error.empty()) context.out << ": " << printable(applied.error);
        context.out << "\n";
        if (context.logger)
            context.logger->log(applied.outcome == ChangeOutcome::failed || applied.outcome == ChangeOutcome::uncertain
                                    ? LogLevel::error
                                    : LogLevel::info,
                                "change",
                                describe(applied.change),
                                {{"status", std::string(to_string(applied.outcome))},
                                 {"before", value_text(applied.change.before)},
                                 {"after", value_text(applied.change.after)},
                                 {"reason", std::string(to_string(applied.change.reason))},
                                 {"client_request_id", applied.client_request_id},
                                 {"error", applied.error}});
    }
    record_exception_events(journal, run.id, plan, result, context.clock.now());

    run.applied = result.count(ChangeOutcome::verified) + result.count(ChangeOutcome::applied);
    run.failed = result.count(ChangeOutcome::failed) + result.count(ChangeOutcome::skipped) +
                 result.count(ChangeOutcome::uncertain);
    context.out << "\nApply finished: " << result.count(ChangeOutcome::verified) << " verified, "
                << result.count(ChangeOutcome::applied) << " applied (cannot be read back), "
                << result.count(ChangeOutcome::failed) << " failed, ";
    if (const int uncertain = result.count(ChangeOutcome::uncertain))
        context.out << uncertain << " uncertain (may or may not have been made), ";
    context.out << result.count(ChangeOutcome::skipped) << " not made.\n";
    if (!result.succeeded()) {
        if (result.verification_error) context.err << "error: " << printable(*result.verification_error) << "\n";
        for (const AppliedChange& applied : result.changes)
            if (applied.outcome == ChangeOutcome::failed || applied.outcome == ChangeOutcome::skipped ||
                applied.outcome == ChangeOutcome::uncertain)
                context.err << "error: " << describe(applied.change) << ": " << printable(applied.error) << "\n";
    }
    run.finished_at = context.clock.now();
    run.outcome = result.succeeded() ? "succeeded" : run.applied > 0 ? "partial" : "failed";
    run.error = result.succeeded() ? ""
                : result.verification_error ? *result.verification_error
                                            : std::to_string(run.failed) + " changes not made";
    journal.finish_run(run);
    return result;
}

}  // namespace authgate
