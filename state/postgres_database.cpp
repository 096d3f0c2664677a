// The journal in PostgreSQL, through libpq: one journal and one lock per tenant, shared by every
// runner. The tenant's lock is a session advisory lock, released by the server the moment the
// holder's connection closes, however its process ended.
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "state/database.h"
#include "state/postgresql.h"

namespace authgate {
namespace {

using Options = std::map<std::string, std::string>;

// The options a connection string sets (those left out are absent). Throws with libpq's reason.
Options parse_conninfo(const std::string& uri) {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(uri.c_str(), &error);
    if (!parsed) {
        std::string reason = error ? error : "out of memory";
        PQfreemem(error);
        while (!reason.empty() && std::isspace(static_cast<unsigned char>(reason.back()))) reason.pop_back();
        throw JournalError("the state database's URI cannot be read: " + without_password(reason, uri));
    }
    Options options;
    for (const PQconninfoOption* option = parsed; option->keyword; ++option)
        if (option->val && *option->val) options[option->keyword] = option->val;
    PQconninfoFree(parsed);
    return options;
}

// The password as written in a URI's user information, before decoding.
std::string raw_password(const std::string& uri) {
    const std::size_t scheme = uri.find("://");
    if (scheme == std::string::npos) return "";
    const std::size_t start = scheme + 3;
    const std::size_t at = uri.find('@', start);
    const std::size_t slash = uri.find_first_of("/?", start);
    if (at == std::string::npos || (slash != std::string::npos && slash < at)) return "";
    const std::size_t colon = uri.find(':', start);
    if (colon == std::string::npos || colon > at) return "";
    return uri.substr(colon + 1, at - colon - 1);
}

// The settings of a named service, from the service files libpq reads ([name] sections of
// key=value lines): PGSERVICEFILE else ~/.pg_service.conf, then the system's.
Options service_options(const std::string& service, const Environment& environment) {
    std::vector<std::string> files;
    if (const auto file = environment("PGSERVICEFILE")) {
        files.push_back(*file);
    } else if (const auto home = environment("HOME")) {
        files.push_back(*home + "/.pg_service.conf");
    }
    files.push_back(environment("PGSYSCONFDIR").value_or("/etc/postgresql-common") + "/pg_service.conf");
    for (const std::string& path : files) {
        std::ifstream in(path);
        if (!in) continue;
        Options options;
        bool inside = false, found = false;
        for (std::string line; std::getline(in, line);) {
            while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
            const std::size_t first = line.find_first_not_of(" \t");
            if (first == std::string::npos || line[first] == '#') continue;
            line.erase(0, first);
            if (line.front() == '[') {
                inside = line == "[" + service + "]";
                found = found || inside;
                continue;
            }
            const std::size_t equals = line.find('=');
            if (inside && equals != std::string::npos) options[line.substr(0, equals)] = line.substr(equals + 1);
        }
        if (found) return options;
    }
    return {};
}

bool is_local_host(const std::string& host) {
    if (host.empty() || host.front() == '/' || host.front() == '@') return true;
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool all_local(const std::string& hosts) {
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = hosts.find(',', start);
        if (!is_local_host(hosts.substr(start, comma - start))) return false;
        if (comma == std::string::npos) return true;
        start = comma + 1;
    }
}

// SQLite's placeholders (? and ?N) as PostgreSQL's ($N), numbered as SQLite numbers them; the
// count in `parameters`. Quoted text and identifiers are left as they are.
std::string numbered_placeholders(std::string_view sql, int& parameters) {
    std::string out;
    out.reserve(sql.size() + 8);
    parameters = 0;
    char quote = 0;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (quote) {
            if (c == quote) quote = 0;
            out += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            out += c;
        } else if (c == '?') {
            std::size_t end = i + 1;
            while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) ++end;
            const int number = end > i + 1 ? std::stoi(std::string(sql.substr(i + 1, end - i - 1))) : parameters + 1;
            parameters = std::max(parameters, number);
            out += "$" + std::to_string(number);
            i = end - 1;
        } else {
            out += c;
        }
    }
    return out;
}

struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

std::string trimmed(std::string text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    return text;
}

class PostgresDatabase;

class PostgresQuery final : public Query {
public:
    PostgresQuery(PostgresDatabase& database, std::string_view sql);

