// The browser test's fixtures: a generated tenant (tests/bench's generator) and a journal for it
// holding what a tenant on its way off Basic SMTP would have: usage read over two months with
// fewer senders every week, a run with its changes, drift open and closed. Prints what the page
// must then show, as key=value lines.
//   authgate-report-fixture DIR MAILBOXES   -> DIR/seed.json, DIR/desired/, DIR/state.db
#include <chrono>
#include <iostream>
#include <string>

#include "state/journal.h"
#include "tests/bench/tenant_generator.h"

using namespace authgate;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: authgate-report-fixture DIR MAILBOXES\n";
        return 2;
    }
    const std::filesystem::path folder = argv[1];
    bench::TenantShape shape;
    shape.mailboxes = std::stoi(argv[2]);
    bench::write_tenant(folder, shape);

    // Relative to now, as the generator's expiry dates are: the page is made right after.
    const Instant now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    const auto day = std::chrono::hours(24);
    const std::string tenant = shape.tenant;
    Journal journal = Journal::open((folder / "state.db").string());
    RunRecord run;
    run.command = RunCommand::reconcile;
    run.mode = RunMode::expiry;
    run.tenant = run.tenant_name = tenant;
    run.started_at = now - day;
    run.id = journal.begin_run(run);
    Change change;
    change.resource = Resource::mailbox;
    change.target = "user000050@fabrikam.com";
    change.attribute = "SmtpClientAuthenticationDisabled";
    change.before = false;
    change.after = std::monostate{};
    change.reason = Reason::unlisted_override;
    journal.record_change({run.id, 1, change, ChangeStatus::verified, "", "req-1", now - day});
    run.finished_at = now - day + std::chrono::seconds(5);
    run.outcome = RunOutcome::succeeded;
    run.planned = run.applied = 1;
    journal.finish_run(run);
    const DriftRecord drift{
        tenant, "mailbox", "user000150@fabrikam.com", "SmtpClientAuthenticationDisabled", "null", "false", {}, {}, {}};
    DriftRecord closed = drift;
    closed.target = "user000250@fabrikam.com";
    journal.observe_drift(tenant, {drift, closed}, now - 3 * day);
    journal.observe_drift(tenant, {drift}, now - 2 * day);

    // Basic SMTP senders: every mailbox with an unlisted override (i % 100 == 50) and every 37th
    // other, each first seen 60 days ago and last seen 0 to 59 days ago (an hour off the day, so
    // that no sighting sits on the edge of a window).
    std::vector<UsageObservation> observations;
    int cut_off = 0;
    for (int i = 0; i < shape.mailboxes; ++i) {
        const bool unlisted = i % 100 == 50;
        if (!unlisted && i % 37 != 0) continue;
        UsageObservation seen;
        char name[32];
        std::snprintf(name, sizeof name, "user%06d@fabrikam.com", i);
        seen.address = name;
        seen.source = UsageSource::signin_logs;
        seen.protocol = SmtpProtocol::basic;
        seen.first_seen = now - 60 * day;
        const int days_ago = (i / 7) % 60;
        seen.last_seen = now - days_ago * day - std::chrono::hours(1);
        seen.messages = 10;
        observations.push_back(seen);
        // The plan reverts unlisted overrides: a sender seen within usage's 7 days is cut off.
        if (unlisted && days_ago < 7) ++cut_off;
    }
    journal.record_usage(tenant, observations, now);
    std::cout << "exceptions=" << bench::exception_count(shape) << "\ncutoffs=" << cut_off
              << "\nopen_drift=1\nclosed_drift=1\nruns=1\nsenders=" << observations.size() << "\n";
    return 0;
}
