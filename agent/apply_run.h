#pragma once
// An apply as a run of the journal: the tenant's lock, the changes journalled as they settle,
// the exception lifecycle events, and a summary that names every change not made. Shared by
// apply and reconcile.
#include <iosfwd>
#include <optional>
#include <string>

#include "agent/apply.h"
#include "agent/log.h"
#include "agent/terminal.h"
#include "state/journal.h"

namespace authgate {

// Holds the tenant's apply lock for the life of the run; released on every way out. Its lease
// is measured by `system`, the real world's clock (never --at): it is about processes being alive.
class TenantLock {
public:
    TenantLock(Journal& journal, std::string tenant, const Clock& system);
    ~TenantLock();
    TenantLock(const TenantLock&) = delete;
    TenantLock& operator=(const TenantLock&) = delete;

    // Nullopt when taken; otherwise who holds it.
    std::optional<LockHolder> acquire();
    void renew();

private:
    Journal& journal_;
    std::string tenant_;
    std::string holder_;
    const Clock& system_;
    bool held_ = false;
};

std::string describe(const Change& change);  // "mailbox scanner@contoso.com SmtpClientAuthenticationDisabled"

struct JournalledApply {
    Journal& journal;
    RunRecord& run;
    TenantLock& lock;
    std::ostream& out;  // a line per change and the summary
    std::ostream& err;  // every change not made
    const Clock& clock;   // the command's: stamps what is journalled
    const Clock& system;  // the real world's: stamps revocations sent to the tenant
    Logger* logger = nullptr;
    Progress* progress = nullptr;  // "applying: 12 of 15" on a terminal
};

// Applies `plan`, journals every change and lifecycle event, prints the outcome, and settles
// `run` (applied, failed, outcome) in the journal. Returns the result for the exit code.
ApplyResult apply_journalled(const Plan& plan, TenantConnector& connector, JournalledApply& context);

}  // namespace authgate
