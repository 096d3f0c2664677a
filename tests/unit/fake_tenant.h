#pragma once
// An in-memory tenant behind TenantConnector: applies the cmdlets authgate sends to a
// LiveState, records every call, and fails the writes it is told to.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "connectors/connector.h"

namespace authgate::testing {

class FakeTenant : public TenantConnector {
public:
    explicit FakeTenant(LiveState state) : state_(std::move(state)) {}

    LiveState read_live_state() override;
    std::vector<WriteOutcome> write(const std::vector<Cmdlet>& cmdlets) override;

    LiveState& state() { return state_; }
    std::vector<std::vector<Cmdlet>> calls;  // each write() call, as sent
    std::set<std::string> refuse;            // "Set-User" or "Set-CASMailbox:<identity>": answered with an error
    std::set<std::string> ignore;            // accepted but not applied
    std::set<std::string> uncertain;         // applied, then reported as unknown
    bool fail_reads = false;

private:
    void run(const Cmdlet& cmdlet);
    LiveState state_;
};

}  // namespace authgate::testing
