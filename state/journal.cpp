#include "state/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cpprest/json.h>
#include <sqlite3.h>

#include <filesystem>

#include "policies/desired_state.h"

namespace authgate {
namespace {

// Numbered migrations: entry i brings the schema from version i to i + 1. Never edit one that
// has shipped; add the next.
const char* const migrations[] = {
    R"sql(
    CREATE TABLE runs(
        id INTEGER PRIMARY KEY,
        command TEXT NOT NULL,
        mode TEXT NOT NULL DEFAULT '',
        tenant TEXT NOT NULL,
        desired_digest TEXT NOT NULL DEFAULT '',
        started_at TEXT NOT NULL,
        finished_at TEXT,
        outcome TEXT NOT NULL DEFAULT 'running',
        planned INTEGER NOT NULL DEFAULT 0,
        applied INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        reported INTEGER NOT NULL DEFAULT 0,
        warnings INTEGER NOT NULL DEFAULT 0,
        error TEXT NOT NULL DEFAULT '');
    CREATE TABLE changes(
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        sequence INTEGER NOT NULL,
        resource TEXT NOT NULL,
        target TEXT NOT NULL,
        attribute TEXT NOT NULL,
        action TEXT NOT NULL,
        before TEXT NOT NULL,
        after TEXT NOT NULL,
        reason TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        client_request_id TEXT NOT NULL DEFAULT '',
        verified INTEGER NOT NULL DEFAULT 0,
        at TEXT NOT NULL);
    CREATE INDEX changes_by_run ON changes(run_id, sequence);
    CREATE TABLE exception_events(
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id),
        tenant TEXT NOT NULL,
        mailbox TEXT NOT NULL,
        event TEXT NOT NULL CHECK(event IN ('granted', 'warned', 'expired', 'reverted', 'removed')),
        owner TEXT NOT NULL,
        expires TEXT NOT NULL,
        threshold_days INTEGER NOT NULL DEFAULT 0,
        at TEXT NOT NULL);
    CREATE UNIQUE INDEX exception_event_once ON exception_events(tenant, mailbox, expires, event, threshold_days);
    CREATE TABLE drift(
        id INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL,
        resource TEXT NOT NULL,
        target TEXT NOT NULL,
        attribute TEXT NOT NULL,
        expected TEXT NOT NULL,
        actual TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        resolved_at TEXT);
    CREATE INDEX drift_open ON drift(tenant, resolved_at);
    CREATE TABLE locks(
        tenant TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        lease_until TEXT NOT NULL);
    )sql",
    // A tenant is keyed by its GUID (the token's tid) once known; the name it was given by is
    // kept for people. A lock records its holder's boot, to tell a dead holder on this host.
    R"sql(
    ALTER TABLE runs ADD COLUMN tenant_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE locks ADD COLUMN boot_id TEXT NOT NULL DEFAULT '';
    )sql",
    // A run records its process, so that a run that takes no lock (a report) and dies can be
    // told from one still going.
    R"sql(
    ALTER TABLE runs ADD COLUMN holder TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN boot_id TEXT NOT NULL DEFAULT '';
    )sql",
};
constexpr int current_version = static_cast<int>(std::size(migrations));

// One prepared statement; binds by position and steps to completion or row by row.
class Statement {
public:
    Statement(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr) != SQLITE_OK)
            throw JournalError(std::string("journal: ") + sqlite3_errmsg(db));
    }
    ~Statement() { sqlite3_finalize(statement_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, const std::string& text) {
        sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int index, long long number) {
        sqlite3_bind_int64(statement_, index, number);
        return *this;
    }
    Statement& bind(int index, int number) { return bind(index, static_cast<long long>(number)); }
    template <NamedEnum E>
    Statement& bind(int index, E value) {
        return bind(index, std::string(to_string(value)));
    }
    Statement& bind(int index, const std::optional<Instant>& instant) {
        if (instant) return bind(index, format_instant(*instant));
        sqlite3_bind_null(statement_, index);
        return *this;
    }

    bool step() {
        const int code = sqlite3_step(statement_);
        if (code == SQLITE_ROW) return true;
        if (code == SQLITE_DONE) return false;
        throw JournalError(std::string("journal: ") + sqlite3_errmsg(db_));
    }
    void run() {
        while (step()) {
        }
    }

    std::string text(int column) const {
        const auto* data = sqlite3_column_text(statement_, column);
        return data ? reinterpret_cast<const char*>(data) : "";
    }
    long long number(int column) const { return sqlite3_column_int64(statement_, column); }
    Instant instant(int column) const { return parse_instant(text(column)).value_or(Instant{}); }
    std::optional<Instant> optional_instant(int column) const {
        if (sqlite3_column_type(statement_, column) == SQLITE_NULL) return std::nullopt;
        return parse_instant(text(column));
    }

private:
    sqlite3* db_;
    sqlite3_stmt* statement_ = nullptr;
};