    Query& bind(int index, const std::string& text) override {
        slot(index) = text;
        return *this;
    }
    Query& bind(int index, long long number) override { return bind(index, std::to_string(number)); }
    Query& bind_null(int index) override {
        slot(index).reset();
        return *this;
    }
    using Query::bind;

    bool step() override;
    long long affected() const override { return affected_; }
    void reset() override {
        result_.reset();
        for (auto& value : values_) value.reset();
        row_ = -1;
        rows_ = 0;
        affected_ = 0;
    }
    bool is_null(int column) const override { return PQgetisnull(result_.get(), row_, column) != 0; }
    std::string text(int column) const override {
        if (is_null(column)) return "";
        return std::string(PQgetvalue(result_.get(), row_, column),
                           static_cast<std::size_t>(PQgetlength(result_.get(), row_, column)));
    }
    long long number(int column) const override {
        if (is_null(column)) return 0;
        return std::strtoll(PQgetvalue(result_.get(), row_, column), nullptr, 10);
    }

private:
    std::optional<std::string>& slot(int index) {
        if (index < 1 || index > static_cast<int>(values_.size()))
            throw JournalError("journal: no parameter " + std::to_string(index) + " in a statement");
        return values_[static_cast<std::size_t>(index - 1)];
    }

    PostgresDatabase& database_;
    std::string sql_;
    std::vector<std::optional<std::string>> values_;
    Result result_;
    int row_ = -1;
    int rows_ = 0;
    long long affected_ = 0;
};

class PostgresDatabase final : public Database {
public:
    PostgresDatabase(PGconn* connection, std::string uri) : connection_(connection), uri_(std::move(uri)) {}
    ~PostgresDatabase() override { PQfinish(connection_); }
    PostgresDatabase(const PostgresDatabase&) = delete;
    PostgresDatabase& operator=(const PostgresDatabase&) = delete;

    Dialect dialect() const override { return Dialect::postgresql; }
    std::string location() const override { return shown_location(uri_); }

    std::unique_ptr<Query> query(std::string_view sql) override { return std::make_unique<PostgresQuery>(*this, sql); }
    void execute(std::string_view sql) override { run(std::string(sql), {}); }

    void begin_write() override { execute("BEGIN"); }
    void commit() override { execute("COMMIT"); }
    void rollback() noexcept override {
        if (PQstatus(connection_) == CONNECTION_OK) PQclear(PQexec(connection_, "ROLLBACK"));
    }

    int schema_version() override {
        const Result table = run("SELECT to_regclass('authgate_schema') IS NOT NULL", {});
        if (std::string(PQgetvalue(table.get(), 0, 0)) != "t") return 0;
        const Result version = run("SELECT COALESCE(MAX(version), 0) FROM authgate_schema", {});
        return std::atoi(PQgetvalue(version.get(), 0, 0));
    }
    void set_schema_version(int version) override {
        execute("CREATE TABLE IF NOT EXISTS authgate_schema(version INTEGER NOT NULL)");
        execute("DELETE FROM authgate_schema");
        run("INSERT INTO authgate_schema(version) VALUES($1)", {std::to_string(version)});
    }
    // Held until the transaction ends; every authgate that migrates takes the same key.
    void lock_for_migration() override { execute("SELECT pg_advisory_xact_lock(7306173455925063283)"); }

    // Waits a moment for it: a holder whose process has just ended (its connection closing) lets
    // go within milliseconds, one that is alive holds it for its whole run.
    std::optional<bool> try_session_lock(std::int64_t key) override {
        execute("SET lock_timeout = '2s'");
        const std::string text = std::to_string(key);
        const char* values[] = {text.c_str()};
        Result taken(
            PQexecParams(connection_, "SELECT pg_advisory_lock($1::bigint)", 1, nullptr, values, nullptr, nullptr, 0));
        const ExecStatusType status = taken ? PQresultStatus(taken.get()) : PGRES_FATAL_ERROR;
        const char* code = taken ? PQresultErrorField(taken.get(), PG_DIAG_SQLSTATE) : nullptr;
        if (status != PGRES_TUPLES_OK && !(code && std::string(code) == "55P03"))
            throw JournalError(failure(taken.get()));
        execute("SET lock_timeout = '30s'");
        return status == PGRES_TUPLES_OK;  // 55P03: lock_not_available, another run holds it
    }
    void release_session_lock(std::int64_t key) noexcept override {
        if (PQstatus(connection_) != CONNECTION_OK) return;
        const std::string text = std::to_string(key);
        const char* values[] = {text.c_str()};
        PQclear(PQexecParams(connection_, "SELECT pg_advisory_unlock($1::bigint)", 1, nullptr, values, nullptr, nullptr,
                             0));
    }
    bool connected() override {
        if (PQstatus(connection_) != CONNECTION_OK) return false;
        try {
            execute("SELECT 1");
            return true;
        } catch (const JournalError&) {
            return false;
        }
    }

