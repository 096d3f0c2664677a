#pragma once
// The private PostgreSQL server the tests start (tests/postgresql/pg-server, a CTest fixture):
// a fresh database on it for each test, and plain SQL against it for a test's checks.
#include <map>
#include <string>
#include <vector>

namespace authgate::testing {

// True when this test program runs against PostgreSQL: AUTHGATE_TEST_JOURNAL=postgresql:FILE,
// FILE the settings pg-server wrote.
bool journal_in_postgresql();
// The server's settings (AUTHGATE_TEST_PG, ..._PORT, ..._CA, ...), read from that file. Throws when the server is not
// there: a test that needs it fails, never skips.
const std::map<std::string, std::string>& test_server();
// A new, empty database on the server; its URI (over the server's socket).
std::string fresh_database(const std::string& hint = "t");
// The database a URI names (postgresql://.../NAME?...).
std::string database_name(const std::string& uri);
// A test's journal: a fresh PostgreSQL database when journal_in_postgresql(), else `sqlite_path`.
std::string journal_location(const std::string& sqlite_path);

using PgRow = std::map<std::string, std::string>;
// Runs `sql` (one statement, or several without rows) and returns its rows as text; throws
// with the server's message.
std::vector<PgRow> pg_query(const std::string& uri, const std::string& sql);

}  // namespace authgate::testing