void execute_sql(sqlite3* db, const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        const std::string text = message ? message : "unknown error";
        sqlite3_free(message);
        throw JournalError("journal: " + text);
    }
}

// A write transaction: BEGIN IMMEDIATE takes the write lock at once (so two processes never
// interleave), commit() ends it, and leaving the scope without commit() rolls it back.
class Transaction {
public:
    explicit Transaction(sqlite3* db) : db_(db) { execute_sql(db_, "BEGIN IMMEDIATE"); }
    ~Transaction() {
        if (!committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit() {
        execute_sql(db_, "COMMIT");
        committed_ = true;
    }

private:
    sqlite3* db_;
    bool committed_ = false;
};

// A name the journal stored; one this authgate does not know is an error, never a default.
template <NamedEnum E>
E stored_name(const std::string& name, std::string_view what) {
    if (const auto value = parse_name<E>(name)) return *value;
    throw JournalError("the journal holds an unknown " + std::string(what) + " '" + name +
                       "' (written by a newer authgate?)");
}

// The columns read_events expects, in its order.
#define EVENT_COLUMNS "IFNULL(run_id, 0), tenant, mailbox, event, owner, expires, threshold_days, at"

std::vector<ExceptionEventRecord> read_events(Statement& statement) {
    std::vector<ExceptionEventRecord> events;
    while (statement.step()) {
        ExceptionEventRecord event;
        event.run_id = statement.number(0);
        event.tenant = statement.text(1);
        event.mailbox = statement.text(2);
        event.event = stored_name<ExceptionEvent>(statement.text(3), "exception event");
        event.owner = statement.text(4);
        event.expires = statement.text(5);
        event.threshold_days = static_cast<int>(statement.number(6));
        event.at = statement.instant(7);
        events.push_back(event);
    }
    return events;
}

}  // namespace

RunMode run_mode(ReconcileMode mode) {
    switch (mode) {
        case ReconcileMode::enforce: return RunMode::enforce;
        case ReconcileMode::expiry: return RunMode::expiry;
        case ReconcileMode::report: return RunMode::report;
    }
    return RunMode::enforce;
}

std::string value_text(const SettingValue& value) { return to_json<web::json::value>(value).serialize(); }

Journal Journal::open(const std::string& path) {
    const std::filesystem::path file(path);
    if (file.has_parent_path()) {
        // The folders authgate creates for its state are its own (0700), each level it makes.
        std::vector<std::filesystem::path> missing;
        for (std::filesystem::path folder = file.parent_path(); !folder.empty() && !std::filesystem::exists(folder);
             folder = folder.parent_path()) {
            missing.push_back(folder);
            if (folder == folder.parent_path()) break;
        }
        for (auto it = missing.rbegin(); it != missing.rend(); ++it)
            if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST)
                throw JournalError("cannot create the folder of the state database " + path + ": " +
                                   std::strerror(errno));
    }
    // A new journal is readable by its owner only; SQLite gives its -wal and -shm files the same mode.
    if (const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        const std::string message = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw JournalError("cannot open the state database " + path + ": " + message);
    }
    Journal journal(db);
    // Another process (a second apply, a status query) may hold the file briefly: wait for it.
    sqlite3_busy_timeout(db, 10000);
    journal.execute("PRAGMA journal_mode = WAL");
    journal.execute("PRAGMA synchronous = NORMAL");
    journal.execute("PRAGMA foreign_keys = ON");
    journal.migrate();
    return journal;
}

Journal::Journal(Journal&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }

Journal::~Journal() { sqlite3_close_v2(db_); }

void Journal::execute(const std::string& sql) const { execute_sql(db_, sql); }

int Journal::schema_version() const {
    Statement statement(db_, "PRAGMA user_version");
    statement.step();
    return static_cast<int>(statement.number(0));
}

