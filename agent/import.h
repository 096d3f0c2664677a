#pragma once
// import: a desired state written from the live tenant, commented, such that a plan made right
// after it has no change. Every explicit mailbox override becomes something to review: an
// exception (owner "unknown", a short expiry) or a deny entry.
#include <string>

#include "policies/desired_state.h"
#include "policies/live_state.h"
#include "policies/usage.h"

namespace authgate {

struct ImportOptions {
    std::string tenant;
    Cloud cloud = Cloud::global;
    Instant now{};
    int exception_days = 30;  // imported exceptions expire this many days from now
    // --only-used: the senders seen using SMTP AUTH (and in how many days); an override no one
    // was seen using gets no exception, and a sender that inherits the org switch is named as a
    // candidate. nullopt: every override is proposed.
    std::optional<std::vector<MailboxUsage>> used = std::nullopt;
    int used_days = 0;
    // [connection]: the settings the import signed in with (key and value), so that plan -c reads
    // the same tenant the same way; none when empty.
    std::vector<std::pair<std::string, std::string>> connection = {};
};

// [exceptions] max_days that admits exceptions written to expire `exception_days` from now: a
// date holds through its whole day, so one day more.
int imported_max_days(int exception_days);

// Needs every part of the live state; the caller has checked that.
std::string import_desired_state(const LiveState& live, const ImportOptions& options);

}  // namespace authgate
