// The journal in PostgreSQL, shared by runners: the real authgate binary against the sandbox
// tenant and the private PostgreSQL server the tests start. Tagged [postgresql]: CTest runs these
// with AUTHGATE_TEST_JOURNAL naming the server, beside the journal's other tests run there too.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "journal_reader.h"
#include "process.h"
#include "sandbox_fixture.h"
#include "tests/postgresql/test_server.h"

using namespace authgate::testing;
namespace fs = std::filesystem;

namespace {

int mutations(const Sandbox& sandbox) { return static_cast<int>(sandbox.state().at("mutations").size()); }

bool wait_for_mutations(const Sandbox& sandbox) {
    for (int i = 0; i < 1200; ++i) {
        if (mutations(sandbox) > 0) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
}

// An apply of the bundled example started in `directory` (a runner's checkout of its own),
// its journal named by AUTHGATE_STATE as a pipeline's secret would.
std::unique_ptr<RunningProgram> start_apply(const Sandbox& sandbox, const fs::path& directory) {
    fs::create_directories(directory);
    std::vector<std::string> argv{AUTHGATE_BINARY, "apply", "-c", sandbox.example(), "--auto-approve"};
    const auto flags = sandbox.connection_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    ProgramOptions options;
    options.environment = {{"AUTHGATE_STATE", sandbox.journal()}, {"GITHUB_ACTIONS", ""}, {"GITHUB_STEP_SUMMARY", ""}};
    options.directory = directory.string();
    return std::make_unique<RunningProgram>(argv, options);
}

// Every row of the journal as text, to look for what must never be there.
std::string journal_dump(const std::string& journal) {
    std::string text;
    for (const char* table : {"runs", "changes", "exception_events", "drift", "locks"})
        for (const Row& row : query(journal, std::string("SELECT * FROM ") + table))
            for (const auto& [column, value] : row) text += column + "=" + value + "\n";
    return text;
}

std::string read_all(const fs::path& folder) {
    std::string text;
    for (const auto& entry : fs::recursive_directory_iterator(folder)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        text += std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    return text;
}

}  // namespace

TEST_CASE("two runners with checkouts of their own and one PostgreSQL journal: one applies, the other is refused",
          "[integration][postgresql][safety]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"latency_ms": 300})");
    auto first = start_apply(sandbox, sandbox.folder() / "runner-1");
    REQUIRE(wait_for_mutations(sandbox));
    auto second = start_apply(sandbox, sandbox.folder() / "runner-2");
    const RunResult refused = second->finish();
    INFO(refused.out << refused.err);
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::StartsWith("error: another apply holds the lock"));
    sandbox.set_faults("{}");
    const RunResult applied = first->finish();
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    CHECK(mutations(sandbox) == 15);  // made once each, by the first alone
    // Neither checkout holds a journal of its own.
    CHECK_FALSE(fs::exists(sandbox.folder() / "runner-1" / ".authgate"));
    CHECK_FALSE(fs::exists(sandbox.folder() / "runner-2" / ".authgate"));
    const auto outcomes = query(sandbox.journal(), "SELECT outcome FROM runs ORDER BY id");
    REQUIRE(outcomes.size() == 2);
    CHECK(outcomes[1].at("outcome") == "refused");
    CHECK(outcomes[0].at("outcome") == "succeeded");
}

TEST_CASE("an apply killed with SIGKILL frees the tenant's lock at once: the next apply starts without waiting",
          "[integration][postgresql][safety]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"latency_ms": 300})");
    auto killed = start_apply(sandbox, sandbox.folder() / "runner-1");
    REQUIRE(wait_for_mutations(sandbox));
    killed->signal(SIGKILL);
    killed->finish();
    sandbox.set_faults("{}");
    // The lease the killed run took has 10 minutes to go: the lock is free all the same.
    const auto lease = query(sandbox.journal(), "SELECT lease_until FROM locks");
    REQUIRE(lease.size() == 1);
    const RunResult next = start_apply(sandbox, sandbox.folder() / "runner-2")->finish();
    INFO(next.out << next.err);
    CHECK(next.exit_code == 0);
    CHECK(mutations(sandbox) >= 15);
    CHECK(sandbox.authgate({"plan", "-c", sandbox.example(), "--detailed-exitcode"}).exit_code == 0);
    const auto runs = query(sandbox.journal(), "SELECT outcome FROM runs ORDER BY id");
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].at("outcome") == "interrupted");
    CHECK(runs[1].at("outcome") == "succeeded");
    CHECK(query(sandbox.journal(), "SELECT * FROM locks").empty());
}

