#pragma once
// The SQL databases the journal can live in, behind one interface: SQLite (a file, the embedded
// default) and PostgreSQL (a server that every runner, laptop and scheduled job shares). The
// journal writes one SQL for both: placeholders are SQLite's `?` and `?N` (PostgreSQL's adapter
// numbers them), ids come back through RETURNING, conflicts through ON CONFLICT.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace authgate {

class JournalError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class Dialect { sqlite, postgresql };

// One statement: bind by position (1-based), then step row by row or run to completion.
// A parameter never bound is NULL.
class Query {
public:
    virtual ~Query() = default;
    virtual Query& bind(int index, const std::string& text) = 0;
    virtual Query& bind(int index, long long number) = 0;
    virtual Query& bind_null(int index) = 0;
    Query& bind(int index, int number) { return bind(index, static_cast<long long>(number)); }
    Query& bind(int index, const char* text) { return bind(index, std::string(text)); }

    // True with a row to read; false when done. Throws JournalError.
    virtual bool step() = 0;
    void run() {
        while (step()) {
        }
    }
    // Rows inserted, updated or deleted by a statement run to completion.
    virtual long long affected() const = 0;
    // Ready to run again, prepared once: every parameter unbound (NULL), no rows.
    virtual void reset() = 0;

    virtual bool is_null(int column) const = 0;
    virtual std::string text(int column) const = 0;  // "" for NULL
    virtual long long number(int column) const = 0;  // 0 for NULL
};

class Database {
public:
    virtual ~Database() = default;
    virtual Dialect dialect() const = 0;
    // Where it is, for people: a file's path, or a server's URI without its password.
    virtual std::string location() const = 0;

    virtual std::unique_ptr<Query> query(std::string_view sql) = 0;
    // Statements without parameters or rows, separated by semicolons.
    virtual void execute(std::string_view sql) = 0;

    // A write transaction that no other writer interleaves with.
    virtual void begin_write() = 0;
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;

    // The schema version the numbered migrations brought the database to (0 when new), and
    // setting it inside the migration's transaction.
    virtual int schema_version() = 0;
    virtual void set_schema_version(int version) = 0;
    // Taken inside the migrations' write transaction, before the version is read, so that two
    // processes starting at once migrate one after the other.
    virtual void lock_for_migration() = 0;

    // A lock held by this connection until released or until the connection ends, however the
    // process ends (kill -9 included): true when taken, false when another connection holds it,
    // nullopt where the database has no such lock (SQLite: the journal's lease stands alone).
    virtual std::optional<bool> try_session_lock(std::int64_t key) = 0;
    virtual void release_session_lock(std::int64_t key) noexcept = 0;
    // False once the connection is lost (a session lock is then lost with it).
    virtual bool connected() = 0;
};

// A write transaction: begins on construction, commit() ends it, and leaving the scope without
// commit() rolls it back.
class Transaction {
public:
    explicit Transaction(Database& database) : database_(database) { database_.begin_write(); }
    ~Transaction() {
        if (!committed_) database_.rollback();
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        database_.commit();
        committed_ = true;
    }

private:
    Database& database_;
    bool committed_ = false;
};

// Opens the database that `location` names: a PostgreSQL URI (postgresql:// or postgres://),
// else a SQLite file's path (creating its folders, owner-only, and the file).
std::unique_ptr<Database> open_database(const std::string& location);
std::unique_ptr<Database> open_sqlite(const std::string& path);
std::unique_ptr<Database> open_postgresql(const std::string& uri);

// The database libraries this authgate runs on, as "name version" ("SQLite 3.40.1", "libpq 15.18").
std::vector<std::string> database_libraries();

// The key of a session lock on `name`: the same on every machine and in every version.
std::int64_t session_lock_key(const std::string& name);

}  // namespace authgate
