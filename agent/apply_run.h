#pragma once
// An apply as a run of the journal: the tenant's lock, the changes journalled as they settle,
// the exception lifecycle events, and a summary that names every change not made. Shared by
// apply and reconcile.
#include <iosfwd>
#include <optional>
#include <string>

#include "agent/apply.h"
#include "agent/connection.h"
#include "agent/interrupt.h"
#include "agent/log.h"
#include "agent/terminal.h"
#include "state/journal.h"

namespace authgate {

// Holds the tenant's apply lock for the life of the run; released on every way out (never
// throwing: a lock that cannot be released runs out with its lease). The tenant
// is named by its journal key (its GUID once signed in), so that every spelling of one tenant
// shares one lock. Its lease is measured by `system`, the real world's clock (never --at): it
// is about processes being alive.
class TenantLock {
public:
    TenantLock(Journal& journal, std::string tenant, const Clock& system);
    ~TenantLock();
    TenantLock(const TenantLock&) = delete;
    TenantLock& operator=(const TenantLock&) = delete;

    // Nullopt when taken; otherwise who holds it. A holder on this host, since its last boot,
    // whose process is gone is taken over at once rather than after its lease. Taking it
    // settles the runs of the tenant that died (all but `own_run`) as interrupted.
    std::optional<LockHolder> acquire(long long own_run);
    // Extends the lease. False when this run no longer holds the lock (its lease ran out and
    // another run took it): it must write nothing more.
    [[nodiscard]] bool renew();
    const std::string& tenant() const { return tenant_; }

private:
    Journal& journal_;
    std::string tenant_;
    LockHolder me_;
    const Clock& system_;
    bool held_ = false;
};

// The key the journal and the lock know a tenant by: its GUID from the session's sign-in, in
// lower case, whatever spelling `name` (as given) is; the journal's records made under any
// spelling of `name` are moved to it. Throws ConnectorError when the sign-in fails.
std::string tenant_key(TenantSession& session, const std::string& name, Journal& journal);

// Whether `holder` ran on the host of `me` (this run) since its last boot and its process is gone.
bool holder_is_dead(const LockHolder& holder, const LockHolder& me);

// This process: "host:pid" and this boot of this machine.
LockHolder this_process();

// One run of apply or reconcile in the journal, from its start to its outcome. Made, it begins the
// run (so that a refused or failed run is recorded too); keyed, it knows the tenant by the GUID
// the sign-in names; locked, it holds the tenant's lock until it ends. It is settled once, by
// finish() (apply_journalled calls it); a command that leaves without settling it (an exception)
// leaves it settled as failed by the destructor, which never throws.
class JournalRun {
public:
    // `clock` is the command's (it stamps what is journalled); `system` the real world's (the
    // lock's lease, the revocations sent). With a logger, each settled run is logged in a line.
    JournalRun(Journal& journal, RunRecord record, const Clock& clock, const Clock& system, Logger* logger = nullptr);
    ~JournalRun();
    JournalRun(const JournalRun&) = delete;
    JournalRun& operator=(const JournalRun&) = delete;

    RunRecord& record() { return record_; }
    Journal& journal() { return journal_; }
    const Clock& clock() const { return clock_; }
    const Clock& system() const { return system_; }

    // Keys the run by its tenant's GUID from the sign-in of `session` (which may throw
    // ConnectorError), and settles the report runs of the tenant whose process is gone.
    void key(TenantSession& session);
    // Takes the tenant's lock for the rest of the run: nullopt when taken, else who holds it.
    std::optional<LockHolder> lock();
    // Extends the lease; false when the run holds no lock any more (or never took it).
    [[nodiscard]] bool renew_lock();
    // Records what the plan holds: changes, reports, warnings.
    void count(const Plan& plan);
    // Settles the run. Throws JournalError when the journal cannot be written.
    void finish(RunOutcome outcome, const std::string& error = "");
    // Settles the run in memory only, when the journal cannot be written (the next run that
    // takes the tenant's lock settles it there as interrupted).
    void finish_unrecorded(RunOutcome outcome, const std::string& error);
    bool finished() const { return finished_; }

private:
    Journal& journal_;
    RunRecord record_;
    const Clock& clock_;
    const Clock& system_;
    Logger* logger_;
    std::optional<TenantLock> lock_;
    bool finished_ = false;
};

struct JournalledApply {
    JournalRun& run;
    std::ostream& out;  // a line per change and the summary
    std::ostream& err;  // every change not made
    Logger* logger = nullptr;
    Progress* progress = nullptr;                // "applying: 12 of 15" on a terminal
    const InterruptGuard* interrupts = nullptr;  // SIGINT and SIGTERM stop the writes
};

struct JournalledResult {
    ApplyResult apply;
    int signal = 0;                            // the signal that stopped the writes, if one did
    std::optional<std::string> journal_error;  // the journal could not be written

    bool succeeded() const { return apply.succeeded() && !journal_error && !signal; }
    int exit_code() const;  // 0; 128 + the signal; else 1
};

// Applies `plan`, journals every change and lifecycle event, prints the outcome, and settles
// the run (applied, failed, outcome). Before each write the run confirms it still
// holds the tenant's lock, and was not interrupted; otherwise it sends nothing more. A journal
// that cannot be written stops the writes too (nothing is sent that is not journalled first);
// the run then reports what was made and never throws for it.
JournalledResult apply_journalled(const Plan& plan, TenantConnector& connector, JournalledApply& context);

// The plan's changes as the journal's drift rows of `tenant`, seen at `now`.
std::vector<DriftRecord> drift_of(const std::string& tenant, const std::vector<Change>& changes, Instant now);
// Drift that a run fixed is closed by that run: what stays open is what its plan holds and it did
// not make. A reconcile opens that too (open_new); an apply only keeps open what was open already.
enum class DriftOpening { open_new, keep_open_only };
void close_fixed_drift(Journal& journal, const std::string& tenant, const Plan& plan, const ApplyResult& result,
                       Instant now, Logger& logger, DriftOpening opening = DriftOpening::keep_open_only);

}  // namespace authgate
