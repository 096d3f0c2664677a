#pragma once
// Where the journal lives: --state, else $AUTHGATE_STATE, else .authgate/state.db here.
#include <string>

#include "agent/options.h"

namespace authgate {

void add_state_option(po::options_description& options);
std::string state_path(const po::variables_map& values);

}  // namespace authgate