void Journal::migrate() {
    // IMMEDIATE takes the write lock first, so two processes never migrate at once.
    Transaction transaction(db_);
    const int version = schema_version();
    if (version > current_version) {
        throw JournalError("the state database has schema version " + std::to_string(version) +
                           ", newer than this authgate knows (" + std::to_string(current_version) + ")");
    }
    for (int next = version; next < current_version; ++next) {
        execute(migrations[next]);
        execute("PRAGMA user_version = " + std::to_string(next + 1));
    }
    transaction.commit();
}

long long Journal::begin_run(const RunRecord& run) {
    Statement statement(db_,
                        "INSERT INTO runs(command, mode, tenant, tenant_name, desired_digest, started_at, outcome, "
                        "holder, boot_id) VALUES(?, ?, ?, ?, ?, ?, 'running', ?, ?)");
    statement.bind(1, run.command)
        .bind(2, run.mode)
        .bind(3, run.tenant)
        .bind(4, run.tenant_name)
        .bind(5, run.desired_digest)
        .bind(6, format_instant(run.started_at))
        .bind(7, run.process.holder)
        .bind(8, run.process.boot_id)
        .run();
    return sqlite3_last_insert_rowid(db_);
}

void Journal::finish_run(const RunRecord& run) {
    Statement statement(db_, "UPDATE runs SET finished_at = ?, outcome = ?, planned = ?, applied = ?, failed = ?, "
                             "reported = ?, warnings = ?, error = ? WHERE id = ?");
    statement.bind(1, run.finished_at)
        .bind(2, run.outcome)
        .bind(3, run.planned)
        .bind(4, run.applied)
        .bind(5, run.failed)
        .bind(6, run.reported)
        .bind(7, run.warnings)
        .bind(8, run.error)
        .bind(9, run.id)
        .run();
}

