#pragma once
// Where the journal lives: --state, else $AUTHGATE_STATE, else .authgate/state.db here. A
// PostgreSQL URI (postgresql://...) puts it in a database every runner shares; anything else is
// a SQLite file's path.
#include <optional>
#include <string>

#include "agent/options.h"
#include "state/journal.h"

namespace authgate {

void add_state_option(po::options_description& options);
std::string state_path(const po::variables_map& values);
// The location for people: a URI without its password.
std::string shown_state(const po::variables_map& values);

// For the commands that only read: the journal, or nullopt (having said so on `out`) when none
// is there yet. Nothing is created.
std::optional<Journal> open_existing_journal(const po::variables_map& values, std::ostream& out);

// --tenant of status and history: one tenant of a shared journal.
void add_tenant_filter_option(po::options_description& options);
// The journal's key of the tenant --tenant names (its GUID, or a name a run was given, in any
// case); nullopt without --tenant. Throws UsageError for a tenant the journal does not hold.
std::optional<std::string> tenant_filter(const Journal& journal, const po::variables_map& values);

}  // namespace authgate
