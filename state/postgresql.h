#pragma once
// How authgate connects to a PostgreSQL journal: the URI as given, libpq's PG* environment and
// service files, and the rules it adds. TLS is verified (sslmode=verify-full, against the
// system's certificate authorities) unless the URI or PGSSLMODE says otherwise; a connection
// that may be plaintext to a host that is not this machine is refused unless
// AUTHGATE_STATE_ALLOW_PLAINTEXT=1 asks for it. The password is never shown.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace authgate {

// A PostgreSQL URI (postgresql:// or postgres://); anything else is a SQLite file's path.
bool is_postgresql_location(const std::string& location);

// The location for people: a URI without its password (user, host, port, database and the
// non-secret parameters), a path as it is.
std::string shown_location(const std::string& location);

// `text` with every spelling of the URI's password (as written, and decoded) replaced by "***".
std::string without_password(const std::string& text, const std::string& uri);

using Environment = std::function<std::optional<std::string>(const std::string& name)>;
std::optional<std::string> process_environment(const std::string& name);

struct ConnectionSettings {
    // libpq's keywords and values, the URI first (expanded), then what authgate adds.
    std::vector<std::pair<std::string, std::string>> parameters;
    std::string sslmode;  // the one in force
    bool local = false;   // every host is this machine (a socket or a loopback address)
};

// The parameters to connect with, or throws JournalError (the URI cannot be read, or a
// plaintext connection to another machine was not asked for). `home` finds ~/.postgresql.
ConnectionSettings connection_settings(const std::string& uri, const Environment& environment = process_environment);

}  // namespace authgate
