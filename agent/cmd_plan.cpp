#include <ostream>

#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/options.h"
#include "agent/render.h"
#include "connectors/snapshot.h"
#include "policies/planner.h"

namespace authgate {

int run_plan(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()
        ("snapshot", po::value<std::string>(), "read the live state from this snapshot file instead of the tenant")
        ("at", po::value<std::string>(), "plan as at this time (RFC 3339), not now")
        ("format", po::value<std::string>(), "text (default), markdown or json")
        ("detailed-exitcode", "exit 2 when there are changes to make");
    add_connection_options(options);
    const auto values = parse_options(context, options,
                                      "authgate plan -c PATH... [--snapshot FILE] [--at TIME] [--format FORMAT] "
                                      "[--detailed-exitcode]");
    if (!values) return exit_ok;
    const ReportFormat format = report_format(*values);
    const Instant now = evaluation_time(*values);

    // 1. The desired state, checked before anything is read from the tenant.
    CheckedDesiredState checked = load_and_validate(desired_state_paths(*values), now);
    if (checked.diagnostics.has_errors()) {
        print_diagnostics(context.err, checked.diagnostics);
        return exit_error;
    }

    // 2. The live state, from a snapshot or the tenant; a part that cannot be read fails the plan.
    LiveState live;
    try {
        if (values->count("snapshot")) {
            live = SnapshotConnector((*values)["snapshot"].as<std::string>()).read_live_state();
        } else {
            const Environment environment = process_environment();
            const auto session = open_tenant(resolve_connection(*values, checked.state, environment), environment, now_utc());
            live = session->connector().read_live_state();
        }
    } catch (const ConnectorError& error) {
        context.err << "error: " << error.what() << "\nThe live state could not be read; no plan is made.\n";
        return exit_error;
    }

    // 3. The plan, with the desired state's own warnings ahead of the planner's.
    PlanResult result = make_plan(checked.state, live, now);
    if (result.diagnostics.has_errors()) {
        print_diagnostics(context.err, result.diagnostics);
        return exit_error;
    }
    Plan& plan = result.plan;
    const auto own = checked.diagnostics.warnings();
    plan.warnings.insert(plan.warnings.begin(), own.begin(), own.end());

    render_plan(context.out, plan, format);
    return values->count("detailed-exitcode") && plan.change_count() > 0 ? exit_changes : exit_ok;
}

}  // namespace authgate
