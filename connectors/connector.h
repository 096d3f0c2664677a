#pragma once
// One interface for every way of reaching a tenant: a snapshot file, Exchange Online, or a
// test fake. A part that cannot be read is an error, never an empty list.
#include <stdexcept>
#include <string>

#include "policies/live_state.h"

namespace authgate {

class ConnectorError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class TenantConnector {
public:
    virtual ~TenantConnector() = default;
    // Reads the whole live state the planner needs; throws ConnectorError when a read fails.
    virtual LiveState read_live_state() = 0;
};

}  // namespace authgate
