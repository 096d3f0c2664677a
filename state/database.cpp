#include "state/database.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include "state/postgresql.h"

namespace authgate {

std::unique_ptr<Database> open_database(const std::string& location) {
    return is_postgresql_location(location) ? open_postgresql(location) : open_sqlite(location);
}

std::vector<std::string> database_libraries() {
    const int libpq = PQlibVersion();  // 150018 for 15.18
    return {std::string("SQLite ") + sqlite3_libversion(),
            "libpq " + std::to_string(libpq / 10000) + "." + std::to_string(libpq % 10000)};
}

std::int64_t session_lock_key(const std::string& name) {
    // FNV-1a, 64 bits.
    std::uint64_t hash = 14695981039346656037ull;
    for (const char c : name) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ull;
    }
    return static_cast<std::int64_t>(hash);
}

}  // namespace authgate
