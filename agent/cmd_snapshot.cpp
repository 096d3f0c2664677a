// snapshot: the live state saved in the snapshot format, for offline plans and audit evidence.
#include <ostream>

#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/files.h"
#include "agent/json_output.h"
#include "agent/log.h"
#include "agent/options.h"
#include "agent/render.h"

namespace authgate {

int run_snapshot(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("out", po::value<std::string>(), "the file to write");
    add_connection_options(options);
    const auto values = parse_options(context, options, "authgate snapshot --out FILE -c PATH...");
    if (!values) return exit_ok;
    Logger logger = make_logger(*values, context, context.clock);
    if (!values->count("out")) throw UsageError("say where to save it: --out FILE");
    const std::string path = (*values)["out"].as<std::string>();

    CheckedDesiredState checked = load_and_validate(desired_state_paths(*values), context.clock.now());
    if (checked.diagnostics.has_errors()) {
        print_diagnostics(context.err, checked.diagnostics);
        return exit_error;
    }
    const Environment environment = process_environment();
    const ConnectionSettings settings = resolve_connection(*values, checked.state, environment);
    LiveState live;
    try {
        const auto session = open_tenant(settings, environment, context.clock);
        live = read_tenant(*session, logger);
    } catch (const ConnectorError& error) {
        // A partial snapshot would be read later as a complete one: write nothing.
        report_unreadable(context.err, error, "nothing was saved");
        return exit_error;
    }
    write_file_atomically(path, [&](std::ostream& out) { write_json(out, snapshot_json(live)); });
    context.out << "Saved the live state of " << settings.tenant << " to " << path << ": " << live.mailboxes->size()
                << " mailboxes, " << live.policies->size() << " authentication policies, " << live.users->size()
                << " users with a policy.\n";
    return exit_ok;
}

}  // namespace authgate
