// The journal in PostgreSQL: connecting (TLS, plaintext, the password never shown), the session
// lock, and what a server that refuses gives. The tests tagged [postgresql] run against the
// private server CTest starts (tests/postgresql/pg-server); [postgresql-settings] need none.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "state/journal.h"
#include "state/postgresql.h"
#include "tests/postgresql/test_server.h"

using namespace authgate;
using namespace authgate::testing;

namespace {

const Instant t0 = *parse_instant("2026-11-22T10:00:00Z");
const auto lease = std::chrono::seconds(300);

Environment environment_of(std::map<std::string, std::string> values) {
    return [values](const std::string& name) -> std::optional<std::string> {
        const auto found = values.find(name);
        if (found == values.end()) return std::nullopt;
        return found->second;
    };
}

std::optional<std::string> parameter(const ConnectionSettings& settings, const std::string& key) {
    std::optional<std::string> value;
    for (const auto& [name, given] : settings.parameters)
        if (name == key) value = given;
    return value;
}

LockHolder named(const std::string& holder) {
    LockHolder named;
    named.holder = holder;
    return named;
}

std::string message_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const std::exception& error) {
        return error.what();
    }
    return "";
}

// A variable of this process for the life of a test.
struct ScopedVariable {
    std::string name;
    ScopedVariable(std::string variable, const std::string& value) : name(std::move(variable)) {
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~ScopedVariable() { ::unsetenv(name.c_str()); }
};

// A database of the role that signs in with a password, made once.
const std::string& owned_database() {
    static const std::string name = [] {
        const std::string made = database_name(fresh_database("tls"));
        pg_query(test_server().at("AUTHGATE_TEST_PG"), "ALTER DATABASE " + made + " OWNER TO authgate_password");
        return made;
    }();
    return name;
}

// The server's TCP listener, as a machine elsewhere would be reached: by the name its
// certificate bears (db.test), at 127.0.0.1.
std::string over_tcp(const std::string& password, const std::string& extra = "") {
    return "postgresql://authgate_password:" + password + "@db.test:" + test_server().at("AUTHGATE_TEST_PG_PORT") +
           "/" + owned_database() + "?hostaddr=127.0.0.1" + extra;
}

}  // namespace

TEST_CASE("a server on another machine is reached over verified TLS unless the URI says otherwise",
          "[postgresql-settings]") {
    const auto none = environment_of({});
    const ConnectionSettings remote = connection_settings("postgresql://u:p@db.example.com/authgate", none);
    CHECK_FALSE(remote.local);
    CHECK(remote.sslmode == "verify-full");
    CHECK(parameter(remote, "sslmode") == "verify-full");
    CHECK(parameter(remote, "sslrootcert") == "/etc/ssl/certs/ca-certificates.crt");
    CHECK(parameter(remote, "application_name") == "authgate");

    const ConnectionSettings required = connection_settings("postgresql://u@db.example.com/authgate?sslmode=require",
                                                            none);
    CHECK(required.sslmode == "require");
    CHECK_FALSE(parameter(required, "sslmode"));  // the URI's own, not overridden

    const ConnectionSettings named_root =
        connection_settings("postgresql://u@db.example.com/authgate?sslrootcert=/etc/authgate/azure-root.pem", none);
    CHECK_FALSE(parameter(named_root, "sslrootcert"));

    const ConnectionSettings from_environment = connection_settings("postgresql://u@db.example.com/authgate",
                                                                    environment_of({{"PGSSLMODE", "verify-ca"}}));
    CHECK(from_environment.sslmode == "verify-ca");
    CHECK_FALSE(parameter(from_environment, "sslmode"));
}

