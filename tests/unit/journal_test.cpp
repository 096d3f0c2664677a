#include <catch2/catch.hpp>

#include <cpprest/json.h>
#include <sqlite3.h>

#include <filesystem>

#include "state/journal.h"
#include "state/postgresql.h"
#include "tests/postgresql/test_server.h"

using namespace authgate;
using namespace authgate::testing;

namespace {

const Instant t0 = *parse_instant("2026-11-22T10:00:00Z");

// A fresh journal: a SQLite file under a temporary folder removed at the end, or a fresh
// PostgreSQL database when the tests run against PostgreSQL (AUTHGATE_TEST_JOURNAL).
struct TempDatabase {
    std::filesystem::path folder = std::filesystem::temp_directory_path() /
                                   ("authgate-journal-" + std::to_string(::getpid()) + "-" + std::to_string(rand()));
    std::string path = journal_location((folder / "nested" / "state.db").string());
    ~TempDatabase() { std::filesystem::remove_all(folder); }
};

// Changes the journal behind authgate's back, as an accident or a newer authgate would.
void modify(const std::string& location, const std::string& sql) {
    if (is_postgresql_location(location)) {
        pg_query(location, sql);
        return;
    }
    sqlite3* raw = nullptr;
    sqlite3_open(location.c_str(), &raw);
    sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(raw);
}

std::string pragma(const std::string& path, const std::string& name) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, ("PRAGMA " + name).c_str(), -1, &statement, nullptr);
    sqlite3_step(statement);
    std::string value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
}

Change mailbox_change(const std::string& target) {
    Change change;
    change.resource = Resource::mailbox;
    change.target = target;
    change.attribute = "SmtpClientAuthenticationDisabled";
    change.before = SettingValue{false};
    change.after = SettingValue{};
    change.reason = Reason::exception_expired;
    return change;
}

}  // namespace

TEST_CASE("the journal is created, migrated once and kept in WAL mode", "[journal][sqlite]") {
    TempDatabase db;
    {
        Journal journal = Journal::open(db.path);
        CHECK(journal.schema_version() == 5);
    }
    Journal again = Journal::open(db.path);  // opening twice migrates nothing
    CHECK(again.schema_version() == 5);
    CHECK(pragma(db.path, "journal_mode") == "wal");
    CHECK(pragma(db.path, "user_version") == "5");
}

TEST_CASE("a journal from a newer authgate is refused, not rewritten", "[journal]") {
    TempDatabase db;
    { Journal::open(db.path); }
    modify(db.path,
           is_postgresql_location(db.path) ? "UPDATE authgate_schema SET version = 99" : "PRAGMA user_version = 99");
    CHECK_THROWS_WITH(Journal::open(db.path), "the state database " + shown_location(db.path) +
                                                  " has schema version 99, newer than this authgate knows (5)");
    CHECK_THROWS(Journal::open_existing(db.path));
}

TEST_CASE("runs and their changes are recorded and read back", "[journal]") {
    TempDatabase db;
    Journal journal = Journal::open(db.path);
    RunRecord run;
    run.command = RunCommand::apply;
    run.tenant = "contoso.onmicrosoft.com";
    run.desired_digest = "sha256:abc";
    run.started_at = t0;
    run.id = journal.begin_run(run);
    ChangeRecord record{run.id, 1, mailbox_change("scanner@contoso.com"), ChangeStatus::verified, "", "req-1", t0};
    journal.record_change(record);
    record.sequence = 2;
    record.change.target = "o'brien@contoso.com";
    record.change.after = SettingValue{std::string("Allow \"Basic\" SMTP")};
    record.status = ChangeStatus::failed;
    record.error = "Set-CASMailbox failed: HTTP 400";
    journal.record_change(record);
    run.finished_at = t0 + std::chrono::seconds(3);
    run.outcome = RunOutcome::partial;
    run.planned = 2;
    run.applied = 1;
    run.failed = 1;
    journal.finish_run(run);

    const auto runs = journal.runs(10);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].outcome == RunOutcome::partial);
    CHECK(runs[0].applied == 1);
    CHECK(runs[0].finished_at == run.finished_at);
    const auto changes = journal.changes_of(run.id);
    REQUIRE(changes.size() == 2);
    CHECK(changes[0].status == "verified");
    CHECK(changes[0].verified);
    CHECK(changes[0].before == "false");
    CHECK(changes[0].after == "null");
    CHECK(changes[0].reason == "exception_expired");
    CHECK(changes[0].client_request_id == "req-1");
    CHECK(changes[1].target == "o'brien@contoso.com");
    CHECK(changes[1].after == R"("Allow \"Basic\" SMTP")");
    CHECK(changes[1].error == "Set-CASMailbox failed: HTTP 400");
    CHECK_FALSE(changes[1].verified);
}

