#include "state/journal.h"

#include <cpprest/json.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <tuple>

#include "policies/desired_state.h"
#include "state/postgresql.h"

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
    // Who was seen sending with SMTP AUTH, per sender, source and protocol: first and last seen
    // kept for good, so that the evidence outlives the sources' own retention.
    R"sql(
    CREATE TABLE sender_usage(
        id INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL,
        address TEXT NOT NULL,
        user_id TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL,
        protocol TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        messages INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        recorded_at TEXT NOT NULL);
    CREATE UNIQUE INDEX sender_usage_once ON sender_usage(tenant, address, source, protocol);
    )sql",
    // Owner notices by e-mail: each sent once per exception, kind and milestone; a failed one is
    // kept with its error and tried again by the next run.
    R"sql(
    CREATE TABLE notices(
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id),
        tenant TEXT NOT NULL,
        mailbox TEXT NOT NULL,
        notice TEXT NOT NULL,
        owner TEXT NOT NULL,
        recipients TEXT NOT NULL,
        transport TEXT NOT NULL,
        status TEXT NOT NULL CHECK(status IN ('sent', 'failed')),
        message_id TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 1,
        error TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL);
    CREATE UNIQUE INDEX notice_once ON notices(tenant, mailbox, notice);
    )sql",
};
constexpr int current_version = static_cast<int>(std::size(migrations));

// A migration as the database's dialect writes it: the SQL above is SQLite's; PostgreSQL's ids
// are 64-bit identity columns.
std::string in_dialect(std::string sql, Dialect dialect) {
    if (dialect == Dialect::sqlite) return sql;
    const auto replace_all = [&](std::string_view from, std::string_view to) {
        for (std::size_t at = sql.find(from); at != std::string::npos; at = sql.find(from, at + to.size()))
            sql.replace(at, from.size(), to);
    };
    replace_all("id INTEGER PRIMARY KEY", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    replace_all("run_id INTEGER", "run_id BIGINT");
    return sql;
}

// The journal's cost: every call into the database timed, and each statement counted once, as
// it first runs.
class Metered {
public:
    Metered(Journal::Cost& cost, long long statements) noexcept
        : cost_(cost), started_(std::chrono::steady_clock::now()) {
        cost_.statements += statements;
    }
    ~Metered() {
        cost_.time += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started_);
    }
    Metered(const Metered&) = delete;
    Metered& operator=(const Metered&) = delete;

private:
    Journal::Cost& cost_;
    std::chrono::steady_clock::time_point started_;
};

class MeteredQuery final : public Query {
public:
    MeteredQuery(std::unique_ptr<Query> query, Journal::Cost& cost) : query_(std::move(query)), cost_(cost) {}

    Query& bind(int index, const std::string& text) override {
        const Metered metered(cost_, 0);
        query_->bind(index, text);
        return *this;
    }
    Query& bind(int index, long long number) override {
        const Metered metered(cost_, 0);
        query_->bind(index, number);
        return *this;
    }
    Query& bind_null(int index) override {
        const Metered metered(cost_, 0);
        query_->bind_null(index);
        return *this;
    }
    using Query::bind;

    bool step() override {
        const Metered metered(cost_, run_ ? 0 : 1);
        run_ = true;
        return query_->step();
    }
    long long affected() const override { return query_->affected(); }
    void reset() override {
        const Metered metered(cost_, 0);
        query_->reset();
        run_ = false;
    }
    bool is_null(int column) const override { return query_->is_null(column); }
    std::string text(int column) const override { return query_->text(column); }
    long long number(int column) const override { return query_->number(column); }

private:
    std::unique_ptr<Query> query_;
    Journal::Cost& cost_;
    bool run_ = false;
};

class MeteredDatabase final : public Database {
public:
    MeteredDatabase(std::unique_ptr<Database> database, Journal::Cost& cost)
        : database_(std::move(database)), cost_(cost), server_(database_->dialect() == Dialect::postgresql) {}

    Dialect dialect() const override { return database_->dialect(); }
    std::string location() const override { return database_->location(); }

    std::unique_ptr<Query> query(std::string_view sql) override {
        const Metered metered(cost_, 0);  // prepared; counted when it runs
        return std::make_unique<MeteredQuery>(database_->query(sql), cost_);
    }
    void execute(std::string_view sql) override {
        const Metered metered(cost_, 1);
        database_->execute(sql);
    }
    void begin_write() override {
        const Metered metered(cost_, 1);
        database_->begin_write();
    }
    void commit() override {
        const Metered metered(cost_, 1);
        database_->commit();
    }
    void rollback() noexcept override {
        const Metered metered(cost_, 1);
        database_->rollback();
    }
    int schema_version() override {
        const Metered metered(cost_, 1);
        return database_->schema_version();
    }
    void set_schema_version(int version) override {
        const Metered metered(cost_, 1);
        database_->set_schema_version(version);
    }
    // What SQLite does without a statement (its locks, its connection) counts none.
    void lock_for_migration() override {
        const Metered metered(cost_, server_ ? 1 : 0);
        database_->lock_for_migration();
    }
    std::optional<bool> try_session_lock(std::int64_t key) override {
        const Metered metered(cost_, server_ ? 1 : 0);
        return database_->try_session_lock(key);
    }
    void release_session_lock(std::int64_t key) noexcept override {
        const Metered metered(cost_, server_ ? 1 : 0);
        database_->release_session_lock(key);
    }
    bool connected() override {
        const Metered metered(cost_, server_ ? 1 : 0);
        return database_->connected();
    }

private:
    std::unique_ptr<Database> database_;
    Journal::Cost& cost_;
    bool server_;
};

