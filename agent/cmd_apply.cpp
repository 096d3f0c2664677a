#include <unistd.h>

#include <iostream>
#include <map>
#include <ostream>
#include <tuple>

#include "agent/apply.h"
#include "agent/apply_run.h"
#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/interrupt.h"
#include "agent/log.h"
#include "agent/options.h"
#include "agent/render.h"
#include "agent/saved_plan.h"
#include "agent/state_options.h"
#include "agent/terminal.h"
#include "policies/planner.h"
#include "policies/printable.h"
#include "state/journal.h"

namespace authgate {
namespace {

bool confirmed(CommandContext& context, const Plan& plan) {
    context.err << "Apply " << plan.change_count() << (plan.change_count() == 1 ? " change" : " changes") << " to "
                << printable(plan.tenant) << "? Only 'yes' goes on: " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "yes";
}

// Whether a value the saved plan would change is no longer what it saw. The file's cmdlets are
// not trusted even to find the object: the plan made now names it, else the change's target.
bool stale(CommandContext& context, const Plan& plan, const Plan& made, const LiveState& live) {
    bool stale = false;
    const LiveIndex index(live);
    std::map<std::tuple<Resource, std::string, std::string>, const Cmdlet*> cmdlets;
    for (const Change& now : made.changes) cmdlets[{now.resource, now.target, now.attribute}] = &now.cmdlet;
    for (const Change& change : plan.changes) {
        if (!change.changes_tenant()) continue;
        Change probe = change;
        const auto own = cmdlets.find({change.resource, change.target, change.attribute});
        probe.cmdlet = own == cmdlets.end() ? Cmdlet{} : *own->second;
        const std::optional<Value> now = live_value(probe, live, index);
        if (!now || *now == change.before) continue;  // not readable back (a timestamp), or as expected
        if (!stale) context.err << "error: the saved plan is stale; the tenant changed since it was made:\n";
        stale = true;
        context.err << "  " << describe(change) << " is " << printable(describe(*now)) << ", the plan expected "
                    << printable(describe(change.before)) << "\n";
    }
    return stale;
}

}  // namespace

int run_apply(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()
        ("plan-file", po::value<std::string>(), "a plan saved with authgate plan --out")
        ("auto-approve", "apply without asking (needed with -c when standard input is not a terminal)")
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

    // 1. The desired state, and the saved plan if there is one, checked before anything is read
    //    or locked. A saved plan is only ever a check: the changes are made by the plan made now
    //    from the desired state and the tenant, and only if it is the same list of changes.
    std::optional<SavedPlan> saved;
    std::vector<std::string> paths;
    if (values->count("plan-file")) {
        saved = read_saved_plan((*values)["plan-file"].as<std::string>());
        if (clock.set()) throw UsageError("a saved plan is applied as it was made; --at is for -c PATH");
        paths = values->count("config") ? desired_state_paths(*values) : saved->desired_paths;
        if (paths.empty())
            throw UsageError("the saved plan does not say where its desired state is: give it with -c PATH");
    } else if (values->count("config")) {
        paths = desired_state_paths(*values);
    } else {
        throw UsageError("give the desired state (-c PATH) or a saved plan (PLANFILE)");
    }
    const CheckedDesiredState desired = load_and_validate(paths, started, context.clock.now());
    if (desired.diagnostics.has_errors()) {
        print_diagnostics(context.err, desired.diagnostics);
        return exit_error;
    }
    ConnectionSettings settings;
    if (saved) {
        const auto age = duration_option(*values, "max-plan-age");
        if (context.clock.now() - saved->plan.evaluated_at > age) {
            context.err << "error: the saved plan was made " << format_instant(saved->plan.evaluated_at)
                        << ", more than --max-plan-age ago; make a new plan\nNothing was changed.\n";
            return exit_error;
        }
        if (desired.state.digest != saved->plan.desired_digest) {
            context.err << "error: the desired state has changed since the plan was made ("
                        << printable(saved->plan.desired_digest) << ", now " << desired.state.digest
                        << "); make a new plan\nNothing was changed.\n";
            return exit_error;
        }
        settings = resolve_saved_connection(*values, desired.state, saved->connection, environment);
    } else {
        settings = resolve_connection(*values, desired.state, environment);
    }

    // 2. The journal; the sign-in, which names the tenant by its GUID; then the tenant's lock:
    //    two applies never write to one tenant at once, however each spells it.
    Journal journal = Journal::open(state_path(*values));
    RunRecord run;
    run.command = "apply";
    run.mode = saved ? "saved-plan" : "";
    run.tenant = settings.tenant;
    run.tenant_name = settings.tenant;
    run.desired_digest = desired.state.digest;
    run.started_at = started;
    run.id = journal.begin_run(run);
    const auto finish = [&](const std::string& outcome, const std::string& error) {
        run.finished_at = clock.now();
        run.outcome = outcome;
        run.error = error;
        journal.finish_run(run);
    };
    const auto refuse = [&](const std::string& message) {
        context.err << "error: " << message << "\nNothing was changed.\n";
        finish("refused", message);
        return exit_error;
    };
    const auto unreadable = [&](const ConnectorError& error) {
        context.err << "error: " << error.what() << "\nThe live state could not be read; nothing was changed.\n";
        finish("failed", error.what());
    };
    Progress progress(*values);  // one line for the whole run: reading, applying, reading back
    std::unique_ptr<TenantSession> session;
    try {
        session = open_tenant(settings, environment, context.clock);
        run.tenant = tenant_key(*session, settings.tenant, journal);
    } catch (const ConnectorError& error) {
        unreadable(error);
        return exit_error;
    }
    TenantLock lock(journal, run.tenant, context.clock);
    if (const auto holder = lock.acquire(run.id))
        return refuse("another apply holds the lock for " + printable(settings.tenant) + ": " + holder->holder +
                      " since " + format_instant(holder->acquired_at) + " (lease until " +
                      format_instant(holder->lease_until) + ")");

    // 3. A fresh read of the tenant, under the lock, and the plan made from it.
    const auto read_and_plan = [&](Instant at) -> std::optional<std::pair<LiveState, Plan>> {
        LiveState live;
        try {
            session->on_progress([&](const std::string& text) { progress.update(text); });
            live = read_tenant(*session, logger);
            progress.done();
        } catch (const ConnectorError& error) {
            progress.done();
            unreadable(error);
            return std::nullopt;
        }
        PlanResult planned = make_plan(desired.state, live, at, journal.plan_history(run.tenant));
        if (planned.diagnostics.has_errors()) {
            print_diagnostics(context.err, planned.diagnostics);
            finish("failed", "no plan could be made");
            return std::nullopt;
        }
        const auto own = desired.diagnostics.warnings();
        planned.plan.warnings.insert(planned.plan.warnings.begin(), own.begin(), own.end());
        return std::make_pair(std::move(live), std::move(planned.plan));
    };
    auto made = read_and_plan(started);
    if (!made) return exit_error;
    Plan plan = std::move(made->second);
    if (saved) {
        if (stale(context, saved->plan, plan, made->first)) {
            context.err << "Nothing was changed; make a new plan.\n";
            finish("refused", "stale plan");
            return exit_error;
        }
        if (const auto difference = first_difference(saved->plan, plan))
            return refuse("the saved plan is not the plan made now from the desired state and the tenant: " +
                          *difference + "; make and review a new plan");
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

    // 4. Guardrails, then approval: on a terminal every apply asks; elsewhere a saved plan was
    //    reviewed, and a fresh one needs --auto-approve.
    const int max_changes = desired.state.guardrails.max_changes;
    if (static_cast<int>(plan.change_count()) > max_changes && !values->count("allow-large"))
        return refuse("the plan has " + std::to_string(plan.change_count()) +
                      " changes, more than [guardrails] max_changes = " + std::to_string(max_changes) +
                      "; review it and run again with --allow-large");
    if (!values->count("auto-approve")) {
        if (isatty(STDIN_FILENO)) {
            if (!confirmed(context, plan)) {
                context.err << "Apply cancelled; nothing was changed.\n";
                finish("refused", "cancelled at the prompt");
                return exit_error;
            }
            // The answer may have come long after the plan: the lock may have gone to another
            // run, and the tenant may have changed. Both are checked again before any write.
            if (!lock.renew())
                return refuse("this run lost the tenant's lock while waiting for the answer (its lease ran out; "
                              "another run may have taken it)");
            auto again = read_and_plan(clock.now());
            if (!again) return exit_error;
            if (const auto difference = first_difference(plan, again->second))
                return refuse("the tenant changed while waiting for the answer: " + *difference +
                              "; run apply again to see the plan as it is now");
        } else if (!saved) {
            return refuse("standard input is not a terminal: add --auto-approve to apply without asking");
        }
    }

    // 5. The changes, in the plan's order, journalled as they settle, then read back. Ctrl-C or
    //    SIGTERM from here on stops before the next write.
    const InterruptGuard interrupts;
    JournalledApply journalled{journal, run, lock, context.out, context.err, clock, context.clock, nullptr, &progress,
                               &interrupts};
    const auto apply_started = std::chrono::steady_clock::now();
    const JournalledResult result = apply_journalled(plan, session->connector(), journalled);
    LogFields fields = traffic_fields(session->traffic(), apply_started);
    fields.insert(fields.begin(), {{"changes", std::to_string(result.apply.changes.size())},
                                   {"write_seconds", seconds_text(result.apply.write_time)},
                                   {"verify_seconds", seconds_text(result.apply.verify_time)}});
    logger.log(LogLevel::debug, "apply", "changes sent and read back", fields);
    return result.exit_code();
}

}  // namespace authgate