TEST_CASE("a value is journalled as JSON that reads back as the same value", "[journal]") {
    CHECK(value_text(SettingValue{}) == "null");
    CHECK(value_text(SettingValue{true}) == "true");
    CHECK(value_text(SettingValue{false}) == "false");
    const std::string hostile = "O'Brien \"Basic\" \\ \x1b[31m\n\x7f é \xe2\x80\xae";
    const std::string text = value_text(SettingValue{hostile});
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find('\n') == std::string::npos);
    CHECK(web::json::value::parse(text).as_string() == hostile);
}

TEST_CASE("an exception warning is recorded once per threshold", "[journal]") {
    TempDatabase db;
    Journal journal = Journal::open(db.path);
    ExceptionEventRecord warned{
        0, "contoso", "Scanner@contoso.com", ExceptionEvent::warned, "it@contoso.com", "2027-03-31", 14, t0};
    CHECK(journal.record_exception_event(warned));
    CHECK_FALSE(journal.record_exception_event(warned));
    warned.threshold_days = 7;
    CHECK(journal.record_exception_event(warned));
    warned.expires = "2027-06-30";  // renewed: a new expiry warns again
    CHECK(journal.record_exception_event(warned));
    CHECK(journal.was_recorded("contoso", "scanner@contoso.com", "2027-03-31", ExceptionEvent::warned, 14));
    CHECK_FALSE(journal.was_recorded("contoso", "scanner@contoso.com", "2027-03-31", ExceptionEvent::warned, 1));
    CHECK(journal.exception_events("contoso").size() == 3);
}

TEST_CASE("an owner notice is sent once, and a failed one is tried again", "[journal][notices]") {
    TempDatabase db;
    Journal journal = Journal::open(db.path);
    NoticeRecord notice{0,
                        "contoso",
                        "Scanner@contoso.com",
                        "warning 14 days 2027-03-31",
                        "it@contoso.com",
                        "it@contoso.com",
                        "graph",
                        false,
                        "",
                        1,
                        "HTTP 503",
                        t0};
    journal.record_notice(notice);
    CHECK(journal.sent_notices("contoso").empty());
    notice.sent = true;
    notice.message_id = "<authgate.1@contoso.com>";
    notice.error.clear();
    journal.record_notice(notice);
    CHECK(journal.sent_notices("contoso") ==
          std::set<std::string>{Journal::notice_id("scanner@contoso.com", "warning 14 days 2027-03-31")});
    // Sent stays sent, whatever a later attempt says.
    notice.sent = false;
    notice.error = "late failure";
    journal.record_notice(notice);
    const auto records = journal.notices("contoso");
    REQUIRE(records.size() == 1);
    CHECK(records[0].sent);
    CHECK(records[0].attempts == 2);
    CHECK(records[0].message_id == "<authgate.1@contoso.com>");
    CHECK(journal.counts().notices == 1);
    // A tenant known by its name first moves to its GUID with its notices.
    journal.adopt_tenant("contoso", "guid-1");
    CHECK(journal.notices("guid-1").size() == 1);
}