// A statement of the journal: its binds for the journal's types, over the database's query.
class Statement {
public:
    Statement(Database& database, std::string_view sql) : query_(database.query(sql)) {}

    Statement& bind(int index, const std::string& text) {
        query_->bind(index, text);
        return *this;
    }
    Statement& bind(int index, long long number) {
        query_->bind(index, number);
        return *this;
    }
    Statement& bind(int index, int number) { return bind(index, static_cast<long long>(number)); }
    template <NamedEnum E>
    Statement& bind(int index, E value) {
        return bind(index, std::string(to_string(value)));
    }
    Statement& bind(int index, const std::optional<Instant>& instant) {
        if (instant) return bind(index, format_instant(*instant));
        query_->bind_null(index);
        return *this;
    }

    bool step() { return query_->step(); }
    // Ready to bind and run again, without preparing it anew.
    void reset() { query_->reset(); }
    // Runs to completion; how many rows it changed.
    long long run() {
        query_->run();
        return query_->affected();
    }

    std::string text(int column) const { return query_->text(column); }
    long long number(int column) const { return query_->number(column); }
    Instant instant(int column) const { return parse_instant(text(column)).value_or(Instant{}); }
    std::optional<Instant> optional_instant(int column) const {
        if (query_->is_null(column)) return std::nullopt;
        return parse_instant(text(column));
    }

private:
    std::unique_ptr<Query> query_;
};

// A name the journal stored; one this authgate does not know is an error, never a default.
template <NamedEnum E>
E stored_name(const std::string& name, std::string_view what) {
    if (const auto value = parse_name<E>(name)) return *value;
    throw JournalError("the journal holds an unknown " + std::string(what) + " '" + name +
                       "' (written by a newer authgate?)");
}

// The columns read_events expects, in its order.
#define EVENT_COLUMNS "COALESCE(run_id, 0), tenant, mailbox, event, owner, expires, threshold_days, at"

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

Journal Journal::connect(const std::string& location) {
    const auto started = std::chrono::steady_clock::now();
    std::unique_ptr<Database> database = open_database(location);
    return Journal(std::move(database),
                   std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started));
}

Journal Journal::open(const std::string& location) {
    Journal journal = connect(location);
    journal.migrate();
    return journal;
}

std::optional<Journal> Journal::open_existing(const std::string& location) {
    if (!is_postgresql_location(location)) {
        if (!std::filesystem::exists(location)) return std::nullopt;
        return open(location);
    }
    Journal journal = connect(location);
    if (journal.db_->schema_version() == 0) return std::nullopt;
    journal.migrate();
    return journal;
}

Journal::Journal(std::unique_ptr<Database> database, std::chrono::nanoseconds opening)
    : cost_(std::make_unique<Cost>(Cost{0, opening})),
      db_(std::make_unique<MeteredDatabase>(std::move(database), *cost_)) {}
Journal::Journal(Journal&& other) noexcept = default;
Journal::~Journal() = default;

std::string Journal::location() const { return db_->location(); }
Journal::Cost Journal::cost() const { return *cost_; }
Dialect Journal::dialect() const { return db_->dialect(); }

int Journal::schema_version() const { return db_->schema_version(); }

void Journal::migrate() {
    Transaction transaction(*db_);
    db_->lock_for_migration();
    const int version = db_->schema_version();
    if (version > current_version) {
        throw JournalError("the state database " + db_->location() + " has schema version " + std::to_string(version) +
                           ", newer than this authgate knows (" + std::to_string(current_version) + ")");
    }
    for (int next = version; next < current_version; ++next) {
        db_->execute(in_dialect(migrations[next], db_->dialect()));
        db_->set_schema_version(next + 1);
    }
    transaction.commit();
}

long long Journal::begin_run(const RunRecord& run) {
    Statement statement(*db_,
                        "INSERT INTO runs(command, mode, tenant, tenant_name, desired_digest, started_at, outcome, "
                        "holder, boot_id) VALUES(?, ?, ?, ?, ?, ?, 'running', ?, ?) RETURNING id");
    statement.bind(1, run.command)
        .bind(2, run.mode)
        .bind(3, run.tenant)
        .bind(4, run.tenant_name)
        .bind(5, run.desired_digest)
        .bind(6, format_instant(run.started_at))
        .bind(7, run.process.holder)
        .bind(8, run.process.boot_id);
    if (!statement.step()) throw JournalError("journal: the new run was given no id");
    return statement.number(0);
}

