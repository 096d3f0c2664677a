// The journal in a SQLite file: the embedded default, for one machine.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <sqlite3.h>

#include "state/database.h"

namespace authgate {
namespace {

class SqliteQuery final : public Query {
public:
    SqliteQuery(sqlite3* db, std::string_view sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &statement_, nullptr) != SQLITE_OK)
            throw JournalError(std::string("journal: ") + sqlite3_errmsg(db));
    }
    ~SqliteQuery() override { sqlite3_finalize(statement_); }
    SqliteQuery(const SqliteQuery&) = delete;
    SqliteQuery& operator=(const SqliteQuery&) = delete;

    Query& bind(int index, const std::string& text) override {
        sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Query& bind(int index, long long number) override {
        sqlite3_bind_int64(statement_, index, number);
        return *this;
    }
    Query& bind_null(int index) override {
        sqlite3_bind_null(statement_, index);
        return *this;
    }
    using Query::bind;

    bool step() override {
        const int code = sqlite3_step(statement_);
        if (code == SQLITE_ROW) return true;
        if (code == SQLITE_DONE) {
            affected_ = sqlite3_changes(db_);
            return false;
        }
        throw JournalError(std::string("journal: ") + sqlite3_errmsg(db_));
    }
    long long affected() const override { return affected_; }
    void reset() override {
        sqlite3_reset(statement_);
        sqlite3_clear_bindings(statement_);
        affected_ = 0;
    }

    bool is_null(int column) const override { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
    std::string text(int column) const override {
        const auto* data = sqlite3_column_text(statement_, column);
        return data ? std::string(reinterpret_cast<const char*>(data),
                                  static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)))
                    : "";
    }
    long long number(int column) const override { return sqlite3_column_int64(statement_, column); }

private:
    sqlite3* db_;
    sqlite3_stmt* statement_ = nullptr;
    long long affected_ = 0;
};

class SqliteDatabase final : public Database {
public:
    SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    ~SqliteDatabase() override { sqlite3_close_v2(db_); }
    SqliteDatabase(const SqliteDatabase&) = delete;
    SqliteDatabase& operator=(const SqliteDatabase&) = delete;

    Dialect dialect() const override { return Dialect::sqlite; }
    std::string location() const override { return path_; }

    std::unique_ptr<Query> query(std::string_view sql) override { return std::make_unique<SqliteQuery>(db_, sql); }
    void execute(std::string_view sql) override {
        const std::string text(sql);
        char* message = nullptr;
        if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
            const std::string error = message ? message : "unknown error";
            sqlite3_free(message);
            throw JournalError("journal: " + error);
        }
    }
    // IMMEDIATE takes the write lock at once, so two processes never interleave.
    void begin_write() override { execute("BEGIN IMMEDIATE"); }
    void commit() override { execute("COMMIT"); }
    void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

    int schema_version() override {
        SqliteQuery version(db_, "PRAGMA user_version");
        version.step();
        return static_cast<int>(version.number(0));
    }
    void set_schema_version(int version) override { execute("PRAGMA user_version = " + std::to_string(version)); }
    // BEGIN IMMEDIATE already keeps a second process out.
    void lock_for_migration() override {}

    std::optional<bool> try_session_lock(std::int64_t) override { return std::nullopt; }
    void release_session_lock(std::int64_t) noexcept override {}
    bool connected() override { return true; }

private:
    sqlite3* db_;
    std::string path_;
};

// The folders authgate creates for its state are its own (0700), each level it makes.
void make_folders(const std::string& path) {
    const std::filesystem::path file(path);
    if (!file.has_parent_path()) return;
    std::vector<std::filesystem::path> missing;
    for (std::filesystem::path folder = file.parent_path(); !folder.empty() && !std::filesystem::exists(folder);
         folder = folder.parent_path()) {
        missing.push_back(folder);
        if (folder == folder.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it)
        if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST)
            throw JournalError("cannot create the folder of the state database " + path + ": " + std::strerror(errno));
}

}  // namespace

std::unique_ptr<Database> open_sqlite(const std::string& path) {
    make_folders(path);
    // A new journal is readable by its owner only; SQLite gives its -wal and -shm files the same mode.
    if (const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        const std::string message = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw JournalError("cannot open the state database " + path + ": " + message);
    }
    auto database = std::make_unique<SqliteDatabase>(db, path);
    // Another process (a second apply, a status query) may hold the file briefly: wait for it.
    sqlite3_busy_timeout(db, 10000);
    database->execute("PRAGMA journal_mode = WAL");
    database->execute("PRAGMA synchronous = NORMAL");
    database->execute("PRAGMA foreign_keys = ON");
    return database;
}

}  // namespace authgate