TEST_CASE("a connection that may be plaintext to another machine is refused unless asked for",
          "[postgresql-settings]") {
    for (const std::string mode : {"disable", "allow", "prefer"}) {
        const std::string uri = "postgresql://u:s3cret-pw@db.example.com/authgate?sslmode=" + mode;
        const std::string refused = message_of([&] { connection_settings(uri, environment_of({})); });
        CHECK(refused.find("is on another machine and sslmode=" + mode) != std::string::npos);
        CHECK(refused.find("AUTHGATE_STATE_ALLOW_PLAINTEXT=1") != std::string::npos);
        CHECK(refused.find("s3cret-pw") == std::string::npos);
        CHECK_NOTHROW(connection_settings(uri, environment_of({{"AUTHGATE_STATE_ALLOW_PLAINTEXT", "1"}})));
    }
    CHECK_THROWS(connection_settings("postgresql://u@db.example.com/a", environment_of({{"PGSSLMODE", "prefer"}})));
    // This machine: a socket, or a loopback address, needs no TLS.
    for (const std::string uri : {"postgresql:///authgate", "postgresql://localhost/authgate",
                                  "postgresql://127.0.0.1:5433/authgate?sslmode=disable",
                                  "postgresql:///authgate?host=/var/run/postgresql", "postgresql://[::1]/authgate"}) {
        INFO(uri);
        const ConnectionSettings local = connection_settings(uri, environment_of({}));
        CHECK(local.local);
        CHECK_FALSE(parameter(local, "sslmode"));
    }
    CHECK_FALSE(connection_settings("postgresql:///a", environment_of({{"PGHOST", "db.example.com"}})).local);
    CHECK_FALSE(connection_settings("postgresql://localhost,db.example.com/a", environment_of({})).local);
}

