#pragma once
// Option parsing shared by the commands: one style of flags, help and usage errors.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "agent/cli.h"
#include "agent/report_format.h"
#include "agent/usage_error.h"
#include "policies/desired_state.h"
#include "policies/diagnostics.h"
#include "policies/time.h"

namespace authgate {

namespace po = boost::program_options;

// Parses the command's arguments. Prints the help and returns nullopt for --help; throws
// UsageError for anything it cannot accept.
std::optional<po::variables_map> parse_options(CommandContext& context, po::options_description& options,
                                               const std::string& usage,
                                               const po::positional_options_description* positional = nullptr);

// -c/--config PATH..., the desired state.
void add_desired_state_option(po::options_description& options);
std::vector<std::string> desired_state_paths(const po::variables_map& values);

ReportFormat report_format(const po::variables_map& values);
// Whether --at may name a time earlier than the system clock. A command that changes the tenant
// may evaluate the desired state later than now (exceptions expire sooner), never earlier: that
// would keep in force exceptions that have expired.
enum class AtRule { any_time, not_earlier };

// The clock a command evaluates with: set to --at TIME when given, else the context's. Throws
// UsageError for a malformed TIME, or one that `rule` refuses.
class CommandClock final : public Clock {
public:
    CommandClock(const po::variables_map& values, const Clock& system, AtRule rule = AtRule::any_time);
    Instant now() const override { return set_ ? set_->now() : system_.now(); }
    bool set() const { return set_.has_value(); }  // by --at
    // For a command that writes with --at: says so on `err`, so that no log hides it.
    void announce(std::ostream& err) const;

private:
    const Clock& system_;
    std::optional<SetClock> set_;
};

// A duration option ("15m", "24h"); throws UsageError when malformed.
std::chrono::seconds duration_option(const po::variables_map& values, const std::string& name);

// --log-format and --log-level, shared by the commands that log.
void add_log_options(po::options_description& options);
class Logger;
// Lines go to the context's standard error, stamped by `clock`.
Logger make_logger(const po::variables_map& values, CommandContext& context, const Clock& clock);

// Prints every diagnostic, one per line, and a count line when there are errors.
void print_diagnostics(std::ostream& err, const Diagnostics& diagnostics);

}  // namespace authgate
