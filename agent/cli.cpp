#include "agent/cli.h"

#include <algorithm>
#include <iostream>

#include "agent/commands.h"
#include "agent/usage_error.h"
#include "policies/diagnostics.h"

namespace authgate {
namespace {

void print_help(std::ostream& out) {
    out << "authgate: SMTP AUTH posture and its exceptions in Exchange Online, as code.\n\n"
           "Usage: authgate COMMAND [OPTIONS]\n\nCommands:\n";
    for (const Command& command : commands()) {
        out << "  " << command.name << std::string(12 - std::min<std::size_t>(command.name.size(), 11), ' ')
            << command.summary << "\n";
    }
    out << "\nRun 'authgate COMMAND --help' for a command's options.\n";
}

}  // namespace

const std::vector<Command>& commands() {
    static const std::vector<Command> table{
        {"validate", "parse and check the desired state; no network", run_validate},
        {"doctor", "check, read-only, what plan and apply need of a tenant, and how to fix what fails", run_doctor},
        {"plan", "compare the desired state with the tenant and show the changes", run_plan},
        {"apply", "make the planned changes, then read them back to verify", run_apply},
        {"reconcile", "the scheduled job: record drift, revert expired exceptions, enforce", run_reconcile},
        {"exception", "add, renew or remove an exception in the desired state, keeping its layout", run_exception},
        {"import", "write a desired state from the live tenant, to adopt authgate on it", run_import},
        {"snapshot", "save the live state in the snapshot format, for offline plans and evidence", run_snapshot},
        {"explain", "say whether a mailbox can use SMTP AUTH, and which setting decides it", run_explain},
        {"usage", "who sends with SMTP AUTH, joined to exceptions and to what the plan does to them", run_usage},
        {"notify", "mail the owner notices that are due (--dry-run: who would get what; --to: a test message)",
         run_notify},
        {"report", "the migration as one self-contained HTML page, for admins, managers and auditors", run_report},
        {"status", "exceptions in force, the last runs and open drift, from the journal", run_status},
        {"history", "the journal of runs and the changes they made", run_history},
        {"state", "copy the journal between a SQLite file and PostgreSQL, verified", run_state},
        {"version", "print the version", run_version},
    };
    return table;
}

std::string suggest_command(std::string_view typed) {
    std::string best;
    std::size_t best_distance = 3;
    for (const Command& command : commands()) {
        const std::size_t d = edit_distance(typed, command.name);
        if (d < best_distance || (command.name.rfind(typed, 0) == 0 && !typed.empty() && best.empty())) {
            best = command.name;
            best_distance = std::min(d, best_distance);
        }
    }
    return best;
}

int run_cli(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        print_help(args.empty() ? std::cerr : std::cout);
        return args.empty() ? exit_error : exit_ok;
    }
    if (args[0] == "--version") args[0] = "version";
    const auto command = std::find_if(commands().begin(), commands().end(),
                                      [&](const Command& c) { return c.name == args[0]; });
    if (command == commands().end()) {
        std::cerr << "authgate: unknown command '" << args[0] << "'";
        if (const std::string hint = suggest_command(args[0]); !hint.empty())
            std::cerr << "; did you mean '" << hint << "'?";
        std::cerr << "\nRun 'authgate --help' for the list of commands.\n";
        return exit_error;
    }
    const SystemClock clock;
    CommandContext context{std::string(command->name), {args.begin() + 1, args.end()}, std::cout, std::cerr, clock};
    try {
        return command->run(context);
    } catch (const UsageError& error) {
        std::cerr << "authgate " << command->name << ": " << error.what() << "\nRun 'authgate " << command->name
                  << " --help' for its options.\n";
        return exit_error;
    } catch (const std::exception& error) {
        // Not the command line's fault (a file that cannot be read or written is a FileError): no usage hint.
        std::cerr << "authgate " << command->name << ": error: " << error.what() << "\n";
        return exit_error;
    }
}

}  // namespace authgate
