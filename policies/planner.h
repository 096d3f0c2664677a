#pragma once
// The planner: desired x live x now -> Plan. Pure: no I/O, no clock.
#include <map>
#include <string>
#include <vector>

#include "desired_state.h"
#include "diagnostics.h"
#include "live_state.h"
#include "plan.h"

namespace authgate {

// What the journal remembers that the tenant cannot say.
struct PlanHistory {
    struct Grant {
        std::string owner;
        std::string expires;
    };
    // Exceptions authgate granted before, by mailbox address. One that is no longer in
    // the desired state while its override is still live was removed: it is reverted like an
    // expired one, whatever unlisted_overrides says.
    std::map<Name, Grant> granted;
    // Users whose authentication policy authgate removed without a confirmed revocation of their
    // refresh tokens after it (the run died in between, or the revocation failed), by mailbox
    // address, with the reason of the removal. Their revocation is planned again.
    std::map<Name, Reason> revocations_owed;
};

struct PlanResult {
    Plan plan;
    Diagnostics diagnostics;  // errors mean there is no plan (e.g. a needed live part is unknown)
};

// An exception or deny entry that names no live mailbox may be a typo of one that the plan
// changes (old-prnter@ for old-printer@, which would then be reverted as an unlisted override).
enum class SimilarMailbox {
    refuse,  // the plan fails, naming both (plan, apply: someone is there to fix the address)
    hold,    // that mailbox's changes become reports, with a warning (reconcile, unattended)
};

struct PlanOptions {
    SimilarMailbox similar_mailbox = SimilarMailbox::refuse;
};

// The desired state's own warnings (from loading and validation) go ahead of the planner's.
void prepend_warnings(Plan& plan, const Diagnostics& desired);

// Why `changes` changes are more than [guardrails] max_changes allows, or nullopt.
std::optional<std::string> exceeds_max_changes(std::size_t changes, const Guardrails& guardrails);

PlanResult make_plan(const DesiredState& desired, const LiveState& live, Instant now, const PlanHistory& history = {},
                     const PlanOptions& options = {});

// The live addresses within two edits (a letter added, dropped, changed, or two swapped) of
// `address`, ignoring case: nearest first, at most `limit`.
std::vector<std::string> similar_addresses(const std::string& address, const std::vector<Mailbox>& mailboxes,
                                           std::size_t limit = 3);

}  // namespace authgate