    // Runs `sql` with text parameters (nullopt for NULL); throws JournalError naming what the
    // server said, and what it means for the run.
    Result run(const std::string& sql, const std::vector<std::optional<std::string>>& parameters) {
        std::vector<const char*> values;
        values.reserve(parameters.size());
        for (const auto& parameter : parameters) values.push_back(parameter ? parameter->c_str() : nullptr);
        // Without parameters, PQexec: it takes several statements (a migration) at once.
        Result result(values.empty() ? PQexec(connection_, sql.c_str())
                                     : PQexecParams(connection_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                                    values.data(), nullptr, nullptr, 0));
        const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
        throw JournalError(failure(result.get()));
    }

private:
    std::string failure(const PGresult* result) const {
        if (PQstatus(connection_) != CONNECTION_OK) {
            return "journal: lost the connection to the state database " + location() + ": " +
                   without_password(trimmed(PQerrorMessage(connection_)), uri_);
        }
        const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
        const char* code = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
        std::string message = "journal: " +
                              without_password(trimmed(primary ? primary : PQerrorMessage(connection_)), uri_);
        const std::string sqlstate = code ? code : "";
        if (sqlstate == "42501" || sqlstate == "25006")
            message += " (the state database's role lacks that right: apply and reconcile need one that may write, "
                       "and the first run one that may create the journal's tables)";
        else if (sqlstate.rfind("53", 0) == 0)
            message += " (the state database's server is out of resources: disk, memory or connections)";
        return message;
    }

    PGconn* connection_;
    std::string uri_;
};

PostgresQuery::PostgresQuery(PostgresDatabase& database, std::string_view sql) : database_(database) {
    int parameters = 0;
    sql_ = numbered_placeholders(sql, parameters);
    values_.resize(static_cast<std::size_t>(parameters));
}

bool PostgresQuery::step() {
    if (!result_) {
        result_ = database_.run(sql_, values_);
        rows_ = PQntuples(result_.get());
        const char* tuples = PQcmdTuples(result_.get());
        affected_ = tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0;
    }
    return ++row_ < rows_;
}

void ignore_notice(void*, const char*) {}

}  // namespace

