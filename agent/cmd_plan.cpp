#include <filesystem>
#include <ostream>

#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/entra_evidence.h"
#include "agent/files.h"
#include "agent/github.h"
#include "agent/keep_until_exit.h"
#include "agent/log.h"
#include "agent/options.h"
#include "agent/render.h"
#include "agent/saved_plan.h"
#include "agent/state_options.h"
#include "agent/terminal.h"
#include "agent/timing.h"
#include "agent/usage_evidence.h"
#include "connectors/snapshot.h"
#include "policies/lifecycle.h"
#include "policies/planner.h"
#include "state/journal.h"

namespace authgate {

int run_plan(CommandContext& context) {
    RunTimer timer;
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("snapshot", po::value<std::string>(),
                          "read the live state from this snapshot file instead of the tenant")(
        "at", po::value<std::string>(), "plan as at this time (RFC 3339), not now")("format", po::value<std::string>(),
                                                                                    "text (default), markdown or json")(
        "detailed-exitcode", "exit 2 when there is drift: changes to make or overrides to report")(
        "out", po::value<std::string>(), "also save the plan, for authgate apply PLANFILE")(
        "check-entra", "read Entra's security defaults and Conditional Access for the basic_auth exceptions even "
                       "when no usage evidence is asked for (needs Policy.Read.All)");
    add_usage_options(options, true);
    add_connection_options(options);
    add_state_option(options);
    add_github_option(options);
    add_link_base_option(options);
    add_color_option(options);
    const auto values = parse_options(context, options,
                                      "authgate plan -c PATH... [--snapshot FILE] [--at TIME] [--format FORMAT] "
                                      "[--detailed-exitcode] [--out PLANFILE] [--link-base URL]");
    if (!values) return exit_ok;
    const CommandClock clock(*values, context.clock);
    const Instant now = clock.now();
    Logger logger = make_logger(*values, context, clock);
    const ReportFormat format = report_format(*values);
    if (values->count("out") && values->count("at"))
        throw UsageError("--out saves a plan to apply now; a plan made --at another time cannot be saved");

    // 1. The desired state, checked before anything is read from the tenant.
    const bool github = github_enabled(*values);
    CheckedDesiredState checked = load_and_validate(desired_state_paths(*values), now);
    timer.mark("load");
    if (checked.diagnostics.has_errors()) {
        print_diagnostics(context.err, checked.diagnostics);
        if (github) annotate(context.err, checked.diagnostics.all());
        return exit_error;
    }

    // 2. The live state, from a snapshot or the tenant; a part that cannot be read fails the plan.
    const Environment environment = process_environment();
    ConnectionSettings settings = gather_connection(*values, checked.state, environment);
    LiveState live;
    std::optional<std::string> tenant_id;  // the GUID the sign-in names, when the tenant is read
    std::unique_ptr<TenantSession> session;
    try {
        if (values->count("snapshot")) {
            live = SnapshotConnector((*values)["snapshot"].as<std::string>()).read_live_state();
            timer.mark("read");
        } else {
            settings = resolve_connection(*values, checked.state, environment);
            session = open_tenant(settings, environment, context.clock);
            timer.mark("connect");
            Progress progress(*values);
            session->on_progress([&](const std::string& text) { progress.update(text); });
            live = read_tenant(*session, logger, &timer);
            tenant_id = fold_case(session->tenant_id());
        }
    } catch (const ConnectorError& error) {
        report_unreadable(context.err, error, "no plan is made");
        return exit_error;
    }

    // 3. The plan, with the desired state's own warnings ahead of the planner's.
    // What authgate granted before (to recognise removed exceptions), if it has a journal here.
    PlanHistory history;
    auto journal = Journal::open_existing(state_path(*values));
    const std::string name = checked.state.tenant ? checked.state.tenant->id : settings.tenant;
    std::string key = name;
    if (journal) {
        if (tenant_id) {
            journal->adopt_tenant(name, *tenant_id);
            key = *tenant_id;
        } else {
            key = journal->key_of(name);  // from a snapshot
        }
        history = journal->plan_history(key);
    }
    timer.mark("journal");
    PlanResult result = make_plan(checked.state, live, now, history);
    timer.mark("plan");
    if (result.diagnostics.has_errors()) {
        print_diagnostics(context.err, result.diagnostics);
        return exit_error;
    }
    Plan& plan = result.plan;
    // Who the plan cuts off, when the desired state or the command asks (a snapshot plan reads
    // no Graph source: the report given and what the journal kept).
    Diagnostics refused;
    const UsageOptions usage = usage_options(*values);
    if (const auto evidence = plan_evidence(checked.state, usage, session.get(), now, journal ? &*journal : nullptr,
                                            key, &logger))
        refused = judge_usage(plan, checked.state, live, *evidence, now, usage);
    timer.mark("evidence");
    // The basic_auth exceptions Entra refuses (security defaults, Conditional Access), when there
    // are any and the plan reads Graph for usage evidence: a snapshot plan reads nothing of Entra.
    if (plan_wants_entra(checked.state, now, session.get(),
                         plan_wants_usage(checked.state, usage) || values->count("check-entra") > 0))
        judge_entra(plan, checked.state, live, *session, now, &logger);
    timer.mark("entra");
    // The certificate authgate signs with, judged by the real clock.
    if (const auto expiry = session ? session->certificate_expiry() : std::nullopt)
        if (auto warning = certificate_expiring(*expiry, context.clock.now(),
                                                checked.state.guardrails.certificate_warn_days))
            plan.warnings.push_back(std::move(*warning));
    prepend_warnings(plan, checked.diagnostics);

    const SourceLinks links = source_links(*values);
    render_plan(context.out, plan, format, stdout_style(*values), links);
    if (refused.has_errors()) {
        print_diagnostics(context.err, refused);
        if (github) annotate(context.err, refused.all());
        context.err << "No plan is saved: the recent-use guardrail refuses it.\n";
        return exit_error;
    }
    if (github) {
        annotate(context.err, plan.warnings);
        append_step_summary(plan, links);
    }
    if (values->count("out")) {
        const std::string path = (*values)["out"].as<std::string>();
        // Recorded absolute, so that the plan can be applied from another folder.
        if (!settings.certificate.empty())
            settings.certificate = std::filesystem::absolute(settings.certificate).string();
        if (settings.ca_bundle) settings.ca_bundle = std::filesystem::absolute(*settings.ca_bundle).string();
        write_file_atomically(path, [&](std::ostream& out) {
            write_saved_plan(out, {plan, settings, checked.state.guardrails.max_changes, desired_state_paths(*values)});
        });
    }
    timer.mark("output");
    timer.log(logger);
    keep_until_exit(std::move(live));
    return values->count("detailed-exitcode") && plan.has_drift() ? exit_changes : exit_ok;
}

}  // namespace authgate
