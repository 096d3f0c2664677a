#include "state/database.h"

#include "state/postgresql.h"

namespace authgate {

std::unique_ptr<Database> open_database(const std::string& location) {
    return is_postgresql_location(location) ? open_postgresql(location) : open_sqlite(location);
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
