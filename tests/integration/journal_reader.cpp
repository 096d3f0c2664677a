#include "journal_reader.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "tests/postgresql/test_server.h"

namespace authgate::testing {
namespace {

using Connection = std::unique_ptr<sqlite3, decltype(&sqlite3_close)>;

Connection open(const std::string& database, int flags) {
    sqlite3* db = nullptr;
    const int code = sqlite3_open_v2(database.c_str(), &db, flags, nullptr);
    Connection connection(db, &sqlite3_close);
    if (code != SQLITE_OK) throw std::runtime_error("cannot open " + database);
    // authgate may be writing (a reconcile service): wait for its transaction instead of failing.
    sqlite3_busy_timeout(db, 30000);
    return connection;
}

}  // namespace

bool in_postgresql(const std::string& journal) { return journal.rfind("postgresql://", 0) == 0; }

bool journal_exists(const std::string& journal) {
    if (!in_postgresql(journal)) return std::filesystem::exists(journal);
    return pg_query(journal, "SELECT to_regclass('locks') IS NOT NULL AS made").at(0).at("made") == "t";
}

std::vector<Row> query(const std::string& database, const std::string& sql) {
    if (in_postgresql(database)) return pg_query(database, sql);
    const Connection db = open(database, SQLITE_OPEN_READONLY);
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &statement, nullptr) != SQLITE_OK)
        throw std::runtime_error(sqlite3_errmsg(db.get()));
    std::vector<Row> rows;
    while (sqlite3_step(statement) == SQLITE_ROW) {
        Row row;
        for (int i = 0; i < sqlite3_column_count(statement); ++i) {
            const auto* text = sqlite3_column_text(statement, i);
            row[sqlite3_column_name(statement, i)] = text ? reinterpret_cast<const char*>(text) : "";
        }
        rows.push_back(row);
    }
    sqlite3_finalize(statement);
    return rows;
}

void modify(const std::string& database, const std::string& sql) {
    if (in_postgresql(database)) {
        pg_query(database, sql);
        return;
    }
    const Connection db = open(database, SQLITE_OPEN_READWRITE);
    char* message = nullptr;
    const int code = sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &message);
    const std::string error = message ? message : "";
    sqlite3_free(message);
    if (code != SQLITE_OK) throw std::runtime_error(error);
}

}  // namespace authgate::testing