TEST_CASE("an apply that loses its journal's connection sends nothing more", "[integration][postgresql][safety]") {
    Sandbox sandbox;
    sandbox.set_faults(R"({"latency_ms": 300})");
    auto apply = start_apply(sandbox, sandbox.folder() / "runner");
    REQUIRE(wait_for_mutations(sandbox));
    const std::string database = database_name(sandbox.journal());
    // The server ends the connection (a restart, a failover, a network cut).
    pg_query(test_server().at("AUTHGATE_TEST_PG"),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database +
                 "' AND application_name = 'authgate'");
    const RunResult result = apply->finish();
    INFO(result.out << result.err);
    CHECK(result.exit_code == 1);
    // The write on its way when the connection went may land; nothing is sent after it.
    CHECK_THAT(result.err, Catch::Contains("error: the journal could not be written ("));
    CHECK_THAT(result.err, Catch::Contains("no change was sent after that"));
    CHECK(mutations(sandbox) < 15);
    sandbox.set_faults("{}");
    const RunResult next = start_apply(sandbox, sandbox.folder() / "runner")->finish();
    INFO(next.out << next.err);
    CHECK(next.exit_code == 0);
    CHECK(sandbox.authgate({"plan", "-c", sandbox.example(), "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("the journal's password is in no output, log, trace or journal", "[integration][postgresql][safety]") {
    Sandbox sandbox;
    const std::string password = "Pg-Secret-7f3a9c";
    const std::string database = database_name(fresh_database("secret"));
    const std::string role = "secret_" + database;  // a role of its own: other tests sign in with theirs
    pg_query(test_server().at("AUTHGATE_TEST_PG"), "CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'");
    pg_query(test_server().at("AUTHGATE_TEST_PG"), "ALTER DATABASE " + database + " OWNER TO " + role);
    const std::string uri = "postgresql://" + role + ":" + password +
                            "@db.test:" + test_server().at("AUTHGATE_TEST_PG_PORT") + "/" + database +
                            "?hostaddr=127.0.0.1&sslrootcert=" + test_server().at("AUTHGATE_TEST_PG_CA");
    const fs::path trace = sandbox.folder() / "trace";
    std::string seen;
    const auto keep = [&](const RunResult& result) {
        seen += result.out + result.err;
        return result;
    };
    CHECK(keep(sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state", uri, "--log-level",
                                 "debug", "--log-format", "json", "--trace", trace.string()}))
              .exit_code == 0);
    CHECK(keep(sandbox.authgate({"status", "--state", uri}, {}, false)).exit_code == 0);
    CHECK(keep(sandbox.authgate({"history", "--state", uri, "--format", "json"}, {}, false)).exit_code == 0);
    CHECK(keep(sandbox.authgate({"reconcile", "-c", sandbox.example(), "--once", "--mode", "report"},
                                {{"AUTHGATE_STATE", uri}}))
              .exit_code == 0);
    // Refused, the password is not in the error either.
    const RunResult wrong = keep(sandbox.authgate({"status", "--state", uri + "&sslmode=disable"}, {}, false));
    CHECK(wrong.exit_code == 1);
    CHECK_THAT(wrong.err, Catch::Contains("is on another machine and sslmode=disable"));
    const RunResult denied = keep(sandbox.authgate(
        {"status", "--state",
         "postgresql://" + role + ":not-" + password + "@db.test:" + test_server().at("AUTHGATE_TEST_PG_PORT") +
             "/postgres?hostaddr=127.0.0.1&sslrootcert=" + test_server().at("AUTHGATE_TEST_PG_CA")},
        {}, false));
    CHECK(denied.exit_code == 1);
    CHECK_THAT(denied.err, Catch::Contains("password authentication failed"));
    CHECK_THAT(denied.err, Catch::Contains("postgresql://" + role + "@db.test:"));
    CHECK(seen.find(password) == std::string::npos);
    CHECK(read_all(trace).find(password) == std::string::npos);
    const std::string maintenance = test_server().at("AUTHGATE_TEST_PG");
    CHECK(journal_dump(maintenance.substr(0, maintenance.find("/postgres?")) + "/" + database +
                       maintenance.substr(maintenance.find('?')))
              .find(password) == std::string::npos);
}

TEST_CASE("a journal copied from SQLite to PostgreSQL tells the same history, and status takes --tenant",
          "[integration][postgresql][audit]") {
    Sandbox sandbox;
    const std::string sqlite = (sandbox.folder() / "state.db").string();
    REQUIRE(sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state", sqlite}).exit_code == 0);
    REQUIRE(sandbox.authgate({"reconcile", "-c", sandbox.example(), "--once", "--mode", "report", "--state", sqlite})
                .exit_code == 0);
    const std::string shared = sandbox.journal();
    const RunResult copied = sandbox.authgate({"state", "copy", "--from", sqlite, "--to", shared}, {}, false);
    INFO(copied.out << copied.err);
    REQUIRE(copied.exit_code == 0);
    CHECK_THAT(copied.out, Catch::StartsWith("Copied 2 runs, 15 changes, "));
    const auto history_of = [&](const std::string& journal) {
        return sandbox.authgate({"history", "--state", journal, "--format", "json"}, {}, false).out;
    };
    CHECK(history_of(shared) == history_of(sqlite));
    const auto status_of = [&](const std::string& journal, const std::string& tenant) {
        return sandbox.authgate({"status", "--state", journal, "--tenant", tenant, "--format", "json"}, {}, false);
    };
    const RunResult by_name = status_of(shared, "contoso.onmicrosoft.com");
    CHECK(by_name.exit_code == 0);
    CHECK(by_name.out == status_of(sqlite, sandbox.tenant_id()).out);
    const RunResult unknown = status_of(shared, "fabrikam.onmicrosoft.com");
    CHECK(unknown.exit_code == 1);
    CHECK_THAT(unknown.err, Catch::Contains("the journal holds no tenant 'fabrikam.onmicrosoft.com'; it holds "));
    // Copied once: again, it is refused and nothing changes.
    const RunResult again = sandbox.authgate({"state", "copy", "--from", sqlite, "--to", shared}, {}, false);
    CHECK(again.exit_code == 1);
    CHECK_THAT(again.err, Catch::Contains("already holds runs of tenant"));
    CHECK(history_of(shared) == history_of(sqlite));
}