TEST_CASE("drift has a first and last sighting and is resolved when it is gone", "[journal]") {
    TempDatabase db;
    Journal journal = Journal::open(db.path);
    const DriftRecord a{"contoso", "mailbox", "a@contoso.com", "SmtpClientAuthenticationDisabled", "null", "false", {},
                        {},        {}};
    const DriftRecord b{"contoso", "mailbox", "b@contoso.com", "SmtpClientAuthenticationDisabled", "null", "true", {},
                        {},        {}};
    journal.observe_drift("contoso", {a, b}, t0);
    journal.observe_drift("contoso", {a}, t0 + std::chrono::hours(1));
    const auto open = journal.open_drift("contoso");
    REQUIRE(open.size() == 1);
    CHECK(open[0].target == "a@contoso.com");
    CHECK(open[0].first_seen == t0);
    CHECK(open[0].last_seen == t0 + std::chrono::hours(1));
    journal.observe_drift("contoso", {}, t0 + std::chrono::hours(2));
    CHECK(journal.open_drift("contoso").empty());
    journal.observe_drift("contoso", {b}, t0 + std::chrono::hours(3));  // back again: a new row
    REQUIRE(journal.open_drift("contoso").size() == 1);
    CHECK(journal.open_drift("contoso")[0].first_seen == t0 + std::chrono::hours(3));
}

TEST_CASE("drift history lists the open first, then the closed by last sighting, up to a limit", "[journal]") {
    TempDatabase db;
    Journal journal = Journal::open(db.path);
    const auto drift = [](const std::string& target) {
        return DriftRecord{"contoso", "mailbox", target, "SmtpClientAuthenticationDisabled", "null", "false",
                           {},        {},        {}};
    };
    journal.observe_drift("contoso", {drift("a@contoso.com"), drift("b@contoso.com")}, t0);
    journal.observe_drift("contoso", {drift("c@contoso.com")}, t0 + std::chrono::hours(1));  // a and b closed
    journal.observe_drift("other", {drift("d@contoso.com")}, t0);
    const auto history = journal.drift_history("contoso", 10);
    REQUIRE(history.size() == 3);
    CHECK(history[0].target == "c@contoso.com");
    CHECK_FALSE(history[0].resolved_at);
    CHECK(history[1].resolved_at == t0 + std::chrono::hours(1));
    CHECK(history[2].resolved_at == t0 + std::chrono::hours(1));
    CHECK(journal.drift_history("contoso", 2).size() == 2);
}

LockHolder named(const std::string& holder) {
    LockHolder named;
    named.holder = holder;
    return named;
}

TEST_CASE("the apply lock is held by one holder until released or its lease runs out", "[journal][sqlite]") {
    TempDatabase db;
    Journal first = Journal::open(db.path);
    Journal second = Journal::open(db.path);  // another process, in effect
    const auto lease = std::chrono::seconds(300);
    CHECK_FALSE(first.acquire_lock("contoso", named("host-a:1"), t0, lease));
    const auto held = second.acquire_lock("contoso", named("host-b:2"), t0 + std::chrono::seconds(10), lease);
    REQUIRE(held);
    CHECK(held->holder == "host-a:1");
    CHECK(held->lease_until == t0 + lease);
    CHECK_FALSE(second.acquire_lock("other-tenant", named("host-b:2"), t0, lease));  // locks are per tenant
    CHECK(first.renew_lock("contoso", "host-a:1", t0 + std::chrono::seconds(200), lease));
    CHECK(second.acquire_lock("contoso", named("host-b:2"), t0 + std::chrono::seconds(400), lease));
    // The first holder died: after its lease the lock is taken over.
    CHECK_FALSE(second.acquire_lock("contoso", named("host-b:2"), t0 + std::chrono::seconds(501), lease));
    first.release_lock("contoso", "host-a:1");  // a stale holder cannot release another's lock
    CHECK(first.acquire_lock("contoso", named("host-a:1"), t0 + std::chrono::seconds(502), lease));
    second.release_lock("contoso", "host-b:2");
    CHECK_FALSE(first.acquire_lock("contoso", named("host-a:1"), t0 + std::chrono::seconds(503), lease));
}

