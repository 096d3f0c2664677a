#pragma once
// Apply: make a plan's changes in its order, then read the tenant back and verify each one.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "policies/plan.h"

namespace authgate {

struct AppliedChange {
    Change change;
    ChangeStatus outcome = ChangeStatus::skipped;
    std::string error;
    std::string client_request_id;
    std::vector<std::string> warnings;    // Exchange's, e.g. "no settings … have been modified"
    std::optional<Instant> revoked_from;  // the STSRefreshTokensValidFrom sent, for a revocation
};

struct ApplyResult {
    std::vector<AppliedChange> changes;             // every change of the plan that changes the tenant, in order
    std::optional<std::string> verification_error;  // the read-back failed: nothing could be verified
    std::optional<std::string> stopped;             // why the hooks stopped the writes, if they did
    std::chrono::milliseconds write_time{0};        // sending the changes
    std::chrono::milliseconds verify_time{0};       // reading the tenant back

    int count(ChangeStatus outcome) const;
    bool succeeded() const;
};

// What apply_plan asks and tells its caller as it goes; each is optional.
struct ApplyHooks {
    // Asked before each group of writes: a reason to send nothing more (the lock lost, a
    // signal), or nullopt to go on.
    std::function<std::optional<std::string>()> stop;
    // Told of each change just before it is sent (so that a journal can record the intent
    // first); false keeps this group, and everything after, from being sent.
    std::function<bool(std::size_t index, const Change&)> sending;
    // Told of each change as it settles.
    std::function<void(const AppliedChange&)> settled;
    // Runs the calls of `sending` for one group, or those of `settled`, together (a journal
    // writes them in one transaction); false when they could not be kept, and then nothing of
    // the group is sent.
    std::function<bool(const std::function<void()>&)> together;
};

// Makes the changes of `plan` (reports are not changes) through `connector`. Consecutive
// mailbox changes go together (they are independent); everything else one at a time, in order.
// A failed exception grant holds back the enforcement after it (the org switch, tightened
// policies, the default policy), which would otherwise break that exception. A change that
// requires the org switch off is made only after this apply turned it off. `clock` (the real
// world's) stamps STSRefreshTokensValidFrom as each revocation is sent. When the hooks stop it,
// what was not sent is skipped, `stopped` says why, and nothing is read back.
ApplyResult apply_plan(const Plan& plan, TenantConnector& connector, const authgate::Clock& clock,
                       const ApplyHooks& hooks = {});

}  // namespace authgate
