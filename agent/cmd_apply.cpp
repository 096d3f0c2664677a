#include <unistd.h>

#include <iostream>
#include <ostream>

#include "agent/apply.h"
#include "agent/apply_run.h"
#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/log.h"
#include "agent/options.h"
#include "agent/render.h"
#include "agent/saved_plan.h"
#include "agent/state_options.h"
#include "agent/terminal.h"
#include "policies/planner.h"
#include "state/journal.h"

namespace authgate {
namespace {

bool confirmed(CommandContext& context, const Plan& plan) {
    context.err << "Apply " << plan.change_count() << (plan.change_count() == 1 ? " change" : " changes") << " to "
                << plan.tenant << "? Only 'yes' goes on: " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "yes";
}

// Where a run's plan comes from: made now from the desired state, or a reviewed saved plan.
struct PlanSource {
    std::optional<CheckedDesiredState> desired;  // -c PATH, when given
    std::optional<SavedPlan> saved;              // PLANFILE, when given
};

bool stale(CommandContext& context, const Plan& plan, const LiveState& live) {
    bool stale = false;
    const LiveIndex index(live);
    for (const Change& change : plan.changes) {
        if (!change.changes_tenant()) continue;
        const std::optional<Value> now = live_value(change, live, index);
        if (!now || *now == change.before) continue;  // not readable back (a timestamp), or as expected
        if (!stale) context.err << "error: the saved plan is stale; the tenant changed since it was made:\n";
        stale = true;
        context.err << "  " << describe(change) << " is " << describe(*now) << ", the plan expected "
                    << describe(change.before) << "\n";
    }
    return stale;
}

}  // namespace

int run_apply(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()
        ("plan-file", po::value<std::string>(), "a plan saved with authgate plan --out")
        ("auto-approve", "apply without asking (needed when standard input is not a terminal)")
        ("allow-large", "apply even when the plan has more changes than [guardrails] max_changes")
        ("max-plan-age", po::value<std::string>()->default_value("24h"), "refuse a saved plan older than this")
        ("at", po::value<std::string>(), "judge exceptions as at this time (RFC 3339), not now; never earlier than now");
    add_connection_options(options);
    add_state_option(options);
    add_color_option(options);
    po::positional_options_description positional;
    positional.add("plan-file", 1);
    const auto values = parse_options(context, options,
                                      "authgate apply -c PATH... [--auto-approve] [--allow-large]\n"
                                      "       authgate apply PLANFILE [-c PATH...]",
                                      &positional);
    if (!values) return exit_ok;
    // The time this run judges the desired state by, read once; journal stamps follow `clock`.
    const CommandClock clock(*values, context.clock, AtRule::not_earlier);
    const Instant started = clock.now();
    Logger logger = make_logger(*values, context, clock);
    if (!values->count("plan-file")) clock.announce(context.err);
    const Environment environment = process_environment();

    // 1. Where the plan comes from, checked before anything is read or locked.
    PlanSource source;
    if (values->count("config")) {
        source.desired = load_and_validate(desired_state_paths(*values), started, context.clock.now());
        if (source.desired->diagnostics.has_errors()) {
            print_diagnostics(context.err, source.desired->diagnostics);
            return exit_error;
        }
    }
    ConnectionSettings settings;
    if (values->count("plan-file")) {
        source.saved = read_saved_plan((*values)["plan-file"].as<std::string>());
        const Plan& saved = source.saved->plan;
        if (clock.set()) throw UsageError("a saved plan is applied as at the time it was made; --at is for -c PATH");
        const auto age = duration_option(*values, "max-plan-age");
        if (context.clock.now() - saved.evaluated_at > age) {
            context.err << "error: the saved plan was made " << format_instant(saved.evaluated_at)
                        << ", more than --max-plan-age ago; make a new plan\nNothing was changed.\n";
            return exit_error;
        }
        if (source.desired && source.desired->state.digest != saved.desired_digest) {
            context.err << "error: the desired state has changed since the plan was made (" << saved.desired_digest
                        << ", now " << source.desired->state.digest << "); make a new plan\nNothing was changed.\n";
            return exit_error;
        }
        settings = resolve_saved_connection(*values, source.saved->connection, environment);
    } else if (source.desired) {
        settings = resolve_connection(*values, source.desired->state, environment);
    } else {
        throw UsageError("give the desired state (-c PATH) or a saved plan (PLANFILE)");
    }

    // 2. The journal, and the tenant's lock: two applies never write to one tenant at once.
    Journal journal = Journal::open(state_path(*values));
    TenantLock lock(journal, settings.tenant, context.clock);
    if (const auto holder = lock.acquire()) {
        context.err << "error: another apply holds the lock for " << settings.tenant << ": " << holder->holder
                    << " since " << format_instant(holder->acquired_at) << " (lease until "
                    << format_instant(holder->lease_until) << ")\nNothing was changed.\n";
        return exit_error;
    }
    RunRecord run;
    run.command = "apply";
    run.mode = source.saved ? "saved-plan" : "";
    run.tenant = settings.tenant;
    run.desired_digest = source.saved ? source.saved->plan.desired_digest : source.desired->state.digest;
    run.started_at = started;
    run.id = journal.begin_run(run);
    const auto finish = [&](const std::string& outcome, const std::string& error) {
        run.finished_at = clock.now();
        run.outcome = outcome;
        run.error = error;
        journal.finish_run(run);
    };

    // 3. A fresh read of the tenant, under the lock; then the plan: made now, or the saved one
    //    if every value it would change is still what it saw.
    // One progress line for the whole run: the session reports to it again when reading back.
    Progress progress(*values);
    std::unique_ptr<TenantSession> session;
    LiveState live;
    try {
        session = open_tenant(settings, environment, context.clock);
        session->on_progress([&](const std::string& text) { progress.update(text); });
        live = read_tenant(*session, logger);
        progress.done();
    } catch (const ConnectorError& error) {
        progress.done();
        context.err << "error: " << error.what() << "\nThe live state could not be read; nothing was changed.\n";
        finish("failed", error.what());
        return exit_error;
    }
    Plan plan;
    if (source.saved) {
        plan = source.saved->plan;
        if (stale(context, plan, live)) {
            context.err << "Nothing was changed; make a new plan.\n";
            finish("refused", "stale plan");
            return exit_error;
        }
    } else {
        PlanResult planned = make_plan(source.desired->state, live, started, journal.plan_history(settings.tenant));
        if (planned.diagnostics.has_errors()) {
            print_diagnostics(context.err, planned.diagnostics);
            finish("failed", "no plan could be made");
            return exit_error;
        }
        plan = std::move(planned.plan);
        const auto own = source.desired->diagnostics.warnings();
        plan.warnings.insert(plan.warnings.begin(), own.begin(), own.end());
    }
    run.planned = static_cast<int>(plan.change_count());
    run.reported = static_cast<int>(plan.report_count());
    run.warnings = static_cast<int>(plan.warnings.size());
    render_text(context.out, plan, stdout_style(*values));
    if (plan.change_count() == 0) {
        context.out << "\nNothing to apply.\n";
        finish("succeeded", "");
        return exit_ok;
    }

    // 4. Guardrails, then approval: a saved plan was reviewed; a fresh one is confirmed here.
    const int max_changes = source.desired ? source.desired->state.guardrails.max_changes : source.saved->max_changes;
    if (static_cast<int>(plan.change_count()) > max_changes && !values->count("allow-large")) {
        const std::string message = "the plan has " + std::to_string(plan.change_count()) +
                                    " changes, more than [guardrails] max_changes = " + std::to_string(max_changes) +
                                    "; review it and run again with --allow-large";
        context.err << "error: " << message << "\nNothing was changed.\n";
        finish("refused", message);
        return exit_error;
    }
    if (!source.saved && !values->count("auto-approve")) {
        if (!isatty(STDIN_FILENO)) {
            const std::string message = "standard input is not a terminal: add --auto-approve to apply without asking";
            context.err << "error: " << message << "\nNothing was changed.\n";
            finish("refused", message);
            return exit_error;
        }
        if (!confirmed(context, plan)) {
            context.err << "Apply cancelled; nothing was changed.\n";
            finish("refused", "cancelled at the prompt");
            return exit_error;
        }
    }
    // 5. The changes, in the plan's order, journalled as they settle, then read back.
    JournalledApply journalled{journal, run, lock, context.out, context.err, clock, context.clock, nullptr, &progress};
    const auto apply_started = std::chrono::steady_clock::now();
    const ApplyResult result = apply_journalled(plan, session->connector(), journalled);
    LogFields fields = traffic_fields(session->traffic(), apply_started);
    fields.insert(fields.begin(), {{"changes", std::to_string(result.changes.size())},
                                   {"write_seconds", seconds_text(result.write_time)},
                                   {"verify_seconds", seconds_text(result.verify_time)}});
    logger.log(LogLevel::debug, "apply", "changes sent and read back", fields);
    return result.succeeded() ? exit_ok : exit_error;
}

}  // namespace authgate
