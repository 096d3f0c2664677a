#pragma once
// The journal: what authgate did, for auditors, and the lock that keeps two applies off one
// tenant. In a SQLite file or a PostgreSQL database (state/database.h), with one schema and one
// behaviour. It holds plan data only; no token, assertion, key or password is ever written.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "policies/plan.h"
#include "policies/planner.h"
#include "policies/time.h"
#include "state/database.h"

namespace authgate {

struct LockHolder {
    std::string holder;  // "host:pid"
    Instant acquired_at{};
    Instant lease_until{};
    std::string boot_id;  // the holder's host's boot, to tell whether its pid can still be alive
};

enum class RunCommand { apply, reconcile };
template <>
struct EnumNames<RunCommand> {
    static constexpr std::array<std::pair<RunCommand, std::string_view>, 2> table{
        {{RunCommand::apply, "apply"}, {RunCommand::reconcile, "reconcile"}}};
};
// An apply of a fresh plan (none) or of a saved one; a reconcile's mode.
enum class RunMode { none, saved_plan, enforce, expiry, report };
template <>
struct EnumNames<RunMode> {
    static constexpr std::array<std::pair<RunMode, std::string_view>, 5> table{{{RunMode::none, ""},
                                                                                {RunMode::saved_plan, "saved-plan"},
                                                                                {RunMode::enforce, "enforce"},
                                                                                {RunMode::expiry, "expiry"},
                                                                                {RunMode::report, "report"}}};
};
RunMode run_mode(ReconcileMode mode);
// interrupted: stopped by a signal, or found dead (killed, crashed) by a later run.
// declined: the person at the prompt answered no.
enum class RunOutcome { running, succeeded, failed, partial, refused, interrupted, declined };
template <>
struct EnumNames<RunOutcome> {
    static constexpr std::array<std::pair<RunOutcome, std::string_view>, 7> table{{
        {RunOutcome::running, "running"},
        {RunOutcome::succeeded, "succeeded"},
        {RunOutcome::failed, "failed"},
        {RunOutcome::partial, "partial"},
        {RunOutcome::refused, "refused"},
        {RunOutcome::interrupted, "interrupted"},
        {RunOutcome::declined, "declined"},
    }};
};

struct RunRecord {
    long long id = 0;
    RunCommand command = RunCommand::apply;
    RunMode mode = RunMode::none;
    std::string tenant;       // the key: the tenant's GUID once known (Journal::adopt_tenant)
    std::string tenant_name;  // as the run was given it, for people; "" in runs before the key
    std::string desired_digest;
    Instant started_at{};
    std::optional<Instant> finished_at;
    RunOutcome outcome = RunOutcome::running;
    int planned = 0;
    int applied = 0;
    int failed = 0;
    int reported = 0;
    int warnings = 0;
    std::string error;
    LockHolder process;  // the process that ran it: holder ("host:pid") and boot_id

