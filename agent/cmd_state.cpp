// state copy: moves a journal between backends (a SQLite file into the PostgreSQL database a
// team's pipelines share, or back), every row in order, and checks the counts.
#include <ostream>

#include "agent/commands.h"
#include "agent/options.h"
#include "agent/state_options.h"
#include "agent/usage_error.h"
#include "policies/printable.h"
#include "state/journal.h"
#include "state/postgresql.h"

namespace authgate {

int run_state(CommandContext& context) {
    po::options_description options("Options");
    options.add_options()("action", po::value<std::string>(), "copy")(
        "from", po::value<std::string>(), "the journal to read: a SQLite file's path or a postgresql:// URI")(
        "to", po::value<std::string>(), "the journal to write: a SQLite file's path or a postgresql:// URI");
    po::positional_options_description positional;
    positional.add("action", 1);
    const auto values = parse_options(context, options, "authgate state copy --from STATE --to STATE", &positional);
    if (!values) return exit_ok;
    if (!values->count("action")) throw UsageError("say what to do with the journal: copy");
    if (const std::string action = (*values)["action"].as<std::string>(); action != "copy")
        throw UsageError("unknown action '" + printable(action) + "': the one action is copy");
    if (!values->count("from") || !values->count("to")) throw UsageError("copy needs --from and --to");
    const std::string from = (*values)["from"].as<std::string>();
    const std::string to = (*values)["to"].as<std::string>();
    if (from == to) throw UsageError("--from and --to name the same journal");

    auto source = Journal::open_existing(from);
    if (!source) throw JournalError("there is no journal at " + shown_location(from) + " to copy");
    Journal destination = Journal::open(to);
    const Journal::Counts copied = source->copy_to(destination, context.clock.now());
    context.out << "Copied " << copied.runs << " runs, " << copied.changes << " changes, " << copied.exception_events
                << " exception events, " << copied.drift << " drift records, " << copied.usage << " usage records and "
                << copied.notices << " owner notices from " << printable(shown_location(from)) << " to "
                << printable(shown_location(to)) << "; the copy holds them all, row for row.\n"
                << "Locks are not copied: point every runner at the new journal before the next apply.\n";
    return exit_ok;
}

}  // namespace authgate
