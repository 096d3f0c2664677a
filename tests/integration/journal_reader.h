#pragma once
// Reads the journal directly, as an auditor would: its SQLite file, or its PostgreSQL database
// (a postgresql:// URI). The SQL is the same for both.
#include <map>
#include <string>
#include <vector>

namespace authgate::testing {

using Row = std::map<std::string, std::string>;
std::vector<Row> query(const std::string& database, const std::string& sql);
// Whether authgate has made the journal yet.
bool journal_exists(const std::string& database);
// Changes the journal as another run (or an accident) would: `sql` run read-write.
void modify(const std::string& database, const std::string& sql);

}  // namespace authgate::testing