TEST_CASE("a service file's settings count as libpq counts them", "[postgresql-settings]") {
    const auto folder = std::filesystem::temp_directory_path() / ("authgate-service-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    const auto file = folder / "pg_service.conf";
    std::ofstream(file) << "# a comment\n[other]\nsslmode=disable\n[journal]\nhost=db.example.com\n"
                           "sslmode=disable\ndbname=authgate\n";
    const auto environment = environment_of({{"PGSERVICEFILE", file.string()}});
    CHECK_THROWS_WITH(connection_settings("postgresql://?service=journal", environment),
                      Catch::Contains("is on another machine and sslmode=disable"));
    std::ofstream(file) << "[journal]\nhost=db.example.com\nsslmode=verify-full\n";
    CHECK(connection_settings("postgresql://?service=journal", environment).sslmode == "verify-full");
    std::filesystem::remove_all(folder);
}

TEST_CASE("the password is never shown", "[postgresql-settings]") {
    const std::string uri = "postgresql://authgate:p%40ss%3Aw0rd@db.example.com:6432/journal?sslmode=verify-full";
    CHECK(shown_location(uri) == "postgresql://authgate@db.example.com:6432/journal?sslmode=verify-full");
    CHECK(without_password("failed for p%40ss%3Aw0rd and p@ss:w0rd", uri) == "failed for *** and ***");
    CHECK(shown_location("postgresql:///journal?host=/run/postgresql&port=5433") ==
          "postgresql:///journal?host=/run/postgresql&port=5433");
    CHECK(shown_location("state/journal.db") == "state/journal.db");
    const std::string unreadable = message_of([] { connection_settings("postgresql://u:pw@host/db?nonsense=1"); });
    CHECK(unreadable.find("cannot be read") != std::string::npos);
    CHECK(unreadable.find(":pw@") == std::string::npos);
    CHECK(is_postgresql_location("POSTGRES://x"));
    CHECK_FALSE(is_postgresql_location("postgresql.db"));
}

TEST_CASE("the tenant's lock lives as long as its holder's connection", "[postgresql]") {
    const std::string uri = fresh_database("lock");
    auto first = std::make_optional(Journal::open(uri));
    Journal second = Journal::open(uri);
    REQUIRE_FALSE(first->acquire_lock("contoso", named("host-a:1"), t0, lease));
    // Its lease ran out long ago, and the holder is said to be dead: its connection is alive, so
    // it holds the lock still.
    const auto held = second.acquire_lock("contoso", named("host-b:2"), t0 + std::chrono::hours(5), lease,
                                          [](const LockHolder&) { return true; });
    REQUIRE(held);
    CHECK(held->holder == "host-a:1");
    CHECK_FALSE(second.acquire_lock("fabrikam", named("host-b:2"), t0, lease));  // locks are per tenant
    // The holder's connection ends (a process killed, any way): the lock is free at once.
    first.reset();
    CHECK_FALSE(second.acquire_lock("contoso", named("host-b:2"), t0 + std::chrono::seconds(1), lease));
    CHECK(second.renew_lock("contoso", "host-b:2", t0 + std::chrono::seconds(2), lease));
    second.release_lock("contoso", "host-b:2");
    Journal third = Journal::open(uri);
    CHECK_FALSE(third.acquire_lock("contoso", named("host-c:3"), t0 + std::chrono::seconds(3), lease));
}

TEST_CASE("a lost connection loses the lock and stops every write", "[postgresql]") {
    const std::string uri = fresh_database("lost");
    Journal journal = Journal::open(uri);
    REQUIRE_FALSE(journal.acquire_lock("contoso", named("host-a:1"), t0, lease));
    CHECK(journal.renew_lock("contoso", "host-a:1", t0 + std::chrono::seconds(1), lease));
    pg_query(test_server().at("AUTHGATE_TEST_PG"),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database_name(uri) +
                 "' AND pid != pg_backend_pid()");
    CHECK_FALSE(journal.renew_lock("contoso", "host-a:1", t0 + std::chrono::seconds(2), lease));
    RunRecord run;
    run.tenant = "contoso";
    run.started_at = t0;
    CHECK_THROWS_WITH(journal.begin_run(run), Catch::Contains("lost the connection to the state database"));
    // Another runner takes the lock at once.
    Journal other = Journal::open(uri);
    CHECK_FALSE(other.acquire_lock("contoso", named("host-b:2"), t0 + std::chrono::seconds(3), lease));
}

TEST_CASE("two processes opening a new journal at once migrate it once", "[postgresql]") {
    const std::string uri = fresh_database("migrate");
    std::vector<std::thread> openers;
    std::vector<std::string> errors(6);
    for (std::size_t i = 0; i < errors.size(); ++i)
        openers.emplace_back([&, i] { errors[i] = message_of([&] { Journal::open(uri); }); });
    for (auto& opener : openers) opener.join();
    for (const std::string& error : errors) CHECK(error.empty());
    CHECK(Journal::open(uri).schema_version() == 5);
    CHECK(pg_query(uri, "SELECT COUNT(*) AS n FROM authgate_schema").at(0).at("n") == "1");
}

TEST_CASE("a read-only role reads the journal and is refused writes, in one clear error", "[postgresql]") {
    const std::string uri = fresh_database("readonly");
    {
        Journal journal = Journal::open(uri);
        RunRecord run;
        run.tenant = "contoso";
        run.started_at = t0;
        journal.begin_run(run);
    }
    pg_query(uri, "GRANT USAGE ON SCHEMA public TO authgate_reader; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "
                  "authgate_reader");
    const std::string reader = uri + "&user=authgate_reader";
    auto journal = Journal::open_existing(reader);
    REQUIRE(journal);
    CHECK(journal->runs(10).size() == 1);
    RunRecord run;
    run.tenant = "contoso";
    run.started_at = t0;
    CHECK_THROWS_WITH(journal->begin_run(run),
                      "journal: permission denied for table runs (the state database's role lacks that right: apply "
                      "and reconcile need one that may write, and the first run one that may create the journal's "
                      "tables)");
}

TEST_CASE("a server out of disk gives one clear error", "[postgresql]") {
    const std::string uri = fresh_database("full");
    Journal journal = Journal::open(uri);
    // The error a full disk raises (SQLSTATE 53100), raised on every write to runs.
    pg_query(uri,
             "CREATE FUNCTION disk_full() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'could not extend file: "
             "No space left on device' USING ERRCODE = 'disk_full'; END $$ LANGUAGE plpgsql; CREATE TRIGGER fill_disk "
             "BEFORE INSERT OR UPDATE ON runs FOR EACH ROW EXECUTE FUNCTION disk_full()");
    RunRecord run;
    run.tenant = "contoso";
    run.started_at = t0;
    CHECK_THROWS_WITH(journal.begin_run(run),
                      "journal: could not extend file: No space left on device (the state database's server is out "
                      "of resources: disk, memory or connections)");
}

TEST_CASE("a journal that is not there, a wrong password and an unreachable server are each one error",
          "[postgresql]") {
    CHECK_FALSE(Journal::open_existing(fresh_database("empty")));  // and nothing created
    const std::string wrong = message_of([] { Journal::open(over_tcp("Wr0ng-Passw0rd", "&sslmode=require")); });
    CHECK(wrong.find("cannot connect to the state database postgresql://authgate_password@db.test:") == 0);
    CHECK(wrong.find("password authentication failed") != std::string::npos);
    CHECK(wrong.find("Wr0ng-Passw0rd") == std::string::npos);
    const std::string unreachable = message_of([] { Journal::open("postgresql://authgate@127.0.0.1:1/journal"); });
    CHECK(unreachable.find("cannot connect to the state database postgresql://authgate@127.0.0.1:1/journal: ") == 0);
}

TEST_CASE("TLS to a server elsewhere is verified against its certificate authority", "[postgresql]") {
    // By default against the system's authorities, which do not know the test server's.
    const std::string untrusted = message_of([] { Journal::open(over_tcp("correct-horse")); });
    CHECK(untrusted.find("cannot connect to the state database postgresql://authgate_password@db.test:") == 0);
    CHECK(untrusted.find("certificate verify failed") != std::string::npos);
    CHECK(untrusted.find("correct-horse") == std::string::npos);
    // Named in the URI, it is trusted.
    Journal journal =
        Journal::open(over_tcp("correct-horse", "&sslrootcert=" + test_server().at("AUTHGATE_TEST_PG_CA")));
    CHECK(journal.schema_version() == 5);
    CHECK(journal.location().find("correct-horse") == std::string::npos);
    // Plain text to it, only when asked for.
    CHECK_THROWS_WITH(Journal::open(over_tcp("correct-horse", "&sslmode=disable")),
                      Catch::Contains("is on another machine and sslmode=disable"));
    const ScopedVariable allowed("AUTHGATE_STATE_ALLOW_PLAINTEXT", "1");
    CHECK_NOTHROW(Journal::open(over_tcp("correct-horse", "&sslmode=disable")));
}

TEST_CASE("a journal copied between SQLite and PostgreSQL keeps every row in order", "[postgresql]") {
    const auto folder = std::filesystem::temp_directory_path() / ("authgate-copy-" + std::to_string(::getpid()));
    const std::string sqlite = (folder / "state.db").string();
    {
        Journal journal = Journal::open(sqlite);
        for (const std::string tenant : {"guid-contoso", "guid-fabrikam"}) {
            RunRecord run;
            run.tenant = tenant;
            run.tenant_name = tenant + ".onmicrosoft.com";
            run.started_at = t0;
            run.id = journal.begin_run(run);
            Change change;
            change.resource = Resource::mailbox;
            change.target = "kiosk@" + tenant;
            change.attribute = "SmtpClientAuthenticationDisabled";
            change.after = SettingValue{false};
            change.reason = Reason::exception_active;
            journal.record_change({run.id, 1, change, ChangeStatus::verified, "", "req-1", t0});
            journal.record_exception_event(
                {run.id, tenant, change.target, ExceptionEvent::granted, "ops", "2027-01-01", 0, t0});
            journal.observe_drift(tenant,
                                  {{tenant, "organization", "", "SmtpClientAuthenticationDisabled", "true", "false", t0,
                                    t0, std::nullopt}},
                                  t0);
            run.outcome = RunOutcome::succeeded;
            run.finished_at = t0;
            journal.finish_run(run);
        }
    }
    const std::string postgresql = fresh_database("copy");
    const Journal from = Journal::open(sqlite);
    Journal to = Journal::open(postgresql);
    const Journal::Counts copied = from.copy_to(to, t0);
    CHECK(copied == Journal::Counts{2, 2, 2, 2});
    CHECK(to.counts() == from.counts());
    CHECK(to.tenant_names() == from.tenant_names());
    CHECK(to.plan_history("guid-contoso").granted.count("kiosk@guid-contoso") == 1);
    CHECK(to.runs(10, std::string("guid-fabrikam")).size() == 1);
    CHECK(to.changes_of(to.runs(10).back().id).at(0).client_request_id == "req-1");
    // Copied once: a second copy into the same journal is refused, and changes nothing.
    CHECK_THROWS_WITH(from.copy_to(to, t0), Catch::Contains("already holds runs of tenant guid-contoso"));
    CHECK(to.counts() == from.counts());
    // And back again into a new SQLite file.
    const std::string back = (folder / "back.db").string();
    Journal again = Journal::open(back);
    CHECK(to.copy_to(again, t0) == copied);
    CHECK(again.granted_exceptions().size() == 2);
    std::filesystem::remove_all(folder);
}