TEST_CASE("a renewal that updates nothing says the lock is lost", "[journal][lock][sqlite]") {
    TempDatabase db;
    Journal first = Journal::open(db.path);
    Journal second = Journal::open(db.path);
    const auto lease = std::chrono::seconds(300);
    REQUIRE_FALSE(first.acquire_lock("contoso", named("host-a:1"), t0, lease));
    CHECK(first.renew_lock("contoso", "host-a:1", t0 + std::chrono::seconds(100), lease));
    // The first waited past its lease; the second took the lock.
    REQUIRE_FALSE(second.acquire_lock("contoso", named("host-b:2"), t0 + std::chrono::seconds(401), lease));
    CHECK_FALSE(first.renew_lock("contoso", "host-a:1", t0 + std::chrono::seconds(402), lease));
    second.release_lock("contoso", "host-b:2");
    CHECK_FALSE(first.renew_lock("contoso", "host-a:1", t0 + std::chrono::seconds(403), lease));  // nor when free
}

TEST_CASE("a holder known to be dead is taken over before its lease runs out", "[journal][lock][sqlite]") {
    TempDatabase db;
    Journal first = Journal::open(db.path);
    Journal second = Journal::open(db.path);
    const auto lease = std::chrono::seconds(300);
    REQUIRE_FALSE(first.acquire_lock("contoso", {"host-a:1", {}, {}, "boot-1"}, t0, lease));
    std::vector<LockHolder> asked;
    const auto alive = [&](const LockHolder& holder) {
        asked.push_back(holder);
        return false;
    };
    const auto dead = [&](const LockHolder& holder) {
        asked.push_back(holder);
        return true;
    };
    CHECK(second.acquire_lock("contoso", named("host-b:2"), t0 + std::chrono::seconds(1), lease, alive));
    REQUIRE(asked.size() == 1);
    CHECK(asked[0].holder == "host-a:1");
    CHECK(asked[0].boot_id == "boot-1");
    CHECK_FALSE(second.acquire_lock("contoso", named("host-b:2"), t0 + std::chrono::seconds(2), lease, dead));
    CHECK_FALSE(first.renew_lock("contoso", "host-a:1", t0 + std::chrono::seconds(3), lease));
}

TEST_CASE("records made under any spelling of a tenant move to its GUID", "[journal]") {
    TempDatabase db;
    Journal journal = Journal::open(db.path);
    RunRecord run;
    run.command = RunCommand::apply;
    run.tenant = "contoso.onmicrosoft.com";
    run.started_at = t0;
    run.id = journal.begin_run(run);
    run.tenant = "CONTOSO.onmicrosoft.com";
    journal.begin_run(run);
    run.tenant = "fabrikam.onmicrosoft.com";
    journal.begin_run(run);
    CHECK(journal.record_exception_event(
        {0, "contoso.onmicrosoft.com", "a@contoso.com", ExceptionEvent::granted, "o", "2027-01-01", 0, t0}));
    CHECK(journal.record_exception_event(
        {0, "Contoso.onmicrosoft.com", "a@contoso.com", ExceptionEvent::granted, "o", "2027-01-01", 0, t0}));
    const std::string guid = "0f5e0b4c-2a8c-4c3b-9c55-3f0d8e7a1b21";
    journal.adopt_tenant("CONTOSO.ONMICROSOFT.COM", guid);
    const auto runs = journal.runs(10);
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].tenant == "fabrikam.onmicrosoft.com");
    CHECK(runs[1].tenant == guid);
    CHECK(runs[1].display_tenant() == "CONTOSO.onmicrosoft.com");
    CHECK(runs[2].tenant == guid);
    CHECK(journal.exception_events(guid).size() == 1);  // the same event under two spellings, kept once
    CHECK(journal.exception_events("contoso.onmicrosoft.com").empty());
    CHECK(journal.plan_history(guid).granted.count("a@contoso.com") == 1);
    CHECK(journal.tenant_names().at(guid) == "CONTOSO.onmicrosoft.com");
}

