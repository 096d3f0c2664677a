#include "agent/options.h"

#include <ostream>

#include "agent/log.h"

namespace authgate {

std::optional<po::variables_map> parse_options(CommandContext& context, po::options_description& options,
                                               const std::string& usage,
                                               const po::positional_options_description* positional) {
    options.add_options()("help,h", "show this help");
    po::variables_map values;
    try {
        po::command_line_parser parser(context.args);
        parser.options(options);
        if (positional) parser.positional(*positional);
        po::store(parser.run(), values);
        if (values.count("help")) {
            context.out << "Usage: " << usage << "\n\n" << options << "\n";
            return std::nullopt;
        }
        po::notify(values);
    } catch (const po::error& error) {
        throw UsageError(error.what());
    }
    return values;
}

void add_desired_state_option(po::options_description& options) {
    options.add_options()("config,c", po::value<std::vector<std::string>>()->composing()->multitoken(),
                          "desired state: a .toml file or a directory of them (repeatable)");
}

std::vector<std::string> desired_state_paths(const po::variables_map& values) {
    if (!values.count("config")) throw UsageError("the desired state is required: -c PATH");
    return values["config"].as<std::vector<std::string>>();
}

ReportFormat report_format(const po::variables_map& values) {
    const std::string format = values.count("format") ? values["format"].as<std::string>() : "text";
    if (const auto chosen = parse_name<ReportFormat>(format)) return *chosen;
    throw UsageError("--format must be " + name_list<ReportFormat>() + ", not '" + format + "'");
}

CommandClock::CommandClock(const po::variables_map& values, const Clock& system, AtRule rule) : system_(system) {
    if (!values.count("at")) return;
    const std::string text = values["at"].as<std::string>();
    const auto instant = parse_instant(text);
    if (!instant)
        throw UsageError("--at must be a time with a UTC offset (2026-11-22T10:00:00Z) or a date, not '" + text + "'");
    if (rule == AtRule::not_earlier && *instant < system.now())
        throw UsageError("--at " + text + " is earlier than the system clock (" + format_instant(system.now()) +
                         "); a command that changes the tenant never judges exceptions as at an earlier time");
    set_.emplace(*instant);
}

void CommandClock::announce(std::ostream& err) const {
    if (!set_) return;
    err << "warning: exceptions are judged as at " << format_instant(set_->now()) << " (--at), not "
        << format_instant(system_.now()) << "; the journal records this run as at that time\n";
}

std::chrono::seconds duration_option(const po::variables_map& values, const std::string& name) {
    const std::string text = values[name].as<std::string>();
    const auto duration = parse_duration(text);
    if (!duration)
        throw UsageError("--" + name + " must be a duration such as 90s, 15m, 24h or 7d, not '" + text + "'");
    return *duration;
}

void add_log_options(po::options_description& options) {
    options.add_options()("log-format", po::value<std::string>()->default_value("text"),
                          "text or json (one object per line)")(
        "log-level", po::value<std::string>()->default_value("info"), "error, warning, info or debug");
}

Logger make_logger(const po::variables_map& values, CommandContext& context, const Clock& clock) {
    const std::string format = values["log-format"].as<std::string>();
    const std::string level = values["log-level"].as<std::string>();
    const auto chosen_format = parse_name<LogFormat>(format);
    if (!chosen_format) throw UsageError("--log-format must be " + name_list<LogFormat>() + ", not '" + format + "'");
    const auto chosen = parse_name<LogLevel>(level);
    if (!chosen) throw UsageError("--log-level must be " + name_list<LogLevel>() + ", not '" + level + "'");
    return Logger(context.err, *chosen_format, *chosen, clock);
}

void print_diagnostics(std::ostream& err, const Diagnostics& diagnostics) {
    for (const Diagnostic& diagnostic : diagnostics.all()) err << format(diagnostic) << "\n";
    if (const std::size_t errors = diagnostics.error_count())
        err << errors << (errors == 1 ? " error" : " errors") << "; nothing was changed.\n";
}

}  // namespace authgate