    const std::string& display_tenant() const { return tenant_name.empty() ? tenant : tenant_name; }
};

struct ChangeRecord {
    long long run_id = 0;
    int sequence = 0;
    Change change;
    ChangeStatus status = ChangeStatus::planned;
    std::string error;
    std::string client_request_id;
    Instant at{};
};

// A change as the journal holds it, for history and audit.
struct JournalChange {
    int sequence = 0;
    std::string resource, target, attribute, action;
    std::string before, after;  // JSON text
    std::string reason, status, error, client_request_id;
    bool verified = false;
    Instant at{};
};

enum class ExceptionEvent { granted, warned, expired, reverted, removed };
template <>
struct EnumNames<ExceptionEvent> {
    static constexpr std::array<std::pair<ExceptionEvent, std::string_view>, 5> table{{
        {ExceptionEvent::granted, "granted"},
        {ExceptionEvent::warned, "warned"},
        {ExceptionEvent::expired, "expired"},
        {ExceptionEvent::reverted, "reverted"},
        {ExceptionEvent::removed, "removed"},
    }};
};

struct ExceptionEventRecord {
    long long run_id = 0;
    std::string tenant;
    std::string mailbox;
    ExceptionEvent event = ExceptionEvent::granted;
    std::string owner;
    std::string expires;
    int threshold_days = 0;  // for "warned": which warn_days threshold
    Instant at{};
};

struct DriftRecord {
    std::string tenant;
    std::string resource;
    std::string target;
    std::string attribute;
    std::string expected;  // JSON text of the value
    std::string actual;
    Instant first_seen{};
    Instant last_seen{};
    std::optional<Instant> resolved_at;
};

// An owner notice sent by e-mail, or tried and failed (then tried again by the next run).
struct NoticeRecord {
    long long run_id = 0;
    std::string tenant;
    std::string mailbox;
    std::string notice;  // what makes it once: "warning 14 days 2027-03-31", "expired 2027-03-31", ...
    std::string owner;
    std::string recipients;  // every address it went to, comma-separated
    std::string transport;   // graph, smtp
    bool sent = false;
    std::string message_id;  // the Message-ID authgate gave it
    int attempts = 1;
    std::string error;  // why the last attempt failed
    Instant at{};
};

class Journal {
public:
    // Opens the journal at `location` (a PostgreSQL URI, else a SQLite file's path, made with
    // its folders as needed) and migrates it to the current schema.
    static Journal open(const std::string& location);
    // For the commands that only read: the journal when one is there (a SQLite file, a
    // PostgreSQL database with authgate's tables), else nullopt and nothing is created.
    static std::optional<Journal> open_existing(const std::string& location);
    Journal(Journal&& other) noexcept;
    Journal& operator=(Journal&&) = delete;
    ~Journal();

    int schema_version() const;
    // Where it is, for people (a URI without its password).
    std::string location() const;
    Dialect dialect() const;

    long long begin_run(const RunRecord& run);
    void finish_run(const RunRecord& run);
    void record_change(const ChangeRecord& change);
    // Runs `work` (records and updates of changes) in one write transaction, committed at its end:
    // a thousand intents cost one commit, not a thousand. Throws JournalError when the commit
    // fails, and then nothing of `work` is kept.
    void together(const std::function<void()>& work);
    // Settles a recorded change once it has been read back.
    void update_change(long long run_id, int sequence, ChangeStatus status, const std::string& error,
                       const std::optional<std::string>& client_request_id = std::nullopt);
    // Runs of `tenant` that write and are still "running" although the caller now holds the
    // tenant's lock ended without finishing (killed, crashed, power lost): they become
    // "interrupted", their changes still "sending" become "uncertain". The caller's own run,
    // `own_run`, is not one of them. Returns how many runs.
    int settle_interrupted_runs(const std::string& tenant, Instant now, long long own_run = 0);
    // Report runs take no lock: one of `tenant` still "running" whose process `dead` says is gone
    // becomes "interrupted". Returns how many.
    int settle_dead_report_runs(const std::string& tenant, Instant now,
                                const std::function<bool(const LockHolder&)>& dead);
    // False when an event of that kind for that exception and threshold was already recorded
    // (warnings are sent once per threshold).
    bool record_exception_event(const ExceptionEventRecord& event);
    bool was_recorded(const std::string& tenant, const std::string& mailbox, const std::string& expires,
                      ExceptionEvent event, int threshold_days) const;

    // Drift seen in this run: opens new rows, refreshes last_seen, and resolves rows of the
    // tenant no longer in `current`. Returns the drift seen for the first time.
    std::vector<DriftRecord> observe_drift(const std::string& tenant, const std::vector<DriftRecord>& current,
                                           Instant now);
    std::vector<DriftRecord> open_drift(const std::string& tenant) const;
    // Drift open and resolved: the open first, then the most recently seen, at most `limit` rows.
    std::vector<DriftRecord> drift_history(const std::string& tenant, int limit) const;

    // The apply lock of the tenant keyed `tenant`: taken when free, when its lease has run out,
    // or when `dead` says its holder is gone; otherwise the holder is returned and nothing
    // changes. `me.holder` and `me.boot_id` are recorded.
    std::optional<LockHolder> acquire_lock(const std::string& tenant, const LockHolder& me, Instant now,
                                           std::chrono::seconds lease,
                                           const std::function<bool(const LockHolder&)>& dead = {});
    // False when `holder` no longer holds the lock (its lease ran out and another run took it):
    // the caller must write nothing more.
    [[nodiscard]] bool renew_lock(const std::string& tenant, const std::string& holder, Instant now,
                                  std::chrono::seconds lease);
    void release_lock(const std::string& tenant, const std::string& holder);
    // The locks recorded (their holders and leases), of one tenant or of all.
    std::vector<std::pair<std::string, LockHolder>> locks(
        const std::optional<std::string>& tenant = std::nullopt) const;

