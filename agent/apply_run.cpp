#include "agent/apply_run.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <ostream>

#include "agent/state_options.h"
#include "policies/printable.h"

namespace authgate {
namespace {

// How long a lock outlives the last sign of life of its holder. AUTHGATE_LOCK_LEASE shortens it
// for crash tests (scripts/crash-loop); it is not meant for production.
std::chrono::seconds lock_lease() {
    if (const char* text = std::getenv("AUTHGATE_LOCK_LEASE"); text && *text)
        if (const auto lease = parse_duration(text); lease && lease->count() > 0) return *lease;
    return std::chrono::seconds{600};
}

// The exception lifecycle as the journal tells it to auditors.
void record_exception_events(Journal& journal, long long run_id, const std::string& tenant, const Plan& plan,
                             const ApplyResult& result, Instant now) {
    std::optional<PlanHistory> history;
    for (const AppliedChange& applied : result.changes) {
        const Change& change = applied.change;
        if (applied.outcome != ChangeStatus::verified || change.resource != Resource::mailbox) continue;
        if (change.reason != Reason::exception_active && change.reason != Reason::exception_expired) continue;
        bool listed = false;
        for (const ExceptionStatus& exception : plan.exceptions) {
            if (exception.mailbox != change.target) continue;
            listed = true;
            const ExceptionEvent event = change.reason == Reason::exception_active ? ExceptionEvent::granted
                                                                                   : ExceptionEvent::reverted;
            journal.record_exception_event(
                {run_id, tenant, exception.mailbox, event, exception.owner, exception.expires, 0, now});
        }
        if (listed || change.reason != Reason::exception_expired) continue;
        // Reverted with no exception in the desired state: one that was removed from it.
        if (!history) history = journal.plan_history(tenant);  // read once, when first needed
        if (const auto grant = history->granted.find(change.target); grant != history->granted.end())
            journal.record_exception_event({run_id, tenant, change.target, ExceptionEvent::removed, grant->second.owner,
                                            grant->second.expires, 0, now});
    }
}

std::string host_name() {
    char host[256] = "unknown-host";
    gethostname(host, sizeof host - 1);
    return host;
}

// This boot of this machine; "" where the system does not say.
std::string boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

}  // namespace

std::string tenant_key(TenantSession& session, const std::string& name, Journal& journal) {
    const std::string key = fold_case(session.tenant_id());
    journal.adopt_tenant(name, key);
    return key;
}

bool holder_is_dead(const LockHolder& holder, const LockHolder& me) {
    const std::size_t colon = holder.holder.rfind(':');
    const std::size_t my_colon = me.holder.rfind(':');
    if (colon == std::string::npos || holder.boot_id.empty() || holder.boot_id != me.boot_id) return false;
    if (holder.holder.compare(0, colon, me.holder, 0, my_colon) != 0 || colon != my_colon) return false;
    const std::string pid_text = holder.holder.substr(colon + 1);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9)
        return false;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    // Only "no such process" is dead: a process of another user (EPERM) is alive.
    return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

LockHolder this_process() { return {host_name() + ":" + std::to_string(getpid()), {}, {}, boot_id()}; }

TenantLock::TenantLock(Journal& journal, std::string tenant, const Clock& system)
    : journal_(journal), tenant_(std::move(tenant)), me_(this_process()), system_(system) {}

TenantLock::~TenantLock() {
    if (!held_) return;
    try {
        journal_.release_lock(tenant_, me_.holder);
    } catch (...) {
        // The journal cannot be written (disk full): the lease runs out on its own.
    }
}

std::optional<LockHolder> TenantLock::acquire(long long own_run) {
    const Instant now = system_.now();
    auto other = journal_.acquire_lock(tenant_, me_, now, lock_lease(),
                                       [this](const LockHolder& held) { return holder_is_dead(held, me_); });
    held_ = !other;
    // Holding the lock, no other writer of this tenant is alive: a run still "running" died.
    if (held_) journal_.settle_interrupted_runs(tenant_, now, own_run);
    return other;
}

bool TenantLock::renew() {
    held_ = held_ && journal_.renew_lock(tenant_, me_.holder, system_.now(), lock_lease());
    return held_;
}

JournalRun::JournalRun(Journal& journal, RunRecord record, const Clock& clock, const Clock& system, Logger* logger)
    : journal_(journal), record_(std::move(record)), clock_(clock), system_(system), logger_(logger) {
    record_.process = this_process();
    record_.outcome = RunOutcome::running;
    record_.id = journal_.begin_run(record_);
}

JournalRun::~JournalRun() {
    if (finished_) return;
    try {
        finish(RunOutcome::failed,
               record_.error.empty() ? "the run ended before it was settled (an error)" : record_.error);
    } catch (...) {
        // The journal cannot be written: the next run that takes the lock settles this one.
    }
}

void JournalRun::key(TenantSession& session) {
    record_.tenant = tenant_key(session, record_.tenant_name, journal_);
    const LockHolder me = record_.process;
    journal_.settle_dead_report_runs(record_.tenant, system_.now(),
                                     [&](const LockHolder& holder) { return holder_is_dead(holder, me); });
}

std::optional<LockHolder> JournalRun::lock() {
    lock_.emplace(journal_, record_.tenant, system_);
    return lock_->acquire(record_.id);
}

bool JournalRun::renew_lock() { return lock_ && lock_->renew(); }

void JournalRun::count(const Plan& plan) {
    record_.planned = static_cast<int>(plan.change_count());
    record_.reported = static_cast<int>(plan.report_count());
    record_.warnings = static_cast<int>(plan.warnings.size());
}

void JournalRun::finish_unrecorded(RunOutcome outcome, const std::string& error) {
    finished_ = true;
    record_.finished_at = clock_.now();
    record_.outcome = outcome;
    record_.error = error;
    if (logger_)
        logger_->log(outcome == RunOutcome::succeeded ? LogLevel::info : LogLevel::error, "run",
                     std::string(to_string(record_.command)) + " " + std::string(to_string(outcome)),
                     {{"mode", std::string(to_string(record_.mode))},
                      {"tenant", record_.tenant_name},
                      {"planned", std::to_string(record_.planned)},
                      {"applied", std::to_string(record_.applied)},
                      {"failed", std::to_string(record_.failed)},
                      {"reported", std::to_string(record_.reported)},
                      {"warnings", std::to_string(record_.warnings)},
                      {"error", record_.error}});
}

void JournalRun::finish(RunOutcome outcome, const std::string& error) {
    finish_unrecorded(outcome, error);  // once, even when the journal refuses it
    journal_.finish_run(record_);
}

int JournalledResult::exit_code() const {
    if (signal) return 128 + signal;
    return succeeded() ? 0 : 1;
}

JournalledResult apply_journalled(const Plan& plan, TenantConnector& connector, JournalledApply& context) {
    Journal& journal = context.run.journal();
    RunRecord& run = context.run.record();
    JournalledResult outcome;
    // Every journal write goes through here: once one fails, none more is tried, and the run
    // stops writing to the tenant (what it sends must be journalled first).
    const auto journalled = [&](const auto& write) {
        if (outcome.journal_error) return false;
        try {
            write();
            return true;
        } catch (const JournalError& error) {
            outcome.journal_error = error.what();
            return false;
        }
    };
    context.out << "\nApplying " << plan.change_count() << (plan.change_count() == 1 ? " change" : " changes")
                << "...\n";
    int sequence = 0;
    std::vector<bool> recorded(plan.changes.size(), false);
    ApplyHooks hooks;
    hooks.stop = [&]() -> std::optional<std::string> {
        if (context.interrupts && context.interrupts->signal()) {
            outcome.signal = context.interrupts->signal();
            return std::string("interrupted by ") + signal_name(outcome.signal);
        }
        bool held = false;
        if (!journalled([&] { held = context.run.renew_lock(); })) return "the journal cannot be written";
        if (!held)
            return "this run no longer holds the tenant's lock (its lease ran out; another run may have taken it)";
        return std::nullopt;
    };
    // The intent is journalled before the write goes out, so that a run killed in between
    // leaves a trace ("sending", later "uncertain") rather than nothing.
    hooks.sending = [&](std::size_t index, const Change& change) {
        recorded[index] = journalled([&] {
            journal.record_change({run.id, static_cast<int>(index) + 1, change, ChangeStatus::sending, "", "",
                                   context.run.clock().now()});
        });
        return recorded[index];
    };
    // A group's intents in one transaction, committed before any of it is sent; its outcomes in
    // another. A failed commit sends nothing of the group.
    hooks.together = [&](const std::function<void()>& work) {
        bool ran = false;
        const bool kept = journalled([&] {
            journal.together([&] {
                ran = true;
                work();
            });
        });
        if (!ran) work();  // the journal failed before: each call inside fails on its own, as before
        return kept && !outcome.journal_error;
    };
    hooks.settled = [&](const AppliedChange& applied) {
        const std::size_t index = static_cast<std::size_t>(sequence++);
        journalled([&] {
            if (recorded[index])
                journal.update_change(run.id, sequence, applied.outcome, applied.error, applied.client_request_id);
            else
                journal.record_change({run.id, sequence, applied.change, applied.outcome, applied.error,
                                       applied.client_request_id, context.run.clock().now()});
        });
        if (context.progress)
            context.progress->update("applying: " + std::to_string(sequence) + " of " +
                                     std::to_string(plan.change_count()));
    };
    outcome.apply = apply_plan(plan, connector, context.run.system(), hooks);
    const ApplyResult& result = outcome.apply;
    if (context.progress) context.progress->done();
    for (std::size_t i = 0; i < result.changes.size(); ++i) {
        const AppliedChange& applied = result.changes[i];
        journalled([&] { journal.update_change(run.id, static_cast<int>(i) + 1, applied.outcome, applied.error); });
        context.out << "  " << to_string(applied.outcome) << "  " << describe(applied.change);
        if (!applied.error.empty()) context.out << ": " << printable(applied.error);
        context.out << "\n";
        if (context.logger)
            context.logger->log(applied.outcome == ChangeStatus::failed || applied.outcome == ChangeStatus::uncertain
                                    ? LogLevel::error
                                    : LogLevel::info,
                                "change", describe(applied.change),
                                {{"status", std::string(to_string(applied.outcome))},
                                 {"before", value_text(applied.change.before)},
                                 {"after", value_text(applied.change.after)},
                                 {"reason", std::string(to_string(applied.change.reason))},
                                 {"client_request_id", applied.client_request_id},
                                 {"error", applied.error}});
    }
    journalled([&] { record_exception_events(journal, run.id, run.tenant, plan, result, context.run.clock().now()); });

    run.applied = result.count(ChangeStatus::verified) + result.count(ChangeStatus::applied);
    run.failed = result.count(ChangeStatus::failed) + result.count(ChangeStatus::skipped) +
                 result.count(ChangeStatus::uncertain);
    if (result.stopped)
        context.out << "\nApply stopped (" << *result.stopped << "): " << result.count(ChangeStatus::applied)
                    << " applied (accepted, not read back), " << result.count(ChangeStatus::failed) << " failed, ";
    else
        context.out << "\nApply finished: " << result.count(ChangeStatus::verified) << " verified, "
                    << result.count(ChangeStatus::applied) << " applied (cannot be read back), "
                    << result.count(ChangeStatus::failed) << " failed, ";
    if (const int uncertain = result.count(ChangeStatus::uncertain))
        context.out << uncertain << " uncertain (may or may not have been made), ";
    context.out << result.count(ChangeStatus::skipped) << " not made.\n";
    if (!result.succeeded()) {
        if (result.verification_error) context.err << "error: " << printable(*result.verification_error) << "\n";
        if (result.stopped && !outcome.signal) context.err << "error: the apply stopped: " << *result.stopped << "\n";
        for (const AppliedChange& applied : result.changes)
            if (applied.outcome == ChangeStatus::failed || applied.outcome == ChangeStatus::uncertain ||
                (applied.outcome == ChangeStatus::skipped && !result.stopped))
                context.err << "error: " << describe(applied.change) << ": " << printable(applied.error) << "\n";
    }
    const RunOutcome settled = outcome.signal       ? RunOutcome::interrupted
                               : result.succeeded() ? RunOutcome::succeeded
                               : run.applied > 0    ? RunOutcome::partial
                                                    : RunOutcome::failed;
    const std::string error = result.succeeded() ? ""
                              : result.stopped   ? *result.stopped
                              : result.verification_error
                                  ? *result.verification_error
                                  : std::to_string(run.failed) + (run.failed == 1 ? " change" : " changes") +
                                        " not made";
    if (!journalled([&] { context.run.finish(settled, error); })) context.run.finish_unrecorded(settled, error);
    if (outcome.signal)
        context.err << "Interrupted by " << signal_name(outcome.signal) << ": " << run.applied << " of "
                    << result.changes.size() << (result.changes.size() == 1 ? " change was" : " changes were")
                    << " sent and accepted; the rest were not sent. "
                    << "The journal records the run as interrupted.\n";
    if (outcome.journal_error)
        context.err << "error: the journal could not be written (" << printable(*outcome.journal_error)
                    << "); no change was sent after that. The lines above say what was made; the journal may not "
                       "record all of it.\n";
    return outcome;
}

std::vector<DriftRecord> drift_of(const std::string& tenant, const std::vector<Change>& changes, Instant now) {
    std::vector<DriftRecord> drift;
    for (const Change& change : changes)
        drift.push_back({tenant, std::string(to_string(change.resource)), change.target, change.attribute,
                         value_text(change.after), value_text(change.before), now, now, std::nullopt});
    return drift;
}

void close_fixed_drift(Journal& journal, const std::string& tenant, const Plan& plan, const ApplyResult& result,
                       Instant now, Logger& logger, DriftOpening opening) try {
    std::vector<Change> left;
    for (const Change& change : plan.changes) {
        const bool made = std::any_of(result.changes.begin(), result.changes.end(), [&](const AppliedChange& applied) {
            return (applied.outcome == ChangeStatus::verified || applied.outcome == ChangeStatus::applied) &&
                   applied.change.resource == change.resource && applied.change.target == change.target &&
                   applied.change.attribute == change.attribute;
        });
        if (!made) left.push_back(change);
    }
    std::vector<DriftRecord> still = drift_of(tenant, left, now);
    if (opening == DriftOpening::keep_open_only) {
        const std::vector<DriftRecord> open = journal.open_drift(tenant);
        if (open.empty()) return;
        std::erase_if(still, [&](const DriftRecord& drift) {
            return std::none_of(open.begin(), open.end(), [&](const DriftRecord& row) {
                return row.resource == drift.resource && equals_ignoring_case(row.target, drift.target) &&
                       row.attribute == drift.attribute;
            });
        });
    }
    journal.observe_drift(tenant, still, now);
} catch (const std::exception& error) {
    // The changes are made and journalled; the next run closes what this one could not.
    logger.warn("journal", "the drift this run fixed could not be closed", {{"error", error.what()}});
}

}  // namespace authgate
