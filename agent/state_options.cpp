#include "agent/state_options.h"

#include <cstdlib>
#include <ostream>

#include "agent/usage_error.h"
#include "policies/name.h"
#include "policies/printable.h"
#include "state/postgresql.h"

namespace authgate {

void add_state_option(po::options_description& options) {
    options.add_options()("state", po::value<std::string>(),
                          "the journal: a SQLite file's path or a postgresql:// URI (default $AUTHGATE_STATE, "
                          "else .authgate/state.db)");
}

std::string state_path(const po::variables_map& values) {
    if (values.count("state")) return values["state"].as<std::string>();
    if (const char* path = std::getenv("AUTHGATE_STATE"); path && *path) return path;
    return ".authgate/state.db";
}

std::string shown_state(const po::variables_map& values) { return shown_location(state_path(values)); }

std::optional<Journal> open_existing_journal(const po::variables_map& values, std::ostream& out) {
    auto journal = Journal::open_existing(state_path(values));
    if (!journal)
        out << "No journal at " << printable(shown_state(values)) << " yet: no apply or reconcile has run with it.\n";
    return journal;
}

void add_tenant_filter_option(po::options_description& options) {
    options.add_options()("tenant", po::value<std::string>(),
                          "only this tenant of a shared journal (its GUID or the name it was given)");
}

std::optional<std::string> tenant_filter(const Journal& journal, const po::variables_map& values) {
    if (!values.count("tenant")) return std::nullopt;
    const std::string wanted = values["tenant"].as<std::string>();
    const auto keys = journal.tenants();
    const auto names = journal.tenant_names();
    for (const std::string& key : keys)
        if (equals_ignoring_case(key, wanted)) return key;
    for (const auto& [key, name] : names)
        if (equals_ignoring_case(name, wanted)) return key;
    std::string known;
    for (const std::string& key : keys) {
        const auto name = names.find(key);
        known += (known.empty() ? "" : ", ") + (name == names.end() ? key : name->second + " (" + key + ")");
    }
    throw UsageError("the journal holds no tenant '" + printable(wanted) + "'" +
                     (known.empty() ? std::string(" (it holds none yet)") : "; it holds " + printable(known)));
}

}  // namespace authgate