    // The tenant was recorded as `name` (any case) and is now known by `key` (its GUID): every
    // run, exception event and drift of `name` becomes `key`'s, the name kept for people.
    void adopt_tenant(const std::string& name, const std::string& key);
    // The latest name each tenant key was given by.
    std::map<std::string, std::string> tenant_names() const;
    // The key a run that signed in learnt for the tenant named `name` (any case), else `name`:
    // for the commands that read no tenant (a snapshot) and so learn no GUID.
    std::string key_of(const std::string& name) const;

    // The latest `limit` runs, of one tenant (its key) or of all.
    std::vector<RunRecord> runs(int limit, const std::optional<std::string>& tenant = std::nullopt) const;
    std::vector<JournalChange> changes_of(long long run_id) const;
    std::vector<ExceptionEventRecord> exception_events(const std::string& tenant) const;
    // The exceptions authgate granted in this tenant (the latest grant of each mailbox), for the
    // planner to recognise removed ones.
    PlanHistory plan_history(const std::string& tenant) const;
    // Exceptions whose last event is a grant: granted by authgate and not yet reverted or removed.
    std::vector<ExceptionEventRecord> granted_exceptions(const std::optional<std::string>& tenant = std::nullopt) const;
    std::vector<std::string> tenants() const;

    // Usage evidence: each sender's sightings per source and protocol, merged into what is kept
    // (the earliest first sighting, the latest last one, the newest window's counts).
    void record_usage(const std::string& tenant, const std::vector<UsageObservation>& observations, Instant now);
    std::vector<UsageObservation> usage(const std::string& tenant) const;

    // Owner notices: the keys (notice_id) of those sent for `tenant`; one recorded as sent or as
    // failed (a sent one is never changed again); all of them, in the order first tried.
    std::set<std::string> sent_notices(const std::string& tenant) const;
    static std::string notice_id(const std::string& mailbox, const std::string& notice);
    void record_notice(const NoticeRecord& notice);
    std::vector<NoticeRecord> notices(const std::string& tenant) const;
    // Mailboxes of `tenant` (lower case) whose expired exception authgate reverted (verified), with
    // the latest such revert.
    std::map<std::string, Instant> reverted_mailboxes(const std::string& tenant) const;

    struct Counts {
        long long runs = 0, changes = 0, exception_events = 0, drift = 0, usage = 0, notices = 0;
        bool operator==(const Counts&) const = default;
    };
    Counts counts() const;
    // Copies every run, change, exception event and drift of this journal into `to`, in their
    // order, in one transaction, and checks the rows `to` then holds for those tenants against
    // what was read. Refused when `to` already holds a run of one of the tenants, or when a run
    // holds a tenant's lock here (its lease not run out at `now`). Returns what was copied.
    Counts copy_to(Journal& to, Instant now) const;

    // What the journal has cost this process so far: the statements it ran (each transaction's
    // BEGIN and COMMIT among them, and in PostgreSQL the lock's and the connection's checks; a
    // migration's script counts as one), and the time spent in the database's calls, opening the
    // connection included.
    struct Cost {
        long long statements = 0;
        std::chrono::nanoseconds time{};
    };
    Cost cost() const;

private:
    Journal(std::unique_ptr<Database> database, std::chrono::nanoseconds opening);
    // The database at `location`, opened (the time it took counted in its cost).
    static Journal connect(const std::string& location);
    void migrate();

    std::unique_ptr<Cost> cost_;    // where db_ counts; kept in place when the journal moves
    std::unique_ptr<Database> db_;  // the database, every call counted in cost_
};

// JSON text of a plan value, as stored: null, true, false or a JSON string.
std::string value_text(const SettingValue& value);

}  // namespace authgate
