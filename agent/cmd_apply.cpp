#include <unistd.h>

#include <iostream>
#include <ostream>

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
#include "agent/timing.h"
#include "agent/usage_evidence.h"
#include "policies/planner.h"
#include "policies/printable.h"
#include "policies/readback.h"
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

// Names each value the saved plan would change that is no longer what it saw.
bool stale(CommandContext& context, const Plan& saved, const Plan& made, const LiveState& live) {
    const std::vector<StaleValue> values = stale_values(saved, made, live);
    if (values.empty()) return false;
    context.err << "error: the saved plan is stale; the tenant changed since it was made:\n";
    for (const StaleValue& value : values)
        context.err << "  " << describe(*value.change) << " is " << printable(describe(value.now))
                    << ", the plan expected " << printable(describe(value.change->before)) << "\n";
    return true;
}

// What an apply starts from: the desired state, checked; the saved plan, if one is applied;
// and where to sign in.
struct ApplyInputs {
    std::optional<SavedPlan> saved;
    CheckedDesiredState desired;
    ConnectionSettings settings;
};

// A saved plan is only ever a check: the changes are made by the plan made now from the desired
// state and the tenant, and only if it is the same list of changes. It must be young enough and
// made from this desired state. Nullopt (said on standard error) when the apply cannot go on.
std::optional<ApplyInputs> read_inputs(CommandContext& context, const po::variables_map& values,
                                       const CommandClock& clock, Instant started, const Environment& environment) {
    ApplyInputs inputs;
    std::vector<std::string> paths;
    if (values.count("plan-file")) {
        inputs.saved = read_saved_plan(values["plan-file"].as<std::string>());
        if (clock.set()) throw UsageError("a saved plan is applied as it was made; --at is for -c PATH");
        paths = values.count("config") ? desired_state_paths(values) : inputs.saved->desired_paths;
        if (paths.empty())
            throw UsageError("the saved plan does not say where its desired state is: give it with -c PATH");
    } else if (values.count("config")) {
        paths = desired_state_paths(values);
    } else {
        throw UsageError("give the desired state (-c PATH) or a saved plan (PLANFILE)");
    }
    inputs.desired = load_and_validate(paths, started, context.clock.now());
    if (inputs.desired.diagnostics.has_errors()) {
        print_diagnostics(context.err, inputs.desired.diagnostics);
        return std::nullopt;
    }
    if (!inputs.saved) {
        inputs.settings = resolve_connection(values, inputs.desired.state, environment);
        return inputs;
    }
    const Plan& plan = inputs.saved->plan;
    if (context.clock.now() - plan.evaluated_at > duration_option(values, "max-plan-age")) {
        context.err << "error: the saved plan was made " << format_instant(plan.evaluated_at)
                    << ", more than --max-plan-age ago; make a new plan\nNothing was changed.\n";
        return std::nullopt;
    }
    if (inputs.desired.state.digest != plan.desired_digest) {
        context.err << "error: the desired state has changed since the plan was made ("
                    << printable(plan.desired_digest) << ", now " << inputs.desired.state.digest
                    << "); make a new plan\nNothing was changed.\n";
        return std::nullopt;
    }
    inputs.settings = resolve_saved_connection(values, inputs.desired.state, inputs.saved->connection, environment);
    return inputs;
}

}  // namespace