void Journal::record_change(const ChangeRecord& record) {
    Statement statement(db_,
                        "INSERT INTO changes(run_id, sequence, resource, target, attribute, action, before, after, "
                        "reason, status, error, client_request_id, verified, at) "
                        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    const Change& change = record.change;
    statement.bind(1, record.run_id)
        .bind(2, record.sequence)
        .bind(3, std::string(to_string(change.resource)))
        .bind(4, change.target)
        .bind(5, change.attribute)
        .bind(6, std::string(to_string(change.action)))
        .bind(7, value_text(change.before))
        .bind(8, value_text(change.after))
        .bind(9, std::string(to_string(change.reason)))
        .bind(10, std::string(to_string(record.status)))
        .bind(11, record.error)
        .bind(12, record.client_request_id)
        .bind(13, record.status == ChangeStatus::verified ? 1 : 0)
        .bind(14, format_instant(record.at))
        .run();
}

void Journal::update_change(long long run_id, int sequence, ChangeStatus status, const std::string& error,
                            const std::optional<std::string>& client_request_id) {
    Statement statement(db_, "UPDATE changes SET status = ?, error = ?, verified = ?, "
                             "client_request_id = COALESCE(?, client_request_id) WHERE run_id = ? AND sequence = ?");
    statement.bind(1, std::string(to_string(status))).bind(2, error).bind(3, status == ChangeStatus::verified ? 1 : 0);
    if (client_request_id) statement.bind(4, *client_request_id);
    statement.bind(5, run_id).bind(6, sequence).run();
}

int Journal::settle_interrupted_runs(const std::string& tenant, Instant now, long long own_run) {
    Transaction transaction(db_);
    const char* dead = "SELECT id FROM runs WHERE tenant = ?1 AND outcome = 'running' AND mode != 'report' "
                       "AND command IN ('apply', 'reconcile') AND id != ?2";
    Statement changes(db_, (std::string("UPDATE changes SET status = 'uncertain', error = 'sent by a run that "
                                        "ended before its answer came; read back by the next plan' WHERE "
                                        "status = 'sending' AND run_id IN (") +
                            dead + ")")
                               .c_str());
    changes.bind(1, tenant).bind(2, own_run).run();
    Statement runs(db_, "UPDATE runs SET outcome = 'interrupted', finished_at = ?1, error = 'the run ended without "
                        "finishing (killed or crashed); its lock was taken over' "
                        "WHERE tenant = ?2 AND outcome = 'running' AND mode != 'report' "
                        "AND command IN ('apply', 'reconcile') AND id != ?3");
    runs.bind(1, format_instant(now)).bind(2, tenant).bind(3, own_run).run();
    const int count = sqlite3_changes(db_);
    transaction.commit();
    return count;
}

int Journal::settle_dead_report_runs(const std::string& tenant, Instant now,
                                     const std::function<bool(const LockHolder&)>& dead) {
    std::vector<long long> gone;
    {
        Statement running(db_, "SELECT id, holder, boot_id FROM runs WHERE tenant = ? AND outcome = 'running' "
                               "AND mode = 'report'");
        running.bind(1, tenant);
        while (running.step())
            if (dead({running.text(1), {}, {}, running.text(2)})) gone.push_back(running.number(0));
    }
    for (const long long id : gone) {
        Statement settle(db_, "UPDATE runs SET outcome = 'interrupted', finished_at = ?, error = 'the run ended "
                              "without finishing (killed or crashed)' WHERE id = ? AND outcome = 'running'");
        settle.bind(1, format_instant(now)).bind(2, id).run();
    }
    return static_cast<int>(gone.size());
}

bool Journal::record_exception_event(const ExceptionEventRecord& event) {
    Statement statement(db_, "INSERT OR IGNORE INTO exception_events(run_id, tenant, mailbox, event, owner, expires, "
                             "threshold_days, at) VALUES(NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?)");
    statement.bind(1, event.run_id)
        .bind(2, event.tenant)
        .bind(3, fold_case(event.mailbox))
        .bind(4, std::string(to_string(event.event)))
        .bind(5, event.owner)
        .bind(6, event.expires)
        .bind(7, event.threshold_days)
        .bind(8, format_instant(event.at))
        .run();
    return sqlite3_changes(db_) == 1;
}

bool Journal::was_recorded(const std::string& tenant, const std::string& mailbox, const std::string& expires,
                           ExceptionEvent event, int threshold_days) const {
    Statement statement(db_,
                        "SELECT 1 FROM exception_events WHERE tenant = ? AND mailbox = ? AND expires = ? AND event = ? "
                        "AND threshold_days = ?");
    statement.bind(1, tenant)
        .bind(2, fold_case(mailbox))
        .bind(3, expires)
        .bind(4, std::string(to_string(event)))
        .bind(5, threshold_days);
    return statement.step();
}

std::vector<DriftRecord> Journal::observe_drift(const std::string& tenant, const std::vector<DriftRecord>& current,
                                                Instant now) {
    std::vector<DriftRecord> opened;
    Transaction transaction(db_);
    const std::string stamp = format_instant(now);
    execute("CREATE TEMP TABLE IF NOT EXISTS seen_now(resource TEXT, target TEXT, attribute TEXT)");
    execute("DELETE FROM seen_now");
    for (const DriftRecord& drift : current) {
        Statement update(db_, "UPDATE drift SET last_seen = ?, expected = ?, actual = ? WHERE tenant = ? AND "
                              "resource = ? AND target = ? AND attribute = ? AND resolved_at IS NULL");
        update.bind(1, stamp)
            .bind(2, drift.expected)
            .bind(3, drift.actual)
            .bind(4, tenant)
            .bind(5, drift.resource)
            .bind(6, drift.target)
            .bind(7, drift.attribute)
            .run();
        if (sqlite3_changes(db_) == 0) {
            Statement insert(db_, "INSERT INTO drift(tenant, resource, target, attribute, expected, actual, "
                                  "first_seen, last_seen) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
            insert.bind(1, tenant)
                .bind(2, drift.resource)
                .bind(3, drift.target)
                .bind(4, drift.attribute)
                .bind(5, drift.expected)
                .bind(6, drift.actual)
                .bind(7, stamp)
                .bind(8, stamp)
                .run();
            opened.push_back(drift);
            opened.back().tenant = tenant;
            opened.back().first_seen = opened.back().last_seen = now;
        }
        Statement mark(db_, "INSERT INTO seen_now VALUES(?, ?, ?)");
        mark.bind(1, drift.resource).bind(2, drift.target).bind(3, drift.attribute).run();
    }
    Statement resolve(db_, "UPDATE drift SET resolved_at = ? WHERE tenant = ? AND resolved_at IS NULL AND NOT EXISTS "
                           "(SELECT 1 FROM seen_now s WHERE s.resource = drift.resource AND s.target = drift.target "
                           "AND s.attribute = drift.attribute)");
    resolve.bind(1, stamp).bind(2, tenant).run();
    transaction.commit();
    return opened;
}

std::vector<DriftRecord> Journal::open_drift(const std::string& tenant) const {
    Statement statement(db_, "SELECT tenant, resource, target, attribute, expected, actual, first_seen, last_seen, "
                             "resolved_at FROM drift WHERE tenant = ? AND resolved_at IS NULL ORDER BY id");
    statement.bind(1, tenant);
    std::vector<DriftRecord> drift;
    while (statement.step())
        drift.push_back({statement.text(0), statement.text(1), statement.text(2), statement.text(3), statement.text(4),
                         statement.text(5), statement.instant(6), statement.instant(7), statement.optional_instant(8)});
    return drift;
}

std::optional<LockHolder> Journal::acquire_lock(const std::string& tenant, const LockHolder& me, Instant now,
                                                std::chrono::seconds lease,
                                                const std::function<bool(const LockHolder&)>& dead) {
    Transaction transaction(db_);
    Statement current(db_, "SELECT holder, acquired_at, lease_until, boot_id FROM locks WHERE tenant = ?");
    current.bind(1, tenant);
    if (current.step()) {
        LockHolder held{current.text(0), current.instant(1), current.instant(2), current.text(3)};
        // A lease that ran out belongs to a run that died, and so does one whose holder is
        // known to be gone: take it over.
        if (held.holder != me.holder && held.lease_until > now && !(dead && dead(held))) {
            transaction.commit();
            return held;
        }
    }
    Statement take(db_, "INSERT OR REPLACE INTO locks(tenant, holder, acquired_at, lease_until, boot_id) "
                        "VALUES(?, ?, ?, ?, ?)");
    take.bind(1, tenant)
        .bind(2, me.holder)
        .bind(3, format_instant(now))
        .bind(4, format_instant(now + lease))
        .bind(5, me.boot_id)
        .run();
    transaction.commit();
    return std::nullopt;
}

bool Journal::renew_lock(const std::string& tenant, const std::string& holder, Instant now,
                         std::chrono::seconds lease) {
    Statement statement(db_, "UPDATE locks SET lease_until = ? WHERE tenant = ? AND holder = ?");
    statement.bind(1, format_instant(now + lease)).bind(2, tenant).bind(3, holder).run();
    return sqlite3_changes(db_) == 1;
}

void Journal::adopt_tenant(const std::string& name, const std::string& key) {
    if (name == key) return;
    Transaction transaction(db_);
    Statement runs(db_, "UPDATE runs SET tenant_name = CASE WHEN tenant_name = '' THEN tenant ELSE tenant_name END, "
                        "tenant = ?1 WHERE tenant = ?2 COLLATE NOCASE AND tenant != ?1");
    runs.bind(1, key).bind(2, name).run();
    // An event recorded under both names is kept once, under the key.
    Statement events(db_, "UPDATE OR IGNORE exception_events SET tenant = ?1 WHERE tenant = ?2 COLLATE NOCASE "
                          "AND tenant != ?1");
    events.bind(1, key).bind(2, name).run();
    Statement left(db_, "DELETE FROM exception_events WHERE tenant = ?2 COLLATE NOCASE AND tenant != ?1");
    left.bind(1, key).bind(2, name).run();
    Statement drift(db_, "UPDATE drift SET tenant = ?1 WHERE tenant = ?2 COLLATE NOCASE AND tenant != ?1");
    drift.bind(1, key).bind(2, name).run();
    transaction.commit();
}

std::map<std::string, std::string> Journal::tenant_names() const {
    Statement statement(db_, "SELECT tenant, tenant_name FROM runs WHERE tenant_name != '' ORDER BY id");
    std::map<std::string, std::string> names;
    while (statement.step()) names[statement.text(0)] = statement.text(1);
    return names;
}

void Journal::release_lock(const std::string& tenant, const std::string& holder) {
    Statement statement(db_, "DELETE FROM locks WHERE tenant = ? AND holder = ?");
    statement.bind(1, tenant).bind(2, holder).run();
}

std::vector<RunRecord> Journal::runs(int limit) const {
    Statement statement(db_,
                        "SELECT id, command, mode, tenant, desired_digest, started_at, finished_at, outcome, planned, "
                        "applied, failed, reported, warnings, error, tenant_name, holder, boot_id FROM runs "
                        "ORDER BY id DESC LIMIT ?");
    statement.bind(1, limit);
    std::vector<RunRecord> runs;
    while (statement.step()) {
        RunRecord run;
        run.id = statement.number(0);
        run.command = stored_name<RunCommand>(statement.text(1), "run command");
        run.mode = stored_name<RunMode>(statement.text(2), "run mode");
        run.tenant = statement.text(3);
        run.desired_digest = statement.text(4);
        run.started_at = statement.instant(5);
        run.finished_at = statement.optional_instant(6);
        run.outcome = stored_name<RunOutcome>(statement.text(7), "run outcome");
        run.planned = static_cast<int>(statement.number(8));
        run.applied = static_cast<int>(statement.number(9));
        run.failed = static_cast<int>(statement.number(10));
        run.reported = static_cast<int>(statement.number(11));
        run.warnings = static_cast<int>(statement.number(12));
        run.error = statement.text(13);
        run.tenant_name = statement.text(14);
        run.process.holder = statement.text(15);
        run.process.boot_id = statement.text(16);
        runs.push_back(run);
    }
    return runs;
}

std::vector<JournalChange> Journal::changes_of(long long run_id) const {
    Statement statement(db_,
                        "SELECT sequence, resource, target, attribute, action, before, after, reason, status, error, "
                        "client_request_id, verified, at FROM changes WHERE run_id = ? ORDER BY sequence, id");
    statement.bind(1, run_id);
    std::vector<JournalChange> changes;
    while (statement.step())
        changes.push_back({static_cast<int>(statement.number(0)), statement.text(1), statement.text(2),
                           statement.text(3), statement.text(4), statement.text(5), statement.text(6),
                           statement.text(7), statement.text(8), statement.text(9), statement.text(10),
                           statement.number(11) != 0, statement.instant(12)});
    return changes;
}

PlanHistory Journal::plan_history(const std::string& tenant) const {
    Statement statement(db_,
                        "SELECT mailbox, owner, expires FROM exception_events WHERE tenant = ? AND event = 'granted' "
                        "ORDER BY id");
    statement.bind(1, tenant);
    PlanHistory history;
    while (statement.step()) history.granted[statement.text(0)] = {statement.text(1), statement.text(2)};

    // Policy removals that may have been made, with no revocation known to be made after them.
    Statement owed(db_,
                   "SELECT c.target, c.reason FROM changes c JOIN runs r ON r.id = c.run_id "
                   "WHERE r.tenant = ? AND c.resource = 'user' AND c.attribute = 'AuthenticationPolicy' "
                   "AND c.after = 'null' AND c.status IN ('verified', 'applied', 'uncertain', 'sending') "
                   "AND NOT EXISTS (SELECT 1 FROM changes s JOIN runs sr ON sr.id = s.run_id "
                   "WHERE sr.tenant = r.tenant AND s.resource = 'user' AND s.attribute = 'STSRefreshTokensValidFrom' "
                   "AND s.target = c.target COLLATE NOCASE AND s.id > c.id AND s.status IN ('applied', 'verified')) "
                   "ORDER BY c.id");
    owed.bind(1, tenant);
    while (owed.step()) {
        history.revocations_owed[owed.text(0)] = stored_name<Reason>(owed.text(1), "change reason");
    }
    return history;
}

std::vector<ExceptionEventRecord> Journal::granted_exceptions() const {
    Statement statement(db_, "SELECT " EVENT_COLUMNS " FROM exception_events e WHERE event = 'granted' AND NOT EXISTS "
                             "(SELECT 1 FROM exception_events later WHERE later.tenant = e.tenant AND later.mailbox = "
                             "e.mailbox AND later.id > e.id AND later.event IN ('granted', 'reverted', 'removed')) "
                             "ORDER BY tenant, expires, mailbox");
    return read_events(statement);
}

std::vector<std::string> Journal::tenants() const {
    Statement statement(db_, "SELECT DISTINCT tenant FROM runs ORDER BY tenant");
    std::vector<std::string> tenants;
    while (statement.step()) tenants.push_back(statement.text(0));
    return tenants;
}

std::vector<ExceptionEventRecord> Journal::exception_events(const std::string& tenant) const {
    Statement statement(db_, "SELECT " EVENT_COLUMNS " FROM exception_events WHERE tenant = ? ORDER BY id");
    statement.bind(1, tenant);
    return read_events(statement);
}

}  // namespace authgate
