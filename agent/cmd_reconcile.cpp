// reconcile: the scheduled job. Each pass reads the tenant, records drift and the exception
// lifecycle, and (by mode) enforces the desired state or only reverts expired exceptions.
#include <atomic>
#include <csignal>
#include <ostream>
#include <thread>

#include "agent/apply_run.h"
#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/interrupt.h"
#include "agent/notify.h"
#include "agent/options.h"
#include "agent/render.h"
#include "agent/state_options.h"
#include "agent/terminal.h"
#include "policies/jitter.h"
#include "policies/lifecycle.h"
#include "policies/planner.h"
#include "policies/printable.h"
#include "state/journal.h"

namespace authgate {
namespace {

enum class Mode { enforce, expiry, report };

std::atomic<bool> stop_requested{false};
extern "C" void request_stop(int) { stop_requested = true; }

std::string_view to_string(Mode mode) {
    switch (mode) {
        case Mode::enforce: return "enforce";
        case Mode::expiry: return "expiry";
        case Mode::report: return "report";
    }
    return "enforce";
}

// What this mode makes of the plan: enforce all of it, only expiry reverts, or nothing.
bool applies(Mode mode, const Change& change) {
    if (!change.changes_tenant()) return false;
    switch (mode) {
        case Mode::enforce: return true;
        case Mode::expiry: return change.reason == Reason::exception_expired;
        case Mode::report: return false;
    }
    return false;
}

// Announces, once each, the warn_days thresholds crossed and the expiries reached.
void record_lifecycle(Journal& journal, long long run_id, const std::string& tenant, const DesiredState& desired,
                      Instant now, Notifier& notifier) {
    if (!desired.smtp_auth) return;
    for (const Exception& exception : desired.smtp_auth->exceptions) {
        const ExceptionState state = state_at(exception, desired.exception_settings, now);
        if (state == ExceptionState::expired) {
            if (journal.record_exception_event({run_id, tenant, exception.mailbox, ExceptionEvent::expired,
                                                exception.owner, exception.expires_text, 0, now}))
                notifier.send("expired", "the SMTP AUTH exception for " + exception.mailbox + " (owner " +
                                             exception.owner + ") expired " + exception.expires_text,
                              {{"mailbox", exception.mailbox}, {"owner", exception.owner},
                               {"expires", exception.expires_text}});
            continue;
        }
        if (state != ExceptionState::expiring) continue;
        // The most urgent threshold crossed; a run that missed some warns once for where it is.
        int threshold = 0;
        for (int days : desired.exception_settings.warn_days)
            if (exception.expires - now <= std::chrono::days{days} && (threshold == 0 || days < threshold)) threshold = days;
        if (threshold == 0) continue;
        const long left = days_left(exception, now);
        if (journal.record_exception_event({run_id, tenant, exception.mailbox, ExceptionEvent::warned,
                                            exception.owner, exception.expires_text, threshold, now}))
            notifier.send("warning", "the SMTP AUTH exception for " + exception.mailbox + " (owner " + exception.owner +
                                         ") expires " + exception.expires_text + ", in " + std::to_string(left) +
                                         (left == 1 ? " day" : " days"),
                          {{"mailbox", exception.mailbox}, {"owner", exception.owner},
                           {"expires", exception.expires_text}, {"days_left", std::to_string(left)},
                           {"threshold_days", std::to_string(threshold)}});
    }
}

void record_drift(Journal& journal, const std::string& tenant, const Plan& plan, Instant now, Notifier& notifier) {
    std::vector<DriftRecord> drift;
    for (const Change& change : plan.changes)
        drift.push_back({tenant, std::string(to_string(change.resource)), change.target, change.attribute,
                         value_text(change.after), value_text(change.before), now, now, std::nullopt});
    const std::vector<DriftRecord> opened = journal.observe_drift(tenant, drift, now);
    if (opened.empty()) return;
    std::string text = std::to_string(opened.size()) + (opened.size() == 1 ? " new drift: " : " new drifts: ");
    for (std::size_t i = 0; i < opened.size() && i < 5; ++i)
        text += (i ? "; " : "") + opened[i].target + " " + opened[i].attribute + " is " + opened[i].actual +
                ", desired " + opened[i].expected;
    if (opened.size() > 5) text += "; and " + std::to_string(opened.size() - 5) + " more";
    notifier.send("drift", text, {{"count", std::to_string(opened.size())}});
}

struct Pass {
    int exit_code = exit_ok;
    bool failed = false;
    bool interrupted = false;  // by SIGINT or SIGTERM while writing: the service stops too
};

// One pass, judged as at the time `clock` reads when it starts.
Pass reconcile_pass(CommandContext& context, const po::variables_map& values, Mode mode, const Clock& clock,
                    Logger& logger) {
    const Instant now = clock.now();
    Pass pass;
    const auto fail = [&](const std::string& message) {
        context.err << "error: " << message << "\n";
        pass.failed = true;
        pass.exit_code = exit_error;
        return pass;
    };

    // 1. The desired state, read afresh each pass: the repository may have moved on.
    CheckedDesiredState checked = load_and_validate(desired_state_paths(values), now, context.clock.now());
    if (checked.diagnostics.has_errors()) {
        print_diagnostics(context.err, checked.diagnostics);
        return fail("the desired state is invalid; nothing was changed");
    }
    const Environment environment = process_environment();
    const ConnectionSettings settings = resolve_connection(values, checked.state, environment);
    warn_if_unset(checked.state.notifications, environment, logger);
    Notifier notifier(webhook_url(checked.state.notifications, environment), settings.ca_bundle, settings.tenant, logger, clock);

    // 2. The journal; the sign-in, which names the tenant by its GUID; the lock when this mode
    //    may write.
    Journal journal = Journal::open(state_path(values));
    RunRecord run;
    run.command = "reconcile";
    run.mode = std::string(to_string(mode));
    run.tenant = settings.tenant;
    run.tenant_name = settings.tenant;
    run.desired_digest = checked.state.digest;
    run.started_at = now;
    run.id = journal.begin_run(run);
    // One log line per run, whichever way it ends.
    const auto log_run = [&] {
        logger.log(run.outcome == "succeeded" ? LogLevel::info : LogLevel::error, "run", "reconcile " + run.outcome,
                   {{"mode", run.mode}, {"tenant", run.tenant_name}, {"planned", std::to_string(run.planned)},
                    {"applied", std::to_string(run.applied)}, {"failed", std::to_string(run.failed)},
                    {"reported", std::to_string(run.reported)}, {"warnings", std::to_string(run.warnings)},
                    {"error", run.error}});
    };
    const auto finish = [&](const std::string& outcome, const std::string& error) {
        run.finished_at = clock.now();
        run.outcome = outcome;
        run.error = error;
        journal.finish_run(run);
        log_run();
    };

    // 3. The live state and the plan; a failed read is a failed run, never drift.
    std::unique_ptr<TenantSession> session;
    std::optional<TenantLock> lock;
    LiveState live;
    try {
        session = open_tenant(settings, environment, context.clock);
        run.tenant = tenant_key(*session, settings.tenant, journal);
        if (mode != Mode::report) {
            lock.emplace(journal, run.tenant, context.clock);
            if (const auto holder = lock->acquire(run.id)) {
                const std::string message = "another apply holds the lock for " + printable(settings.tenant) + ": " +
                                            holder->holder + " until " + format_instant(holder->lease_until);
                finish("refused", message);
                notifier.send("failure", message);
                return fail(message);
            }
        }
        live = read_tenant(*session, logger);
    } catch (const ConnectorError& error) {
        finish("failed", error.what());
        notifier.send("failure", std::string("the tenant could not be read: ") + error.what());
        return fail(std::string(error.what()) + "\nThe live state could not be read; nothing was changed.");
    }
    // Unattended: a mailbox that a missing entry may mean is left alone and reported.
    PlanResult planned = make_plan(checked.state, live, now, journal.plan_history(run.tenant), {SimilarMailbox::hold});
    if (planned.diagnostics.has_errors()) {
        print_diagnostics(context.err, planned.diagnostics);
        finish("failed", "no plan could be made");
        return fail("no plan could be made; nothing was changed");
    }
    Plan& plan = planned.plan;
    const auto own = checked.diagnostics.warnings();
    plan.warnings.insert(plan.warnings.begin(), own.begin(), own.end());
    run.planned = static_cast<int>(plan.change_count());
    run.reported = static_cast<int>(plan.report_count());
    run.warnings = static_cast<int>(plan.warnings.size());

    // 4. What the journal remembers: drift, warnings once per threshold, expiries.
    record_lifecycle(journal, run.id, run.tenant, checked.state, now, notifier);
    record_drift(journal, run.tenant, plan, now, notifier);
    const bool drift = !plan.changes.empty();

    // 5. What this mode changes.
    Plan to_apply = plan;
    std::erase_if(to_apply.changes, [&](const Change& change) { return !applies(mode, change); });
    if (to_apply.changes.empty()) {
        render_text(context.out, plan, stdout_style(values));
        finish("succeeded", "");
        pass.exit_code = drift && (mode == Mode::report || values.count("detailed-exitcode")) ? exit_changes : exit_ok;
        return pass;
    }
    const int max_changes = checked.state.guardrails.max_changes;
    if (static_cast<int>(to_apply.change_count()) > max_changes && !values.count("allow-large")) {
        const std::string message = "the plan has " + std::to_string(to_apply.change_count()) +
                                    " changes, more than [guardrails] max_changes = " + std::to_string(max_changes) +
                                    "; review it and run with --allow-large";
        finish("refused", message);
        notifier.send("failure", message);
        return fail(message + "\nNothing was changed.");
    }
    render_text(context.out, to_apply, stdout_style(values));
    const InterruptGuard interrupts;
    JournalledApply journalled{journal, run, *lock, context.out, context.err, clock, context.clock, &logger, nullptr,
                               &interrupts};
    const JournalledResult applied_run = apply_journalled(to_apply, session->connector(), journalled);
    const ApplyResult& result = applied_run.apply;
    log_run();
    // A signal that came after the last write still ends a service once this pass is done.
    pass.interrupted = interrupts.signal() != 0;
    if (applied_run.signal) {
        pass.failed = true;
        pass.exit_code = applied_run.exit_code();
        return pass;
    }
    for (const AppliedChange& applied : result.changes)
        if (applied.outcome == ChangeOutcome::verified && applied.change.reason == Reason::exception_expired &&
            applied.change.resource == Resource::mailbox)
            notifier.send("reverted", applied.change.target + " reverted to inherit the organisation's SMTP AUTH setting (" +
                                          applied.change.detail + ")",
                          {{"mailbox", applied.change.target}});
    if (!applied_run.succeeded()) {
        notifier.send("failure", std::to_string(run.failed) + " of " + std::to_string(result.changes.size()) +
                                     " changes were not made; see authgate history");
        pass.failed = true;
        pass.exit_code = exit_error;
        return pass;
    }
    pass.exit_code = values.count("detailed-exitcode") ? exit_changes : exit_ok;
    return pass;
}

// Sleeps until `wait` has passed or a stop is asked for.
void sleep_unless_stopped(std::chrono::milliseconds wait) {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (!stop_requested && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace

int run_reconcile(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()
        ("once", "one pass, then exit (for cron and CI; the default)")
        ("interval", po::value<std::string>(), "run as a service: a pass every DURATION (e.g. 15m), until SIGTERM")
        ("mode", po::value<std::string>()->default_value("enforce"),
         "enforce (make every change), expiry (only revert expired exceptions) or report (change nothing)")
        ("allow-large", "apply even when there are more changes than [guardrails] max_changes")
        ("detailed-exitcode", "exit 2 when there was drift")
        ("at", po::value<std::string>(),
         "judge exceptions as at this time (RFC 3339), not now; never earlier than now (the clock then moves on)");
    add_connection_options(options);
    add_state_option(options);
    add_color_option(options);
    const auto values = parse_options(context, options,
                                      "authgate reconcile -c PATH... [--once | --interval DURATION] "
                                      "[--mode enforce|expiry|report]");
    if (!values) return exit_ok;
    const std::string mode_name = (*values)["mode"].as<std::string>();
    Mode mode;
    if (mode_name == "enforce") mode = Mode::enforce;
    else if (mode_name == "expiry") mode = Mode::expiry;
    else if (mode_name == "report") mode = Mode::report;
    else throw UsageError("--mode must be enforce, expiry or report, not '" + mode_name + "'");
    if (values->count("once") && values->count("interval")) throw UsageError("--once and --interval exclude each other");
    desired_state_paths(*values);
    // Each pass reads this clock once, as it starts.
    const CommandClock clock(*values, context.clock, mode == Mode::report ? AtRule::any_time : AtRule::not_earlier);
    Logger logger = make_logger(*values, context, clock);
    if (mode != Mode::report) clock.announce(context.err);

    if (!values->count("interval")) return reconcile_pass(context, *values, mode, clock, logger).exit_code;

    // As a service: a pass, then sleep. Failures back off from 30 s up to the interval; a little
    // jitter keeps many agents from calling Exchange in step. A signal ends it between passes.
    const std::chrono::seconds interval = duration_option(*values, "interval");
    std::signal(SIGTERM, request_stop);
    std::signal(SIGINT, request_stop);
    Jitter jitter;
    int failures = 0;
    logger.info("service", "reconcile started", {{"mode", mode_name}, {"interval", (*values)["interval"].as<std::string>()}});
    while (!stop_requested) {
        Pass pass;
        try {
            pass = reconcile_pass(context, *values, mode, clock, logger);
        } catch (const std::exception& error) {
            // A pass that throws (a bad journal, a usage problem) is a failed pass, not the end.
            logger.error("run", "reconcile failed", {{"error", error.what()}});
            pass.failed = true;
        }
        if (pass.interrupted) break;  // asked to stop while writing: the pass stopped before its next write
        failures = pass.failed ? failures + 1 : 0;
        std::chrono::milliseconds wait = interval;
        if (failures > 0) {
            wait = std::min<std::chrono::milliseconds>(interval, std::chrono::seconds(30) * (1 << std::min(failures - 1, 10)));
        } else {
            wait = jitter.spread(wait, 0.9, 1.1);
        }
        sleep_unless_stopped(wait);
    }
    logger.info("service", "reconcile stopped");
    return exit_ok;
}

}  // namespace authgate
