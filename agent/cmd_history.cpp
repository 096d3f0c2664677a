// history: the journal of runs and the changes each made, newest first (no network).
#include <ostream>

#include "agent/commands.h"
#include "agent/json_output.h"
#include "agent/options.h"
#include "agent/render.h"
#include "agent/state_options.h"
#include "agent/usage_error.h"
#include "policies/printable.h"
#include "state/journal.h"

namespace authgate {

int run_history(CommandContext& context) {
    po::options_description options("Options");
    options.add_options()("limit", po::value<int>()->default_value(20),
                          "how many runs, newest first")("format", po::value<std::string>(), "text (default) or json");
    add_state_option(options);
    add_tenant_filter_option(options);
    const auto values = parse_options(
        context, options, "authgate history [--limit N] [--format text|json] [--state PATH|URI] [--tenant TENANT]");
    if (!values) return exit_ok;
    const ReportFormat format = report_format(*values);
    if (format == ReportFormat::markdown) throw UsageError("--format must be text or json");
    const int limit = (*values)["limit"].as<int>();
    if (limit < 1) throw UsageError("--limit must be at least 1");
    // A read-only command creates no journal: none yet means nothing has been done here.
    const auto opened = open_existing_journal(*values, context.out);
    if (!opened) return exit_ok;
    const Journal& journal = *opened;
    const auto runs = journal.runs(limit, tenant_filter(journal, *values));

    if (format == ReportFormat::json) {
        using web::json::value;
        value list = value::array();
        std::size_t i = 0;
        for (const auto& run : runs) {
            value entry = run_to_json(run);
            value changes = value::array();
            std::size_t k = 0;
            for (const auto& change : journal.changes_of(run.id)) {
                value c = value::object(true);
                c["sequence"] = value::number(change.sequence);
                c["resource"] = value::string(change.resource);
                c["target"] = value::string(change.target);
                c["attribute"] = value::string(change.attribute);
                c["action"] = value::string(change.action);
                c["before"] = value::parse(change.before);
                c["after"] = value::parse(change.after);
                c["reason"] = value::string(change.reason);
                c["status"] = value::string(change.status);
                c["verified"] = value::boolean(change.verified);
                c["error"] = value::string(change.error);
                c["client_request_id"] = value::string(change.client_request_id);
                c["at"] = value::string(format_instant(change.at));
                changes[k++] = c;
            }
            entry["changes"] = changes;
            list[i++] = entry;
        }
        value report = value::object(true);
        report["runs"] = list;
        write_json(context.out, report);
        return exit_ok;
    }

    if (runs.empty()) context.out << "No runs in the journal yet.\n";
    for (const auto& run : runs) {
        context.out << "#" << run.id << "  " << format_instant(run.started_at) << "  " << run_command_line(run) << "  "
                    << printable(run.display_tenant()) << "  " << to_string(run.outcome) << "  (" << run.planned
                    << " planned, " << run.applied << " applied, " << run.failed << " failed)\n";
        if (!run.error.empty()) context.out << "    " << printable(run.error) << "\n";
        for (const auto& change : journal.changes_of(run.id)) {
            // What the journal holds came from the tenant and the desired state: shown inert.
            context.out << "    " << change.status << "  " << change.resource << " " << printable(change.target) << " "
                        << printable(change.attribute) << ": " << printable(change.before) << " -> "
                        << printable(change.after) << "  (" << change.reason << ")";
            if (!change.error.empty()) context.out << "  " << printable(change.error);
            context.out << "\n";
        }
    }
    return exit_ok;
}

}  // namespace authgate
