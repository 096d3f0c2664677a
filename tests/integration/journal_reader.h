#pragma once
// Reads the journal's SQLite file directly, as an auditor would.
#include <map>
#include <string>
#include <vector>

namespace authgate::testing {

using Row = std::map<std::string, std::string>;
std::vector<Row> query(const std::string& database, const std::string& sql);
// Changes the journal as another run (or an accident) would: `sql` run read-write.
void modify(const std::string& database, const std::string& sql);

}  // namespace authgate::testing
