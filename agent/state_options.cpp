#include "agent/state_options.h"

#include <cstdlib>

namespace authgate {

void add_state_option(po::options_description& options) {
    options.add_options()("state", po::value<std::string>(),
                          "state database (default $AUTHGATE_STATE, else .authgate/state.db)");
}

std::string state_path(const po::variables_map& values) {
    if (values.count("state")) return values["state"].as<std::string>();
    if (const char* path = std::getenv("AUTHGATE_STATE"); path && *path) return path;
    return ".authgate/state.db";
}

}  // namespace authgate