bool is_postgresql_location(const std::string& location) {
    const auto starts = [&](std::string_view scheme) {
        return location.size() >= scheme.size() &&
               std::equal(scheme.begin(), scheme.end(), location.begin(),
                          [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
    };
    return starts("postgresql://") || starts("postgres://");
}

std::string without_password(const std::string& text, const std::string& uri) {
    std::vector<std::string> secrets;
    if (const std::string raw = raw_password(uri); !raw.empty()) secrets.push_back(raw);
    char* error = nullptr;
    if (PQconninfoOption* parsed = PQconninfoParse(uri.c_str(), &error)) {
        for (const PQconninfoOption* option = parsed; option->keyword; ++option)
            if (std::string_view(option->keyword) == "password" && option->val && *option->val)
                secrets.emplace_back(option->val);
        PQconninfoFree(parsed);
    }
    PQfreemem(error);
    std::string out = text;
    for (const std::string& secret : secrets) {
        for (std::size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3))
            out.replace(at, secret.size(), "***");
    }
    return out;
}

std::string shown_location(const std::string& location) {
    if (!is_postgresql_location(location)) return location;
    Options options;
    try {
        options = parse_conninfo(location);
    } catch (const JournalError&) {
        return "postgresql://(a URI that cannot be read)";
    }
    const auto get = [&](const std::string& key) {
        const auto found = options.find(key);
        return found == options.end() ? std::string() : found->second;
    };
    std::string shown = "postgresql://";
    if (const std::string user = get("user"); !user.empty()) shown += user + "@";
    const std::string host = get("host");
    const bool socket = !host.empty() && host.front() == '/';
    if (!socket) shown += host;
    if (const std::string port = get("port"); !port.empty() && !socket) shown += ":" + port;
    shown += "/" + get("dbname");
    std::string query;
    for (const char* key : {"host", "port", "service", "sslmode"}) {
        if (std::string(key) == "host" && !socket) continue;
        if (std::string(key) == "port" && !socket) continue;
        if (const std::string value = get(key); !value.empty())
            query += std::string(query.empty() ? "?" : "&") + key + "=" + value;
    }
    return shown + query;
}

std::optional<std::string> process_environment(const std::string& name) {
    if (const char* value = std::getenv(name.c_str()); value && *value) return std::string(value);
    return std::nullopt;
}

ConnectionSettings connection_settings(const std::string& uri, const Environment& environment) {
    const Options given = parse_conninfo(uri);
    const auto from_uri = [&](const std::string& key) -> std::optional<std::string> {
        const auto found = given.find(key);
        if (found == given.end()) return std::nullopt;
        return found->second;
    };
    Options service;
    if (const auto name = from_uri("service") ? from_uri("service") : environment("PGSERVICE"))
        service = service_options(*name, environment);
    // As libpq resolves a setting: the URI, then the service file, then PG* variables.
    const auto effective = [&](const std::string& key, const std::string& variable) -> std::optional<std::string> {
        if (auto value = from_uri(key)) return value;
        if (const auto found = service.find(key); found != service.end() && !found->second.empty())
            return found->second;
        return environment(variable);
    };

    ConnectionSettings settings;
    settings.parameters.emplace_back("dbname", uri);
    const std::string host = effective("host", "PGHOST").value_or("");
    const std::string hostaddr = effective("hostaddr", "PGHOSTADDR").value_or("");
    settings.local = all_local(host.empty() ? hostaddr : host);

    const auto sslmode = effective("sslmode", "PGSSLMODE");
    settings.sslmode = sslmode.value_or(settings.local ? "prefer" : "verify-full");
    if (!settings.local) {
        if (!sslmode) settings.parameters.emplace_back("sslmode", "verify-full");
        const bool may_be_plaintext = settings.sslmode == "disable" || settings.sslmode == "allow" ||
                                      settings.sslmode == "prefer";
        if (may_be_plaintext && environment("AUTHGATE_STATE_ALLOW_PLAINTEXT").value_or("") != "1") {
            throw JournalError("the state database " + shown_location(uri) +
                               " is on another machine and sslmode=" + settings.sslmode +
                               " may send the journal and the password in plain text: use TLS "
                               "(sslmode=verify-full, the default), or set AUTHGATE_STATE_ALLOW_PLAINTEXT=1 to "
                               "ask for plain text");
        }
    }
    // Verified against the system's certificate authorities unless a root certificate is named
    // (or libpq's own ~/.postgresql/root.crt exists).
    if (settings.sslmode == "verify-full" || settings.sslmode == "verify-ca") {
        const bool named = effective("sslrootcert", "PGSSLROOTCERT").has_value();
        const auto home = environment("HOME");
        const bool own = home && std::filesystem::exists(*home + "/.postgresql/root.crt");
        if (!named && !own && std::filesystem::exists("/etc/ssl/certs/ca-certificates.crt"))
            settings.parameters.emplace_back("sslrootcert", "/etc/ssl/certs/ca-certificates.crt");
    }
    if (!effective("application_name", "PGAPPNAME")) settings.parameters.emplace_back("application_name", "authgate");
    if (!effective("connect_timeout", "PGCONNECT_TIMEOUT")) settings.parameters.emplace_back("connect_timeout", "10");
    return settings;
}

std::unique_ptr<Database> open_postgresql(const std::string& uri) {
    const ConnectionSettings settings = connection_settings(uri);
    std::vector<const char*> keywords, values;
    for (const auto& [keyword, value] : settings.parameters) {
        keywords.push_back(keyword.c_str());
        values.push_back(value.c_str());
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* connection = PQconnectdbParams(keywords.data(), values.data(), 1);
    if (!connection)
        throw JournalError("cannot connect to the state database " + shown_location(uri) + ": out of memory");
    if (PQstatus(connection) != CONNECTION_OK) {
        const std::string reason = without_password(trimmed(PQerrorMessage(connection)), uri);
        PQfinish(connection);
        throw JournalError("cannot connect to the state database " + shown_location(uri) + ": " + reason);
    }
    PQsetNoticeProcessor(connection, ignore_notice, nullptr);
    auto database = std::make_unique<PostgresDatabase>(connection, uri);
    // A migration or a row another run holds is waited for, not forever.
    database->execute("SET lock_timeout = '30s'");
    return database;
}

}  // namespace authgate
