// reconcile: the scheduled job. Each pass reads the tenant, records drift and the exception
// lifecycle, and (by mode) enforces the desired state or only reverts expired exceptions.
#include <algorithm>
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
#include "agent/owner_notices.h"
#include "agent/render.h"
#include "agent/state_options.h"
#include "agent/terminal.h"
#include "agent/timing.h"
#include "agent/usage_evidence.h"
#include "policies/jitter.h"
#include "policies/lifecycle.h"
#include "policies/planner.h"
#include "policies/printable.h"
#include "state/journal.h"

namespace authgate {
namespace {

std::atomic<bool> stop_requested{false};
extern "C" void request_stop(int) { stop_requested = true; }

// Announces, once each, the warn_days thresholds crossed and the expiries reached.
void record_lifecycle(Journal& journal, long long run_id, const std::string& tenant, const DesiredState& desired,
                      Instant now, Notifier& notifier) {
    if (!desired.smtp_auth) return;
    for (const Exception& exception : desired.smtp_auth->exceptions) {
        const ExceptionState state = state_at(exception, desired.exception_settings, now);
        if (state == ExceptionState::expired) {
            if (journal.record_exception_event({run_id, tenant, exception.mailbox, ExceptionEvent::expired,
                                                exception.owner, exception.expires_text, 0, now}))
                notifier.send(
                    "expired",
                    "the SMTP AUTH exception for " + exception.mailbox + " (owner " + exception.owner + ") expired " +
                        exception.expires_text,
                    {{"mailbox", exception.mailbox}, {"owner", exception.owner}, {"expires", exception.expires_text}});
            continue;
        }
        const std::optional<int> crossed = crossed_threshold(exception, desired.exception_settings, now);
        if (!crossed) continue;
        const int threshold = *crossed;
        const long left = days_left(exception, now);
        if (journal.record_exception_event({run_id, tenant, exception.mailbox, ExceptionEvent::warned, exception.owner,
                                            exception.expires_text, threshold, now}))
            notifier.send(
                "warning",
                "the SMTP AUTH exception for " + exception.mailbox + " (owner " + exception.owner + ") expires " +
                    exception.expires_text + ", in " + std::to_string(left) + (left == 1 ? " day" : " days"),
                {{"mailbox", exception.mailbox}, {"owner", exception.owner}, {"expires", exception.expires_text}},
                {{"days_left", left}, {"threshold_days", threshold}});
    }
}

void record_drift(Journal& journal, const std::string& tenant, const Plan& plan, Instant now, Notifier& notifier) {
    const std::vector<DriftRecord> opened = journal.observe_drift(tenant, drift_of(tenant, plan.changes, now), now);
    if (opened.empty()) return;
    std::string text = std::to_string(opened.size()) + (opened.size() == 1 ? " new drift: " : " new drifts: ");
    for (std::size_t i = 0; i < opened.size() && i < 5; ++i)
        text += (i ? "; " : "") + opened[i].target + " " + opened[i].attribute + " is " + opened[i].actual +
                ", desired " + opened[i].expected;
    if (opened.size() > 5) text += "; and " + std::to_string(opened.size() - 5) + " more";
    notifier.send("drift", text, {}, {{"count", static_cast<long long>(opened.size())}});
}

struct Pass {
    int exit_code = exit_ok;
    bool failed = false;
    bool interrupted = false;  // by SIGINT or SIGTERM while writing: the service stops too
};

// One pass, judged as at the time `clock` reads when it starts.
Pass reconcile_pass(CommandContext& context, const po::variables_map& values, ReconcileMode mode, const Clock& clock,
                    Logger& logger) {
    RunTimer timer;
    const RunTimer::LogAtExit log_timing(timer, logger, "notify");
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
    timer.mark("load");
    const Environment environment = process_environment();
    const ConnectionSettings settings = resolve_connection(values, checked.state, environment);
    warn_if_unset(checked.state.notifications, environment, logger);
    Notifier notifier(webhook_url(checked.state.notifications, environment), settings.ca_bundle, settings.tenant,
                      logger, clock, checked.state.notifications.webhook_format);

    // 2. The journal's run (logged in a line however it ends); the sign-in, which names the tenant
    //    by its GUID; the lock when this mode may write.
    Journal journal = Journal::open(state_path(values));
    RunRecord record;
    record.command = RunCommand::reconcile;
    record.mode = run_mode(mode);
    record.tenant = record.tenant_name = settings.tenant;
    record.desired_digest = checked.state.digest;
    record.started_at = now;
    JournalRun run(journal, record, clock, context.clock, &logger);
    const auto refuse = [&](const std::string& message) {
        run.finish(RunOutcome::refused, message);
        notifier.send("failure", message);
        return fail(message + "\nNothing was changed.");
    };

    // 3. The live state and the plan; a failed read is a failed run, never drift.
    std::unique_ptr<TenantSession> session;
    LiveState live;
    try {
        timer.mark("journal");
        session = open_tenant(settings, environment, context.clock);
        timer.mark("connect");
        run.key(*session);
        timer.split({{"sign_in", session->traffic().token_time}}, "journal");
        if (mode != ReconcileMode::report)
            if (const auto holder = run.lock()) {
                const std::string message = "another apply holds the lock for " + printable(settings.tenant) + ": " +
                                            holder->holder + " until " + format_instant(holder->lease_until);
                run.finish(RunOutcome::refused, message);
                notifier.send("failure", message);
                return fail(message);
            }
        timer.mark("journal");
        live = read_tenant(*session, logger, &timer);
    } catch (const ConnectorError& error) {
        run.finish(RunOutcome::failed, error.what());
        notifier.send("failure", std::string("the tenant could not be read: ") + error.what());
        report_unreadable(context.err, error, "nothing was changed");
        pass.failed = true;
        pass.exit_code = exit_error;
        return pass;
    }
    // Unattended: a mailbox that a missing entry may mean is left alone and reported.
    PlanResult planned = make_plan(checked.state, live, now, journal.plan_history(run.record().tenant),
                                   {SimilarMailbox::hold});
    timer.mark("plan");
    if (planned.diagnostics.has_errors()) {
        print_diagnostics(context.err, planned.diagnostics);
        run.finish(RunOutcome::failed, "no plan could be made");
        return fail("no plan could be made; nothing was changed");
    }
    Plan& plan = planned.plan;
    // Whom the pass's changes cut off, and exceptions no one uses, when the desired state asks.
    Diagnostics refused_by_usage;
    const std::optional<UsageEvidence> evidence = plan_evidence(checked.state, {}, session.get(), now, &journal,
                                                                run.record().tenant, &logger);
    if (evidence) refused_by_usage = judge_usage(plan, checked.state, live, *evidence, now, {});
    timer.mark("evidence");
    // The owners hear, by mail, of what concerns their exceptions: once each, never failing the pass.
    const NoticeRun notices{checked.state, journal, run.record().tenant, settings.tenant, run.record().id, now};
    const auto notify_owners_of = [&](const std::set<Name>& reverted_now) {
        notify_owners(notices, *session, &live, evidence, reverted_now, logger);
    };
    // The certificate authgate signs with: warned in every pass, notified once per expiry date.
    if (const auto expiry = session->certificate_expiry())
        if (auto warning = certificate_expiring(*expiry, context.clock.now(),
                                                checked.state.guardrails.certificate_warn_days)) {
            if (journal.record_exception_event({run.record().id, run.record().tenant, "(certificate)",
                                                ExceptionEvent::warned, "", format_instant(*expiry),
                                                checked.state.guardrails.certificate_warn_days, now}))
                notifier.send("certificate_expiring", warning->message);
            plan.warnings.push_back(std::move(*warning));
        }
    prepend_warnings(plan, checked.diagnostics);
    run.count(plan);

    // 4. What the journal remembers: drift, warnings once per threshold, expiries.
    record_lifecycle(journal, run.record().id, run.record().tenant, checked.state, now, notifier);
    record_drift(journal, run.record().tenant, plan, now, notifier);
    const bool drift = plan.has_drift();
    timer.mark("journal");

    // 5. What this mode changes.
    Plan to_apply = plan;
    std::erase_if(to_apply.changes, [&](const Change& change) { return !makes(mode, change); });
    if (to_apply.changes.empty()) {
        render_text(context.out, plan, stdout_style(values));
        timer.mark("output");
        // What a run that changes the tenant would make of this plan, at this pass's time (--at:
        // what tonight's run will do).
        if (mode == ReconcileMode::report) {
            for (ReconcileMode other : {ReconcileMode::enforce, ReconcileMode::expiry}) {
                const auto made = std::count_if(plan.changes.begin(), plan.changes.end(),
                                                [&](const Change& change) { return makes(other, change); });
                context.out << "At " << format_instant(now) << ", reconcile --mode " << to_string(other)
                            << " would make " << counted(static_cast<std::size_t>(made), "change") << ".\n";
            }
        }
        notify_owners_of({});
        run.finish(RunOutcome::succeeded);
        pass.exit_code = drift && (mode == ReconcileMode::report || values.count("detailed-exitcode")) ? exit_changes
                                                                                                       : exit_ok;
        return pass;
    }
    if (const auto too_many = exceeds_max_changes(to_apply.change_count(), checked.state.guardrails))
        if (!values.count("allow-large")) {
            notify_owners_of({});
            return refuse(*too_many + "; review it and run with --allow-large");
        }
    // Enforcement is an apply: the recent-use guardrail holds (expiry reverts what its owner let expire).
    if (mode == ReconcileMode::enforce && refused_by_usage.has_errors()) {
        render_text(context.out, plan, stdout_style(values));
        print_diagnostics(context.err, refused_by_usage);
        notify_owners_of({});
        return refuse("the recent-use guardrail refuses this pass: it would cut off mailboxes seen sending");
    }
    render_text(context.out, to_apply, stdout_style(values));
    timer.mark("output");
    const InterruptGuard interrupts;
    JournalledApply journalled{run, context.out, context.err, &logger, nullptr, &interrupts};
    const auto apply_started = std::chrono::steady_clock::now();
    const JournalledResult applied_run = apply_journalled(to_apply, session->connector(), journalled);
    const ApplyResult& result = applied_run.apply;
    close_fixed_drift(journal, run.record().tenant, plan, result, now, logger, DriftOpening::open_new);
    timer.split({{"write", result.write_time}, {"verify", result.verify_time}}, "journal");
    // What the writes cost, as apply logs it; the journal's part is that of the whole pass so far.
    LogFields fields = traffic_fields(session->traffic(), apply_started);
    const Journal::Cost journal_cost = journal.cost();
    fields.insert(fields.begin(), {{"changes", std::to_string(result.changes.size())},
                                   {"write_seconds", seconds_text(result.write_time)},
                                   {"verify_seconds", seconds_text(result.verify_time)}});
    fields.insert(fields.end(), {{"journal_statements", std::to_string(journal_cost.statements)},
                                 {"journal_seconds", seconds_text(journal_cost.time)}});
    logger.log(LogLevel::debug, "apply", "changes sent and read back", fields);
    // A signal that came after the last write still ends a service once this pass is done.
    pass.interrupted = interrupts.signal() != 0;
    if (applied_run.signal) {
        pass.failed = true;
        pass.exit_code = applied_run.exit_code();
        return pass;
    }
    std::set<Name> reverted;
    for (const AppliedChange& applied : result.changes)
        if (applied.outcome == ChangeStatus::verified && applied.change.reason == Reason::exception_expired &&
            applied.change.resource == Resource::mailbox) {
            reverted.insert(applied.change.target);
            notifier.send("reverted",
                          applied.change.target + " reverted to inherit the organisation's SMTP AUTH setting (" +
                              applied.change.detail + ")",
                          {{"mailbox", applied.change.target}});
        }
    notify_owners_of(reverted);
    if (!applied_run.succeeded()) {
        notifier.send("failure", std::to_string(run.record().failed) + " of " + std::to_string(result.changes.size()) +
                                     (result.changes.size() == 1 ? " change was" : " changes were") +
                                     " not made; see authgate history");
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
    options.add_options()("once", "one pass, then exit (for cron and CI; the default)")(
        "interval", po::value<std::string>(), "run as a service: a pass every DURATION (e.g. 15m), until SIGTERM")(
        "mode", po::value<std::string>()->default_value("enforce"),
        "enforce (make every change), expiry (only revert expired exceptions) or report (change nothing)")(
        "allow-large", "apply even when there are more changes than [guardrails] max_changes")(
        "detailed-exitcode", "exit 2 when there was drift")(
        "at", po::value<std::string>(),
        "judge exceptions as at this time (RFC 3339), not now; never earlier than now (the clock then moves on)");
    add_connection_options(options);
    add_state_option(options);
    add_color_option(options);
    const auto values = parse_options(context, options,
                                      "authgate reconcile -c PATH... [--once | --interval DURATION] "
                                      "[--mode enforce|expiry|report]");
    if (!values) return exit_ok;
    const std::string mode_name = (*values)["mode"].as<std::string>();
    const std::optional<ReconcileMode> parsed = parse_name<ReconcileMode>(mode_name);
    if (!parsed) throw UsageError("--mode must be " + name_list<ReconcileMode>() + ", not '" + mode_name + "'");
    const ReconcileMode mode = *parsed;
    if (values->count("once") && values->count("interval"))
        throw UsageError("--once and --interval exclude each other");
    desired_state_paths(*values);
    // Each pass reads this clock once, as it starts.
    const CommandClock clock(*values, context.clock,
                             mode == ReconcileMode::report ? AtRule::any_time : AtRule::not_earlier);
    Logger logger = make_logger(*values, context, clock);
    if (mode != ReconcileMode::report) clock.announce(context.err);

    if (!values->count("interval")) return reconcile_pass(context, *values, mode, clock, logger).exit_code;

    // As a service: a pass, then sleep. Failures back off from 30 s up to the interval; a little
    // jitter keeps many agents from calling Exchange in step. A signal ends it between passes.
    const std::chrono::seconds interval = duration_option(*values, "interval");
    std::signal(SIGTERM, request_stop);
    std::signal(SIGINT, request_stop);
    Jitter jitter;
    int failures = 0;
    logger.info("service", "reconcile started",
                {{"mode", mode_name}, {"interval", (*values)["interval"].as<std::string>()}});
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
            wait = std::min<std::chrono::milliseconds>(interval,
                                                       std::chrono::seconds(30) * (1 << std::min(failures - 1, 10)));
        } else {
            wait = jitter.spread(wait, 0.9, 1.1);
        }
        sleep_unless_stopped(wait);
    }
    logger.info("service", "reconcile stopped");
    return exit_ok;
}

}  // namespace authgate
