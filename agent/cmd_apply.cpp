#include <unistd.h>

#include <iostream>
#include <ostream>

#include "agent/apply.h"
#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/options.h"
#include "agent/render.h"
#include "agent/saved_plan.h"
#include "agent/state_options.h"
#include "policies/planner.h"
#include "state/journal.h"

namespace authgate {
namespace {

constexpr std::chrono::seconds lock_lease{600};

// Holds the tenant's apply lock for the life of the run; released on every way out.
class TenantLock {
public:
    TenantLock(Journal& journal, std::string tenant) : journal_(journal), tenant_(std::move(tenant)) {}
    ~TenantLock() {
        if (held_) journal_.release_lock(tenant_, holder_);
    }
    std::optional<LockHolder> acquire(Instant now) {
        auto other = journal_.acquire_lock(tenant_, holder_, now, lock_lease);
        held_ = !other;
        return other;
    }
    void renew() { journal_.renew_lock(tenant_, holder_, now_utc(), lock_lease); }

private:
    Journal& journal_;
    std::string tenant_;
    std::string holder_ = lock_holder_name();
    bool held_ = false;
};

ChangeStatus journal_status(ChangeOutcome outcome) {
    switch (outcome) {
        case ChangeOutcome::verified: return ChangeStatus::verified;
        case ChangeOutcome::applied: return ChangeStatus::applied;
        case ChangeOutcome::failed: return ChangeStatus::failed;
        case ChangeOutcome::skipped: return ChangeStatus::skipped;
    }
    return ChangeStatus::failed;
}

std::string describe(const Change& change) {
    return std::string(to_string(change.resource)) + " " + change.target + " " + change.attribute;
}

bool confirmed(CommandContext& context, const Plan& plan) {
    context.err << "Apply " << plan.change_count() << (plan.change_count() == 1 ? " change" : " changes") << " to "
                << plan.tenant << "? Only 'yes' goes on: " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "yes";
}

// The exception lifecycle as the journal tells it to auditors.
void record_exception_events(Journal& journal, long long run_id, const Plan& plan, const ApplyResult& result, Instant now) {
    for (const AppliedChange& applied : result.changes) {
        const Change& change = applied.change;
        if (applied.outcome != ChangeOutcome::verified || change.resource != Resource::mailbox) continue;
        if (change.reason != Reason::exception_active && change.reason != Reason::exception_expired) continue;
        for (const ExceptionStatus& exception : plan.exceptions) {
            if (!equals_ignoring_case(exception.mailbox, change.target)) continue;
            const ExceptionEvent event =
                change.reason == Reason::exception_active ? ExceptionEvent::granted : ExceptionEvent::reverted;
            journal.record_exception_event({run_id, plan.tenant, exception.mailbox, event, exception.owner,
                                            exception.expires, 0, now});
        }
    }
}

// Where a run's plan comes from: made now from the desired state, or a reviewed saved plan.
struct PlanSource {
    std::optional<CheckedDesiredState> desired;  // -c PATH, when given
    std::optional<SavedPlan> saved;              // PLANFILE, when given
};

bool stale(CommandContext& context, const Plan& plan, const LiveState& live) {
    bool stale = false;
    for (const Change& change : plan.changes) {
        if (!change.changes_tenant()) continue;
        const std::optional<Value> now = live_value(change, live);
        if (!now || *now == change.before) continue;  // not readable back (a timestamp), or as expected
        if (!stale) context.err << "error: the saved plan is stale; the tenant changed since it was made:\n";
        stale = true;
        const auto show = [](const Value& v) {
            if (const bool* b = std::get_if<bool>(&v)) return std::string(*b ? "true" : "false");
            if (const std::string* t = std::get_if<std::string>(&v)) return "'" + *t + "'";
            return std::string("null");
        };
        context.err << "  " << describe(change) << " is " << show(*now) << ", the plan expected " << show(change.before)
                    << "\n";
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
        ("max-plan-age", po::value<std::string>()->default_value("24h"), "refuse a saved plan older than this");
    add_connection_options(options);
    add_state_option(options);
    po::positional_options_description positional;
    positional.add("plan-file", 1);
    const auto values = parse_options(context, options,
                                      "authgate apply -c PATH... [--auto-approve] [--allow-large]\n"
                                      "       authgate apply PLANFILE [-c PATH...]",
                                      &positional);
    if (!values) return exit_ok;
    const Instant started = now_utc();
    const Environment environment = process_environment();

    // 1. Where the plan comes from, checked before anything is read or locked.
    PlanSource source;
    if (values->count("config")) {
        source.desired = load_and_validate(desired_state_paths(*values), started);
        if (source.desired->diagnostics.has_errors()) {
            print_diagnostics(context.err, source.desired->diagnostics);
            return exit_error;
        }
    }
    ConnectionSettings settings;
    if (values->count("plan-file")) {
        source.saved = read_saved_plan((*values)["plan-file"].as<std::string>());
        const Plan& saved = source.saved->plan;
        const auto age = duration_option(*values, "max-plan-age");
        if (started - saved.evaluated_at > age) {
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
    TenantLock lock(journal, settings.tenant);
    if (const auto holder = lock.acquire(started)) {
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
        run.finished_at = now_utc();
        run.outcome = outcome;
        run.error = error;
        journal.finish_run(run);
    };

    // 3. A fresh read of the tenant, under the lock; then the plan: made now, or the saved one
    //    if every value it would change is still what it saw.
    std::unique_ptr<TenantSession> session;
    LiveState live;
    try {
        session = open_tenant(settings, environment, started);
        live = session->connector().read_live_state();
    } catch (const ConnectorError& error) {
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
        PlanResult planned = make_plan(source.desired->state, live, started);
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
    render_text(context.out, plan);
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
    context.out << "\nApplying " << plan.change_count() << " changes...\n";
    int sequence = 0;
    const ApplyResult result = apply_plan(plan, session->connector(), now_utc(), [&](const AppliedChange& applied) {
        journal.record_change({run.id, ++sequence, applied.change, journal_status(applied.outcome), applied.error,
                               applied.client_request_id, now_utc()});
        lock.renew();
    });
    for (std::size_t i = 0; i < result.changes.size(); ++i) {
        const AppliedChange& applied = result.changes[i];
        journal.update_change(run.id, static_cast<int>(i) + 1, journal_status(applied.outcome), applied.error);
        context.out << "  " << to_string(applied.outcome) << "  " << describe(applied.change);
        if (!applied.error.empty()) context.out << ": " << applied.error;
        context.out << "\n";
    }
    record_exception_events(journal, run.id, plan, result, now_utc());

    // 6. The summary, naming every change that did not go through.
    run.applied = result.count(ChangeOutcome::verified) + result.count(ChangeOutcome::applied);
    run.failed = result.count(ChangeOutcome::failed) + result.count(ChangeOutcome::skipped);
    context.out << "\nApply finished: " << result.count(ChangeOutcome::verified) << " verified, "
                << result.count(ChangeOutcome::applied) << " applied (cannot be read back), "
                << result.count(ChangeOutcome::failed) << " failed, " << result.count(ChangeOutcome::skipped)
                << " not made.\n";
    if (result.succeeded()) {
        finish("succeeded", "");
        return exit_ok;
    }
    if (result.verification_error) context.err << "error: " << *result.verification_error << "\n";
    for (const AppliedChange& applied : result.changes)
        if (applied.outcome == ChangeOutcome::failed || applied.outcome == ChangeOutcome::skipped)
            context.err << "error: " << describe(applied.change) << ": " << applied.error << "\n";
    finish(run.applied > 0 ? "partial" : "failed",
           result.verification_error ? *result.verification_error : std::to_string(run.failed) + " changes not made");
    return exit_error;
}

}  // namespace authgate
