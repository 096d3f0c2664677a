// import: a desired state written from the live tenant, for migrating an existing tenant.
#include <filesystem>
#include <ostream>

#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/files.h"
#include "agent/import.h"
#include "agent/log.h"
#include "agent/options.h"

namespace authgate {

int run_import(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("out", po::value<std::string>(), "the TOML file to write (never overwritten)")(
        "exception-days", po::value<int>()->default_value(30), "imported exceptions expire this many days from now");
    add_connection_options(options);
    const auto values = parse_options(context, options, "authgate import --out FILE [-c PATH] [--exception-days N]");
    if (!values) return exit_ok;
    Logger logger = make_logger(*values, context, context.clock);
    if (!values->count("out")) throw UsageError("say where to write the desired state: --out FILE");
    const std::string path = (*values)["out"].as<std::string>();
    const int days = (*values)["exception-days"].as<int>();
    if (days < 1 || days > 3650) throw UsageError("--exception-days must be from 1 to 3650");
    if (std::filesystem::exists(path))
        throw UsageError(path + " exists; import writes a new file and never overwrites one");

    // The connection comes from -c when given (its [tenant] and [connection]), else from flags and environment.
    const Instant now = context.clock.now();
    DesiredState desired;
    if (values->count("config")) {
        CheckedDesiredState checked = load_and_validate(desired_state_paths(*values), now);
        if (checked.diagnostics.has_errors()) {
            print_diagnostics(context.err, checked.diagnostics);
            return exit_error;
        }
        desired = std::move(checked.state);
    }
    const Environment environment = process_environment();
    const ConnectionSettings settings = resolve_connection(*values, desired, environment);
    LiveState live;
    try {
        const auto session = open_tenant(settings, environment, context.clock);
        live = read_tenant(*session, logger);
    } catch (const ConnectorError& error) {
        report_unreadable(context.err, error, "nothing was written");
        return exit_error;
    }
    const ImportOptions import{settings.tenant, desired.tenant ? desired.tenant->cloud : Cloud::global, now, days};
    const std::string text = import_desired_state(live, import);
    write_file_atomically(path, [&](std::ostream& out) { out << text; });
    std::size_t overrides = 0;
    for (const auto& mailbox : *live.mailboxes) overrides += mailbox.smtp_auth_disabled.has_value();
    context.out << "Wrote " << path << " from " << settings.tenant << ": " << overrides
                << " explicit mailbox overrides to review, " << live.policies->size()
                << " authentication policies. Run authgate plan -c " << path << " next.\n";
    return exit_ok;
}

}  // namespace authgate
