#include "test_server.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace authgate::testing {

namespace {

// AUTHGATE_TEST_JOURNAL=postgresql:STATE_FILE (one variable: CTest gives a discovered test one).
std::string journal_setting() {
    const char* backend = std::getenv("AUTHGATE_TEST_JOURNAL");
    return backend ? backend : "";
}

}  // namespace

bool journal_in_postgresql() { return journal_setting().rfind("postgresql:", 0) == 0; }

const std::map<std::string, std::string>& test_server() {
    static const std::map<std::string, std::string> settings = [] {
        const std::string setting = journal_setting();
        const std::string file = journal_in_postgresql() ? setting.substr(11) : "";
        if (file.empty())
            throw std::runtime_error("AUTHGATE_TEST_JOURNAL=postgresql:STATE_FILE is not set: run the PostgreSQL "
                                     "tests through ctest, which starts the server (tests/postgresql/pg-server)");
        std::ifstream in(file);
        if (!in) throw std::runtime_error("the test server's settings are missing: " + file);
        std::map<std::string, std::string> values;
        for (std::string line; std::getline(in, line);) {
            const std::size_t equals = line.find('=');
            if (equals == std::string::npos) continue;
            std::string value = line.substr(equals + 1);
            if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'')
                value = value.substr(1, value.size() - 2);
            values[line.substr(0, equals)] = value;
        }
        if (!values.count("AUTHGATE_TEST_PG")) throw std::runtime_error("no server in " + file);
        return values;
    }();
    return settings;
}

std::vector<PgRow> pg_query(const std::string& uri, const std::string& sql) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> connection(PQconnectdb(uri.c_str()), &PQfinish);
    if (PQstatus(connection.get()) != CONNECTION_OK)
        throw std::runtime_error(std::string("test server: ") + PQerrorMessage(connection.get()));
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(connection.get(), sql.c_str()), &PQclear);
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
        throw std::runtime_error(std::string("test server: ") + PQresultErrorMessage(result.get()));
    std::vector<PgRow> rows;
    for (int row = 0; row < PQntuples(result.get()); ++row) {
        PgRow values;
        for (int column = 0; column < PQnfields(result.get()); ++column)
            values[PQfname(result.get(), column)] =
                PQgetisnull(result.get(), row, column) ? "" : PQgetvalue(result.get(), row, column);
        rows.push_back(values);
    }
    return rows;
}

std::string fresh_database(const std::string& hint) {
    static std::atomic<int> count{0};
    const std::string name = hint + "_" + std::to_string(::getpid()) + "_" + std::to_string(++count);
    const std::string maintenance = test_server().at("AUTHGATE_TEST_PG");
    pg_query(maintenance, "CREATE DATABASE " + name);
    const std::size_t slash = maintenance.find("/postgres?");
    if (slash == std::string::npos) throw std::runtime_error("unexpected maintenance URI " + maintenance);
    return maintenance.substr(0, slash) + "/" + name + maintenance.substr(slash + 9);
}

std::string database_name(const std::string& uri) {
    const std::size_t slash = uri.find('/', uri.find("://") + 3);
    const std::size_t query = uri.find('?', slash);
    return uri.substr(slash + 1, query == std::string::npos ? std::string::npos : query - slash - 1);
}

std::string journal_location(const std::string& sqlite_path) {
    return journal_in_postgresql() ? fresh_database("journal") : sqlite_path;
}

}  // namespace authgate::testing
