#pragma once
// The command table and what every command shares: parsing, help and exit codes.
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "policies/time.h"

namespace authgate {

// Exit codes, as README.md's "Exit codes" lists them (a signal's: 128 + the signal, interrupt.h).
enum ExitCode : int { exit_ok = 0, exit_error = 1, exit_changes = 2 };

struct CommandContext {
    std::string name;               // "plan"
    std::vector<std::string> args;  // the arguments after the command name
    std::ostream& out;
    std::ostream& err;
    // The system's clock: what the command evaluates with unless --at sets its own, and what
    // the real world judges by (certificates, sign-in, the tenant lock's lease).
    const Clock& clock;
};

struct Command {
    std::string_view name;
    std::string_view summary;
    std::function<int(CommandContext&)> run;
};

const std::vector<Command>& commands();

int run_cli(int argc, char** argv);

// The closest command name for a typo, or "".
std::string suggest_command(std::string_view typed);

}  // namespace authgate