TEST_CASE("a name the journal does not know is an error, never a default", "[journal]") {
    TempDatabase db;
    {
        Journal journal = Journal::open(db.path);
        RunRecord run;
        run.tenant = "contoso";
        run.started_at = t0;
        run.id = journal.begin_run(run);
        Change revoked = mailbox_change("kiosk@contoso.com");
        revoked.resource = Resource::user;
        revoked.attribute = "STSRefreshTokensValidFrom";
        journal.record_change({run.id, 1, revoked, ChangeStatus::failed, "", "", t0});
    }
    modify(db.path, "UPDATE changes SET reason = 'a_reason_from_tomorrow'; UPDATE runs SET outcome = 'paused'");
    Journal journal = Journal::open(db.path);
    CHECK_THROWS_WITH(journal.runs(10),
                      "the journal holds an unknown run outcome 'paused' (written by a newer authgate?)");
}

TEST_CASE("a report run whose process is gone is settled as interrupted", "[journal]") {
    TempDatabase db;
    Journal journal = Journal::open(db.path);
    RunRecord report;
    report.command = RunCommand::reconcile;
    report.mode = RunMode::report;
    report.tenant = "tenant-guid";
    report.started_at = t0;
    report.process = {"host:1", {}, {}, "boot"};
    report.id = journal.begin_run(report);
    report.process = {"host:2", {}, {}, "boot"};
    const long long alive = journal.begin_run(report);
    const auto dead = [](const LockHolder& holder) { return holder.holder == "host:1" && holder.boot_id == "boot"; };
    CHECK(journal.settle_dead_report_runs("tenant-guid", t0 + std::chrono::minutes(1), dead) == 1);
    for (const RunRecord& run : journal.runs(10))
        CHECK(run.outcome == (run.id == alive ? RunOutcome::running : RunOutcome::interrupted));
}

TEST_CASE("one tenant of a shared journal is read apart from the others", "[journal]") {
    TempDatabase db;
    Journal journal = Journal::open(db.path);
    for (const std::string tenant : {"guid-a", "guid-b", "guid-a"}) {
        RunRecord run;
        run.tenant = tenant;
        run.started_at = t0;
        run.id = journal.begin_run(run);
        journal.record_exception_event(
            {run.id, tenant, "kiosk@" + tenant, ExceptionEvent::granted, "ops", "2027-01-01", 0, t0});
    }
    CHECK(journal.runs(10).size() == 3);
    CHECK(journal.runs(10, std::string("guid-a")).size() == 2);
    CHECK(journal.runs(1, std::string("guid-a")).size() == 1);
    CHECK(journal.runs(10, std::string("guid-c")).empty());
    CHECK(journal.granted_exceptions().size() == 2);
    const auto b = journal.granted_exceptions(std::string("guid-b"));
    REQUIRE(b.size() == 1);
    CHECK(b[0].mailbox == "kiosk@guid-b");
}

TEST_CASE("usage sightings are kept per sender, source and protocol: the earliest first, the latest last",
          "[journal]") {
    TempDatabase db;
    Journal journal = Journal::open(db.path);
    const auto seen = [](const std::string& address, int first_hours, int last_hours, long long messages) {
        UsageObservation observation;
        observation.address = address;
        observation.source = UsageSource::signin_logs;
        observation.protocol = SmtpProtocol::basic;
        observation.first_seen = t0 + std::chrono::hours(first_hours);
        observation.last_seen = t0 + std::chrono::hours(last_hours);
        observation.messages = messages;
        return observation;
    };
    journal.record_usage("tenant-guid", {seen("Scanner@contoso.com", 10, 20, 5), seen("app@contoso.com", 1, 2, 1)}, t0);
    journal.record_usage("tenant-guid", {seen("scanner@contoso.com", 0, 30, 7), seen("app@contoso.com", 5, 1, 9)}, t0);
    const auto kept = journal.usage("tenant-guid");
    REQUIRE(kept.size() == 2);
    CHECK(kept[0].address == "scanner@contoso.com");  // the latest first
    CHECK(kept[0].first_seen == t0);
    CHECK(kept[0].last_seen == t0 + std::chrono::hours(30));
    CHECK(kept[0].messages == 7);  // the newest window's
    CHECK(kept[1].first_seen == t0 + std::chrono::hours(1));
    CHECK(kept[1].last_seen == t0 + std::chrono::hours(2));
    CHECK(kept[1].messages == 1);  // an older window does not replace a newer one's counts
    CHECK(journal.usage("other-tenant").empty());
}