int run_apply(CommandContext& context) {
    RunTimer timer;
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("plan-file", po::value<std::string>(), "a plan saved with authgate plan --out")(
        "auto-approve", "apply without asking (needed with -c when standard input is not a terminal)")(
        "allow-large", "apply even when the plan has more changes than [guardrails] max_changes")(
        "max-plan-age", po::value<std::string>()->default_value("24h"), "refuse a saved plan older than this")(
        "at", po::value<std::string>(), "judge exceptions as at this time (RFC 3339), not now; never earlier than now");
    add_usage_options(options, true);
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
    //    or locked.
    const std::optional<ApplyInputs> inputs = read_inputs(context, *values, clock, started, environment);
    if (!inputs) return exit_error;
    const std::optional<SavedPlan>& saved = inputs->saved;
    const CheckedDesiredState& desired = inputs->desired;
    const ConnectionSettings& settings = inputs->settings;
    timer.mark("load");

    // 2. The journal's run; the sign-in, which names the tenant by its GUID; then the tenant's
    //    lock: two applies never write to one tenant at once, however each spells it.
    Journal journal = Journal::open(state_path(*values));
    RunRecord record;
    record.command = RunCommand::apply;
    record.mode = saved ? RunMode::saved_plan : RunMode::none;
    record.tenant = record.tenant_name = settings.tenant;
    record.desired_digest = desired.state.digest;
    record.started_at = started;
    JournalRun run(journal, record, clock, context.clock);
    timer.mark("journal");
    const auto refuse = [&](const std::string& message) {
        context.err << "error: " << message << "\nNothing was changed.\n";
        run.finish(RunOutcome::refused, message);
        return exit_error;
    };
    const auto unreadable = [&](const ConnectorError& error) {
        report_unreadable(context.err, error, "nothing was changed");
        run.finish(RunOutcome::failed, error.what());
        return exit_error;
    };
    Progress progress(*values);  // one line for the whole run: reading, applying, reading back
    std::unique_ptr<TenantSession> session;
    try {
        session = open_tenant(settings, environment, context.clock);
        timer.mark("connect");
        run.key(*session);
        timer.split({{"sign_in", session->traffic().token_time}}, "journal");
    } catch (const ConnectorError& error) {
        return unreadable(error);
    }
    if (const auto holder = run.lock())
        return refuse("another apply holds the lock for " + printable(settings.tenant) + ": " + holder->holder +
                      " since " + format_instant(holder->acquired_at) + " (lease until " +
                      format_instant(holder->lease_until) + ")");
    timer.mark("journal");

    // 3. A fresh read of the tenant, under the lock, and the plan made from it.
    const UsageOptions usage = usage_options(*values);
    std::optional<std::optional<UsageEvidence>> evidence;  // read once: none, or what there is
    const auto read_and_plan = [&](Instant at) -> std::optional<std::pair<LiveState, Plan>> {
        LiveState live;
        try {
            session->on_progress([&](const std::string& text) { progress.update(text); });
            live = read_tenant(*session, logger, &timer);
            progress.done();
        } catch (const ConnectorError& error) {
            progress.done();
            unreadable(error);
            return std::nullopt;
        }
        PlanResult planned = make_plan(desired.state, live, at, journal.plan_history(run.record().tenant));
        timer.mark("plan");
        if (planned.diagnostics.has_errors()) {
            print_diagnostics(context.err, planned.diagnostics);
            run.finish(RunOutcome::failed, "no plan could be made");
            return std::nullopt;
        }
        // Who the plan cuts off; the evidence is read once per run.
        if (!evidence)
            evidence = plan_evidence(desired.state, usage, session.get(), at, &journal, run.record().tenant, &logger);
        if (*evidence) {
            const Diagnostics refused = judge_usage(planned.plan, desired.state, live, **evidence, at, usage);
            if (refused.has_errors()) {
                render_text(context.out, planned.plan, stdout_style(*values));
                print_diagnostics(context.err, refused);
                context.err << "Nothing was changed.\n";
                run.finish(RunOutcome::refused, "the recent-use guardrail refused the plan");
                return std::nullopt;
            }
        }
        prepend_warnings(planned.plan, desired.diagnostics);
        timer.mark("evidence");
        return std::make_pair(std::move(live), std::move(planned.plan));
    };
    auto made = read_and_plan(started);
    if (!made) return exit_error;
    Plan plan = std::move(made->second);
    if (saved) {
        if (stale(context, saved->plan, plan, made->first)) {
            context.err << "Nothing was changed; make a new plan.\n";
            run.finish(RunOutcome::refused, "stale plan");
            return exit_error;
        }
        if (const auto difference = first_difference(saved->plan, plan))
            return refuse("the saved plan is not the plan made now from the desired state and the tenant: " +
                          *difference + "; make and review a new plan");
    }
    run.count(plan);
    render_text(context.out, plan, stdout_style(*values));
    timer.mark("output");
    if (plan.change_count() == 0) {
        context.out << "\nNothing to apply.\n";
        run.finish(RunOutcome::succeeded);
        return exit_ok;
    }

    // 4. Guardrails, then approval: on a terminal every apply asks; elsewhere a saved plan was
    //    reviewed, and a fresh one needs --auto-approve.
    if (const auto too_many = exceeds_max_changes(plan.change_count(), desired.state.guardrails))
        if (!values->count("allow-large")) return refuse(*too_many + "; review it and run again with --allow-large");
    if (!values->count("auto-approve")) {
        if (isatty(STDIN_FILENO)) {
            if (!confirmed(context, plan)) {
                context.err << "Apply cancelled; nothing was changed.\n";
                run.finish(RunOutcome::declined, "declined at the prompt");
                return exit_error;
            }
            // The answer may have come long after the plan: the lock may have gone to another
            // run, and the tenant may have changed. Both are checked again before any write.
            if (!run.renew_lock())
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
    JournalledApply journalled{run, context.out, context.err, nullptr, &progress, &interrupts};
    const auto apply_started = std::chrono::steady_clock::now();
    const JournalledResult result = apply_journalled(plan, session->connector(), journalled);
    timer.split({{"write", result.apply.write_time}, {"verify", result.apply.verify_time}}, "journal");
    close_fixed_drift(journal, run.record().tenant, plan, result.apply, clock.now(), logger);
    timer.mark("journal");
    LogFields fields = traffic_fields(session->traffic(), apply_started);
    fields.insert(fields.begin(), {{"changes", std::to_string(result.apply.changes.size())},
                                   {"write_seconds", seconds_text(result.apply.write_time)},
                                   {"verify_seconds", seconds_text(result.apply.verify_time)}});
    // The journal's part of the whole run so far: the statements it ran and the time they took.
    const Journal::Cost journal_cost = journal.cost();
    fields.insert(fields.end(), {{"journal_statements", std::to_string(journal_cost.statements)},
                                 {"journal_seconds", seconds_text(journal_cost.time)}});
    logger.log(LogLevel::debug, "apply", "changes sent and read back", fields);
    timer.log(logger);
    return result.exit_code();
}

}  // namespace authgate