void Journal::finish_run(const RunRecord& run) {
    Statement statement(*db_, "UPDATE runs SET finished_at = ?, outcome = ?, planned = ?, applied = ?, failed = ?, "
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
    Statement statement(*db_,
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

void Journal::together(const std::function<void()>& work) {
    Transaction transaction(*db_);
    work();
    transaction.commit();
}

void Journal::update_change(long long run_id, int sequence, ChangeStatus status, const std::string& error,
                            const std::optional<std::string>& client_request_id) {
    Statement statement(*db_, "UPDATE changes SET status = ?, error = ?, verified = ?, "
                              "client_request_id = COALESCE(?, client_request_id) WHERE run_id = ? AND sequence = ?");
    statement.bind(1, std::string(to_string(status))).bind(2, error).bind(3, status == ChangeStatus::verified ? 1 : 0);
    if (client_request_id) statement.bind(4, *client_request_id);
    statement.bind(5, run_id).bind(6, sequence).run();
}

int Journal::settle_interrupted_runs(const std::string& tenant, Instant now, long long own_run) {
    Transaction transaction(*db_);
    const char* dead = "SELECT id FROM runs WHERE tenant = ?1 AND outcome = 'running' AND mode != 'report' "
                       "AND command IN ('apply', 'reconcile') AND id != ?2";
    Statement changes(*db_, (std::string("UPDATE changes SET status = 'uncertain', error = 'sent by a run that "
                                         "ended before its answer came; read back by the next plan' WHERE "
                                         "status = 'sending' AND run_id IN (") +
                             dead + ")")
                                .c_str());
    changes.bind(1, tenant).bind(2, own_run).run();
    Statement runs(*db_, "UPDATE runs SET outcome = 'interrupted', finished_at = ?1, error = 'the run ended without "
                         "finishing (killed or crashed); its lock was taken over' "
                         "WHERE tenant = ?2 AND outcome = 'running' AND mode != 'report' "
                         "AND command IN ('apply', 'reconcile') AND id != ?3");
    const auto count = static_cast<int>(runs.bind(1, format_instant(now)).bind(2, tenant).bind(3, own_run).run());
    transaction.commit();
    return count;
}

int Journal::settle_dead_report_runs(const std::string& tenant, Instant now,
                                     const std::function<bool(const LockHolder&)>& dead) {
    std::vector<long long> gone;
    {
        Statement running(*db_, "SELECT id, holder, boot_id FROM runs WHERE tenant = ? AND outcome = 'running' "
                                "AND mode = 'report'");
        running.bind(1, tenant);
        while (running.step())
            if (dead({running.text(1), {}, {}, running.text(2)})) gone.push_back(running.number(0));
    }
    for (const long long id : gone) {
        Statement settle(*db_, "UPDATE runs SET outcome = 'interrupted', finished_at = ?, error = 'the run ended "
                               "without finishing (killed or crashed)' WHERE id = ? AND outcome = 'running'");
        settle.bind(1, format_instant(now)).bind(2, id).run();
    }
    return static_cast<int>(gone.size());
}

bool Journal::record_exception_event(const ExceptionEventRecord& event) {
    Statement statement(*db_, "INSERT INTO exception_events(run_id, tenant, mailbox, event, owner, expires, "
                              "threshold_days, at) VALUES(NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    return statement.bind(1, event.run_id)
               .bind(2, event.tenant)
               .bind(3, fold_case(event.mailbox))
               .bind(4, std::string(to_string(event.event)))
               .bind(5, event.owner)
               .bind(6, event.expires)
               .bind(7, event.threshold_days)
               .bind(8, format_instant(event.at))
               .run() == 1;
}

bool Journal::was_recorded(const std::string& tenant, const std::string& mailbox, const std::string& expires,
                           ExceptionEvent event, int threshold_days) const {
    Statement statement(*db_,
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
    Transaction transaction(*db_);
    const std::string stamp = format_instant(now);
    using Key = std::tuple<std::string, std::string, std::string>;
    std::set<Key> seen;
    for (const DriftRecord& drift : current) {
        seen.emplace(drift.resource, drift.target, drift.attribute);
        Statement update(*db_, "UPDATE drift SET last_seen = ?, expected = ?, actual = ? WHERE tenant = ? AND "
                               "resource = ? AND target = ? AND attribute = ? AND resolved_at IS NULL");
        const long long updated = update.bind(1, stamp)
                                      .bind(2, drift.expected)
                                      .bind(3, drift.actual)
                                      .bind(4, tenant)
                                      .bind(5, drift.resource)
                                      .bind(6, drift.target)
                                      .bind(7, drift.attribute)
                                      .run();
        if (updated == 0) {
            Statement insert(*db_, "INSERT INTO drift(tenant, resource, target, attribute, expected, actual, "
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
    }
    // Drift of the tenant not seen in this run is resolved.
    std::vector<long long> resolved;
    {
        Statement open(*db_,
                       "SELECT id, resource, target, attribute FROM drift WHERE tenant = ? AND resolved_at IS NULL");
        open.bind(1, tenant);
        while (open.step())
            if (!seen.count({open.text(1), open.text(2), open.text(3)})) resolved.push_back(open.number(0));
    }
    for (const long long id : resolved) {
        Statement resolve(*db_, "UPDATE drift SET resolved_at = ? WHERE id = ?");
        resolve.bind(1, stamp).bind(2, id).run();
    }
    transaction.commit();
    return opened;
}

std::vector<DriftRecord> Journal::open_drift(const std::string& tenant) const {
    Statement statement(*db_, "SELECT tenant, resource, target, attribute, expected, actual, first_seen, last_seen, "
                              "resolved_at FROM drift WHERE tenant = ? AND resolved_at IS NULL ORDER BY id");
    statement.bind(1, tenant);
    std::vector<DriftRecord> drift;
    while (statement.step())
        drift.push_back({statement.text(0), statement.text(1), statement.text(2), statement.text(3), statement.text(4),
                         statement.text(5), statement.instant(6), statement.instant(7), statement.optional_instant(8)});
    return drift;
}

std::vector<DriftRecord> Journal::drift_history(const std::string& tenant, int limit) const {
    Statement statement(*db_, "SELECT tenant, resource, target, attribute, expected, actual, first_seen, last_seen, "
                              "resolved_at FROM drift WHERE tenant = ? ORDER BY CASE WHEN resolved_at IS NULL THEN 0 "
                              "ELSE 1 END, last_seen DESC, id DESC LIMIT ?");
    statement.bind(1, tenant).bind(2, static_cast<long long>(limit));
    std::vector<DriftRecord> drift;
    while (statement.step())
        drift.push_back({statement.text(0), statement.text(1), statement.text(2), statement.text(3), statement.text(4),
                         statement.text(5), statement.instant(6), statement.instant(7), statement.optional_instant(8)});
    return drift;
}

std::optional<LockHolder> Journal::acquire_lock(const std::string& tenant, const LockHolder& me, Instant now,
                                                std::chrono::seconds lease,
                                                const std::function<bool(const LockHolder&)>& dead) {
    // Where the database keeps a lock for the life of a connection, it decides: its holder is
    // alive exactly while its connection is, on whatever machine.
    const std::optional<bool> session = db_->try_session_lock(session_lock_key("authgate tenant lock " + tenant));
    Transaction transaction(*db_);
    Statement current(*db_, "SELECT holder, acquired_at, lease_until, boot_id FROM locks WHERE tenant = ?");
    current.bind(1, tenant);
    const bool recorded = current.step();
    LockHolder held;
    if (recorded) held = {current.text(0), current.instant(1), current.instant(2), current.text(3)};
    if (session && !*session) {
        transaction.commit();
        if (!recorded) held.holder = "another run (starting or ending)";
        return held;
    }
    // A lease that ran out belongs to a run that died, and so does one whose holder is
    // known to be gone: take it over.
    if (!session && recorded && held.holder != me.holder && held.lease_until > now && !(dead && dead(held))) {
        transaction.commit();
        return held;
    }
    Statement take(*db_, "INSERT INTO locks(tenant, holder, acquired_at, lease_until, boot_id) VALUES(?, ?, ?, ?, ?) "
                         "ON CONFLICT(tenant) DO UPDATE SET holder = excluded.holder, acquired_at = "
                         "excluded.acquired_at, lease_until = excluded.lease_until, boot_id = excluded.boot_id");
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
    // A lost connection has lost the session lock with it.
    if (!db_->connected()) return false;
    Statement statement(*db_, "UPDATE locks SET lease_until = ? WHERE tenant = ? AND holder = ?");
    return statement.bind(1, format_instant(now + lease)).bind(2, tenant).bind(3, holder).run() == 1;
}

void Journal::adopt_tenant(const std::string& name, const std::string& key) {
    if (name == key) return;
    Transaction transaction(*db_);
    Statement runs(*db_, "UPDATE runs SET tenant_name = CASE WHEN tenant_name = '' THEN tenant ELSE tenant_name END, "
                         "tenant = ?1 WHERE lower(tenant) = lower(?2) AND tenant != ?1");
    runs.bind(1, key).bind(2, name).run();
    // An event recorded under two names is kept once, under the key.
    std::vector<long long> moved;
    {
        Statement events(*db_, "SELECT id FROM exception_events WHERE lower(tenant) = lower(?2) AND tenant != ?1 "
                               "ORDER BY id");
        events.bind(1, key).bind(2, name);
        while (events.step()) moved.push_back(events.number(0));
    }
    for (const long long id : moved) {
        Statement twin(*db_, "SELECT 1 FROM exception_events e, exception_events k WHERE e.id = ?2 AND k.tenant = ?1 "
                             "AND k.mailbox = e.mailbox AND k.expires = e.expires AND k.event = e.event AND "
                             "k.threshold_days = e.threshold_days");
        twin.bind(1, key).bind(2, id);
        if (twin.step()) {
            Statement drop(*db_, "DELETE FROM exception_events WHERE id = ?");
            drop.bind(1, id).run();
        } else {
            Statement move(*db_, "UPDATE exception_events SET tenant = ? WHERE id = ?");
            move.bind(1, key).bind(2, id).run();
        }
    }
    Statement drift(*db_, "UPDATE drift SET tenant = ?1 WHERE lower(tenant) = lower(?2) AND tenant != ?1");
    drift.bind(1, key).bind(2, name).run();
    // A notice recorded under two names is kept once, under the key.
    Statement twins(*db_, "DELETE FROM notices WHERE lower(tenant) = lower(?2) AND tenant != ?1 AND EXISTS (SELECT 1 "
                          "FROM notices k WHERE k.tenant = ?1 AND k.mailbox = notices.mailbox AND "
                          "k.notice = notices.notice)");
    twins.bind(1, key).bind(2, name).run();
    Statement notices(*db_, "UPDATE notices SET tenant = ?1 WHERE lower(tenant) = lower(?2) AND tenant != ?1");
    notices.bind(1, key).bind(2, name).run();
    transaction.commit();
}

std::string Journal::key_of(const std::string& name) const {
    std::string key = name;
    for (const auto& [known, known_name] : tenant_names())
        if (equals_ignoring_case(known_name, name)) key = known;
    return key;
}

std::map<std::string, std::string> Journal::tenant_names() const {
    Statement statement(*db_, "SELECT tenant, tenant_name FROM runs WHERE tenant_name != '' ORDER BY id");
    std::map<std::string, std::string> names;
    while (statement.step()) names[statement.text(0)] = statement.text(1);
    return names;
}

void Journal::release_lock(const std::string& tenant, const std::string& holder) {
    Statement statement(*db_, "DELETE FROM locks WHERE tenant = ? AND holder = ?");
    statement.bind(1, tenant).bind(2, holder).run();
    db_->release_session_lock(session_lock_key("authgate tenant lock " + tenant));
}

std::vector<std::pair<std::string, LockHolder>> Journal::locks(const std::optional<std::string>& tenant) const {
    Statement statement(*db_, "SELECT tenant, holder, acquired_at, lease_until, boot_id FROM locks WHERE "
                              "CAST(?1 AS TEXT) IS NULL OR tenant = ?1 ORDER BY tenant");
    if (tenant) statement.bind(1, *tenant);
    std::vector<std::pair<std::string, LockHolder>> locks;
    while (statement.step())
        locks.emplace_back(statement.text(0), LockHolder{statement.text(1), statement.instant(2), statement.instant(3),
                                                         statement.text(4)});
    return locks;
}

std::vector<RunRecord> Journal::runs(int limit, const std::optional<std::string>& tenant) const {
    Statement statement(*db_,
                        "SELECT id, command, mode, tenant, desired_digest, started_at, finished_at, outcome, planned, "
                        "applied, failed, reported, warnings, error, tenant_name, holder, boot_id FROM runs "
                        "WHERE CAST(?2 AS TEXT) IS NULL OR tenant = ?2 ORDER BY id DESC LIMIT ?1");
    statement.bind(1, limit);
    if (tenant) statement.bind(2, *tenant);
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
    Statement statement(*db_,
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
    Statement statement(*db_,
                        "SELECT mailbox, owner, expires FROM exception_events WHERE tenant = ? AND event = 'granted' "
                        "ORDER BY id");
    statement.bind(1, tenant);
    PlanHistory history;
    while (statement.step()) history.granted[statement.text(0)] = {statement.text(1), statement.text(2)};

    // Policy removals that may have been made, with no revocation known to be made after them.
    Statement owed(*db_,
                   "SELECT c.target, c.reason FROM changes c JOIN runs r ON r.id = c.run_id "
                   "WHERE r.tenant = ? AND c.resource = 'user' AND c.attribute = 'AuthenticationPolicy' "
                   "AND c.after = 'null' AND c.status IN ('verified', 'applied', 'uncertain', 'sending') "
                   "AND NOT EXISTS (SELECT 1 FROM changes s JOIN runs sr ON sr.id = s.run_id "
                   "WHERE sr.tenant = r.tenant AND s.resource = 'user' AND s.attribute = 'STSRefreshTokensValidFrom' "
                   "AND lower(s.target) = lower(c.target) AND s.id > c.id AND s.status IN ('applied', 'verified')) "
                   "ORDER BY c.id");
    owed.bind(1, tenant);
    while (owed.step()) {
        history.revocations_owed[owed.text(0)] = stored_name<Reason>(owed.text(1), "change reason");
    }
    return history;
}

std::vector<ExceptionEventRecord> Journal::granted_exceptions(const std::optional<std::string>& tenant) const {
    Statement statement(*db_, "SELECT " EVENT_COLUMNS " FROM exception_events e WHERE event = 'granted' AND "
                              "(CAST(?1 AS TEXT) IS NULL OR tenant = ?1) AND NOT EXISTS "
                              "(SELECT 1 FROM exception_events later WHERE later.tenant = e.tenant AND later.mailbox = "
                              "e.mailbox AND later.id > e.id AND later.event IN ('granted', 'reverted', 'removed')) "
                              "ORDER BY tenant, expires, mailbox");
    if (tenant) statement.bind(1, *tenant);
    return read_events(statement);
}

std::vector<std::string> Journal::tenants() const {
    Statement statement(*db_, "SELECT DISTINCT tenant FROM runs ORDER BY tenant");
    std::vector<std::string> tenants;
    while (statement.step()) tenants.push_back(statement.text(0));
    return tenants;
}

std::vector<ExceptionEventRecord> Journal::exception_events(const std::string& tenant) const {
    Statement statement(*db_, "SELECT " EVENT_COLUMNS " FROM exception_events WHERE tenant = ? ORDER BY id");
    statement.bind(1, tenant);
    return read_events(statement);
}

void Journal::record_usage(const std::string& tenant, const std::vector<UsageObservation>& observations, Instant now) {
    Transaction transaction(*db_);
    // Prepared once for every sender: a read of a large tenant records tens of thousands.
    Statement upsert(*db_,
                     "INSERT INTO sender_usage(tenant, address, user_id, source, protocol, first_seen, last_seen, "
                     "messages, failures, last_error, recorded_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT(tenant, address, source, protocol) DO UPDATE SET "
                     "first_seen = CASE WHEN excluded.first_seen < sender_usage.first_seen THEN excluded.first_seen "
                     "ELSE sender_usage.first_seen END, "
                     "user_id = CASE WHEN excluded.user_id != '' THEN excluded.user_id ELSE sender_usage.user_id END, "
                     "messages = CASE WHEN excluded.last_seen >= sender_usage.last_seen THEN excluded.messages "
                     "ELSE sender_usage.messages END, "
                     "failures = CASE WHEN excluded.last_seen >= sender_usage.last_seen THEN excluded.failures "
                     "ELSE sender_usage.failures END, "
                     "last_error = CASE WHEN excluded.last_seen >= sender_usage.last_seen THEN excluded.last_error "
                     "ELSE sender_usage.last_error END, "
                     "last_seen = CASE WHEN excluded.last_seen > sender_usage.last_seen THEN excluded.last_seen "
                     "ELSE sender_usage.last_seen END, "
                     "recorded_at = excluded.recorded_at");
    for (const UsageObservation& seen : observations) {
        // The earliest first sighting and the latest last one; the counts of the newest window.
        upsert.reset();
        upsert.bind(1, tenant)
            .bind(2, fold_case(seen.address))
            .bind(3, seen.user_id)
            .bind(4, seen.source)
            .bind(5, seen.protocol)
            .bind(6, format_instant(seen.first_seen))
            .bind(7, format_instant(seen.last_seen))
            .bind(8, seen.messages)
            .bind(9, seen.failures)
            .bind(10, seen.last_error)
            .bind(11, format_instant(now))
            .run();
    }
    transaction.commit();
}

std::set<std::string> Journal::sent_notices(const std::string& tenant) const {
    Statement statement(*db_, "SELECT mailbox, notice FROM notices WHERE tenant = ? AND status = 'sent'");
    statement.bind(1, tenant);
    std::set<std::string> sent;
    while (statement.step()) sent.insert(statement.text(0) + " " + statement.text(1));
    return sent;
}

std::string Journal::notice_id(const std::string& mailbox, const std::string& notice) {
    return fold_case(mailbox) + " " + notice;
}

void Journal::record_notice(const NoticeRecord& notice) {
    // A notice once sent stays sent; a failure counts its attempts and keeps the latest error.
    Statement statement(*db_,
                        "INSERT INTO notices(run_id, tenant, mailbox, notice, owner, recipients, transport, status, "
                        "message_id, error, at) VALUES(NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT(tenant, mailbox, notice) DO UPDATE SET run_id = excluded.run_id, "
                        "owner = excluded.owner, recipients = excluded.recipients, transport = excluded.transport, "
                        "status = excluded.status, message_id = excluded.message_id, error = excluded.error, "
                        "attempts = notices.attempts + 1, at = excluded.at WHERE notices.status != 'sent'");
    statement.bind(1, notice.run_id)
        .bind(2, notice.tenant)
        .bind(3, fold_case(notice.mailbox))
        .bind(4, notice.notice)
        .bind(5, notice.owner)
        .bind(6, notice.recipients)
        .bind(7, notice.transport)
        .bind(8, std::string(notice.sent ? "sent" : "failed"))
        .bind(9, notice.message_id)
        .bind(10, notice.error)
        .bind(11, format_instant(notice.at))
        .run();
}

std::vector<NoticeRecord> Journal::notices(const std::string& tenant) const {
    Statement statement(*db_, "SELECT COALESCE(run_id, 0), mailbox, notice, owner, recipients, transport, status, "
                              "message_id, attempts, error, at FROM notices WHERE tenant = ? ORDER BY id");
    statement.bind(1, tenant);
    std::vector<NoticeRecord> records;
    while (statement.step()) {
        NoticeRecord record;
        record.run_id = statement.number(0);
        record.tenant = tenant;
        record.mailbox = statement.text(1);
        record.notice = statement.text(2);
        record.owner = statement.text(3);
        record.recipients = statement.text(4);
        record.transport = statement.text(5);
        record.sent = statement.text(6) == "sent";
        record.message_id = statement.text(7);
        record.attempts = static_cast<int>(statement.number(8));
        record.error = statement.text(9);
        record.at = statement.instant(10);
        records.push_back(std::move(record));
    }
    return records;
}

std::map<std::string, Instant> Journal::reverted_mailboxes(const std::string& tenant) const {
    Statement statement(*db_, "SELECT lower(c.target), MAX(c.at) FROM changes c JOIN runs r ON r.id = c.run_id "
                              "WHERE r.tenant = ? AND c.resource = 'mailbox' AND c.reason = 'exception_expired' "
                              "AND c.status = 'verified' GROUP BY lower(c.target)");
    statement.bind(1, tenant);
    std::map<std::string, Instant> mailboxes;
    while (statement.step()) mailboxes[statement.text(0)] = statement.instant(1);
    return mailboxes;
}

std::vector<UsageObservation> Journal::usage(const std::string& tenant) const {
    Statement statement(*db_, "SELECT address, user_id, source, protocol, first_seen, last_seen, messages, failures, "
                              "last_error FROM sender_usage WHERE tenant = ? ORDER BY last_seen DESC, address");
    statement.bind(1, tenant);
    std::vector<UsageObservation> observations;
    while (statement.step()) {
        UsageObservation seen;
        seen.address = statement.text(0);
        seen.user_id = statement.text(1);
        seen.source = stored_name<UsageSource>(statement.text(2), "usage source");
        seen.protocol = stored_name<SmtpProtocol>(statement.text(3), "SMTP protocol");
        seen.first_seen = statement.instant(4);
        seen.last_seen = statement.instant(5);
        seen.messages = statement.number(6);
        seen.failures = statement.number(7);
        seen.last_error = statement.text(8);
        observations.push_back(std::move(seen));
    }
    return observations;
}

Journal::Counts Journal::counts() const {
    Counts counts;
    const auto count = [&](const char* sql) {
        Statement statement(*db_, sql);
        statement.step();
        return statement.number(0);
    };
    counts.runs = count("SELECT COUNT(*) FROM runs");
    counts.changes = count("SELECT COUNT(*) FROM changes");
    counts.exception_events = count("SELECT COUNT(*) FROM exception_events");
    counts.drift = count("SELECT COUNT(*) FROM drift");
    counts.usage = count("SELECT COUNT(*) FROM sender_usage");
    counts.notices = count("SELECT COUNT(*) FROM notices");
    return counts;
}

namespace {

// The columns of each table a copy carries over, in order; a run's id is given anew.
constexpr const char* run_columns =
    "command, mode, tenant, tenant_name, desired_digest, started_at, finished_at, outcome, planned, applied, failed, "
    "reported, warnings, error, holder, boot_id";
constexpr const char* change_columns =
    "run_id, sequence, resource, target, attribute, action, before, after, reason, status, error, "
    "client_request_id, verified, at";
constexpr const char* event_columns = "run_id, tenant, mailbox, event, owner, expires, threshold_days, at";
constexpr const char* notice_columns =
    "run_id, tenant, mailbox, notice, owner, recipients, transport, status, message_id, attempts, error, at";
constexpr const char* usage_columns =
    "tenant, address, user_id, source, protocol, first_seen, last_seen, messages, failures, last_error, recorded_at";
constexpr const char* drift_columns =
    "tenant, resource, target, attribute, expected, actual, first_seen, last_seen, resolved_at";

int column_count(const char* columns) {
    return static_cast<int>(std::count(columns, columns + std::strlen(columns), ',')) + 1;
}

std::string insert_sql(const char* table, const char* columns, bool returning) {
    std::string sql = std::string("INSERT INTO ") + table + "(" + columns + ") VALUES(";
    for (int i = 0; i < column_count(columns); ++i) sql += i ? ", ?" : "?";
    return sql + (returning ? ") RETURNING id" : ")");
}

// Copies every row of `table` from `from` to `to`, in id order; `run_id`, when the first column
// is a run's id, is mapped through `runs` (given anew in `to`).
void copy_rows(Database& from, Database& to, const char* table, const char* columns,
               const std::map<long long, long long>* runs, std::map<long long, long long>* given_ids = nullptr) {
    // With `given_ids`, each row's id is read and the id `to` gives it recorded.
    const int first = given_ids ? 1 : 0;
    const auto read =
        from.query(std::string("SELECT ") + (given_ids ? "id, " : "") + columns + " FROM " + table + " ORDER BY id");
    const int width = column_count(columns);
    const auto write = to.query(insert_sql(table, columns, given_ids != nullptr));  // prepared once
    while (read->step()) {
        write->reset();
        for (int column = 0; column < width; ++column) {
            const int at = first + column;
            if (read->is_null(at)) {
                write->bind_null(column + 1);
            } else if (runs && column == 0) {
                const auto found = runs->find(read->number(at));
                if (found == runs->end())
                    throw JournalError(std::string("journal: a row of ") + table + " names run " + read->text(at) +
                                       ", which the journal does not hold");
                write->bind(column + 1, found->second);
            } else {
                write->bind(column + 1, read->text(at));
            }
        }
        if (!given_ids) {
            write->run();
        } else if (write->step()) {
            (*given_ids)[read->number(0)] = write->number(0);
            write->run();
        } else {
            throw JournalError(std::string("journal: a copied row of ") + table + " was given no id");
        }
    }
}

}  // namespace

Journal::Counts Journal::copy_to(Journal& to, Instant now) const {
    std::vector<std::string> names;
    {
        Statement all(*db_, "SELECT tenant FROM runs UNION SELECT tenant FROM exception_events UNION "
                            "SELECT tenant FROM drift UNION SELECT tenant FROM sender_usage UNION SELECT tenant FROM "
                            "notices ORDER BY 1");
        while (all.step()) names.push_back(all.text(0));
    }
    {
        Statement held(*db_, "SELECT tenant, holder FROM locks WHERE lease_until > ?");
        held.bind(1, format_instant(now));
        if (held.step())
            throw JournalError("a run (" + held.text(1) + ") holds the lock of tenant " + held.text(0) + " in " +
                               location() + ": copy the journal once it has finished");
    }
    Transaction transaction(*to.db_);
    for (const std::string& tenant : names) {
        Statement there(*to.db_,
                        "SELECT (SELECT COUNT(*) FROM runs WHERE tenant = ?1) + (SELECT COUNT(*) FROM "
                        "exception_events WHERE tenant = ?1) + (SELECT COUNT(*) FROM drift WHERE tenant = ?1) + "
                        "(SELECT COUNT(*) FROM sender_usage WHERE tenant = ?1) + (SELECT COUNT(*) FROM notices WHERE "
                        "tenant = ?1)");
        there.bind(1, tenant);
        if (there.step() && there.number(0) > 0)
            throw JournalError(to.location() + " already holds runs of tenant " + tenant +
                               ": nothing was copied (a journal is copied once, into one that does not know it)");
    }
    const Counts source = counts();
    std::map<long long, long long> runs;  // a run's id here -> its id in `to`
    copy_rows(*db_, *to.db_, "runs", run_columns, nullptr, &runs);
    copy_rows(*db_, *to.db_, "changes", change_columns, &runs);
    copy_rows(*db_, *to.db_, "exception_events", event_columns, &runs);
    copy_rows(*db_, *to.db_, "drift", drift_columns, nullptr);
    copy_rows(*db_, *to.db_, "sender_usage", usage_columns, nullptr);
    copy_rows(*db_, *to.db_, "notices", notice_columns, &runs);

    // What `to` now holds of these tenants is what was read, row for row.
    Counts copied;
    for (const std::string& tenant : names) {
        const auto count = [&](const char* sql) {
            Statement statement(*to.db_, sql);
            statement.bind(1, tenant);
            statement.step();
            return statement.number(0);
        };
        copied.runs += count("SELECT COUNT(*) FROM runs WHERE tenant = ?");
        copied.changes += count("SELECT COUNT(*) FROM changes c JOIN runs r ON r.id = c.run_id WHERE r.tenant = ?");
        copied.exception_events += count("SELECT COUNT(*) FROM exception_events WHERE tenant = ?");
        copied.drift += count("SELECT COUNT(*) FROM drift WHERE tenant = ?");
        copied.usage += count("SELECT COUNT(*) FROM sender_usage WHERE tenant = ?");
        copied.notices += count("SELECT COUNT(*) FROM notices WHERE tenant = ?");
    }
    if (!(copied == source)) {
        throw JournalError("the copy in " + to.location() + " holds " + std::to_string(copied.runs) + " runs, " +
                           std::to_string(copied.changes) + " changes, " + std::to_string(copied.exception_events) +
                           " exception events and " + std::to_string(copied.drift) + " drift records, where " +
                           location() + " holds " + std::to_string(source.runs) + ", " +
                           std::to_string(source.changes) + ", " + std::to_string(source.exception_events) + " and " +
                           std::to_string(source.drift) + ": nothing was copied");
    }
    transaction.commit();
    return copied;
}

}  // namespace authgate
