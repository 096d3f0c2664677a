#include <ostream>

#include "agent/commands.h"
#include "agent/github.h"
#include "agent/json_output.h"
#include "agent/options.h"
#include "agent/usage_error.h"
#include "policies/loader.h"
#include "policies/validate.h"

namespace authgate {

CheckedDesiredState load_and_validate(const std::vector<std::string>& paths, Instant now,
                                      std::optional<Instant> granted_at) {
    LoadResult loaded = load_desired_state(paths);
    CheckedDesiredState checked{std::move(loaded.state), std::move(loaded.diagnostics)};
    // Every problem in one run: the cross-element rules are judged on what did load.
    checked.diagnostics.append(validate(checked.state, now, granted_at));
    checked.diagnostics.sort();
    return checked;
}

namespace {

web::json::value diagnostics_json(const Diagnostics& diagnostics, Severity severity) {
    using web::json::value;
    value list = value::array();
    std::size_t i = 0;
    for (const Diagnostic& d : diagnostics.all()) {
        if (d.severity != severity) continue;
        value entry = value::object(true);
        entry["code"] = value::string(d.code);
        entry["message"] = value::string(d.message);
        entry["file"] = value::string(d.source.file);
        entry["line"] = value::number(d.source.line);
        entry["column"] = value::number(d.source.column);
        list[i++] = entry;
    }
    return list;
}

}  // namespace

int run_validate(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("strict", "treat warnings as errors (exit 1)")(
        "at", po::value<std::string>(), "judge expiry as at this time (RFC 3339), not now")(
        "format", po::value<std::string>(), "text (default) or json");
    add_github_option(options);
    const auto values = parse_options(context, options, "authgate validate -c PATH... [--strict] [--at TIME]");
    if (!values) return exit_ok;
    const ReportFormat format = report_format(*values);
    if (format == ReportFormat::markdown) throw UsageError("--format must be text or json");
    const CheckedDesiredState checked = load_and_validate(desired_state_paths(*values),
                                                          CommandClock(*values, context.clock).now());
    const Diagnostics& diagnostics = checked.diagnostics;
    const bool failed = diagnostics.has_errors() || (values->count("strict") && diagnostics.warning_count() > 0);

    if (format == ReportFormat::json) {
        web::json::value report = web::json::value::object(true);
        report["valid"] = web::json::value::boolean(!failed);
        report["files"] = web::json::value::number(static_cast<uint64_t>(checked.state.files.size()));
        report["errors"] = diagnostics_json(diagnostics, Severity::error);
        report["warnings"] = diagnostics_json(diagnostics, Severity::warning);
        write_json(context.out, report);
        return failed ? exit_error : exit_ok;
    }
    print_diagnostics(context.err, diagnostics);
    if (github_enabled(*values)) annotate(context.err, diagnostics.all());
    if (diagnostics.has_errors()) return exit_error;
    const std::size_t warnings = diagnostics.warning_count();
    if (failed) {
        context.err << warnings << (warnings == 1 ? " warning" : " warnings")
                    << ", and warnings are errors with --strict.\n";
        return exit_error;
    }
    const DesiredState& state = checked.state;
    const std::size_t exceptions = state.smtp_auth ? state.smtp_auth->exceptions.size() : 0;
    context.out << "Valid: " << state.files.size() << (state.files.size() == 1 ? " file, " : " files, ") << exceptions
                << (exceptions == 1 ? " exception, " : " exceptions, ") << state.policies.size()
                << (state.policies.size() == 1 ? " policy, " : " policies, ") << warnings
                << (warnings == 1 ? " warning.\n" : " warnings.\n");
    return exit_ok;
}

}  // namespace authgate
