#pragma once
// Owner notices: what each exception's owner should hear about it now (a warn_days threshold
// crossed, expired, reverted, unused), and the message one owner gets for all of theirs. Pure:
// what was already sent, what was reverted and who was seen sending come in as facts; the
// journal, the tenant and the mail transport are the agent's.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "policies/desired_state.h"
#include "policies/name.h"
#include "policies/time.h"
#include "policies/usage.h"

namespace authgate {

enum class NoticeKind { warning, expired, reverted, unused };
template <>
struct EnumNames<NoticeKind> {
    static constexpr std::array<std::pair<NoticeKind, std::string_view>, 4> table{{{NoticeKind::warning, "warning"},
                                                                                   {NoticeKind::expired, "expired"},
                                                                                   {NoticeKind::reverted, "reverted"},
                                                                                   {NoticeKind::unused, "unused"}}};
};

// When an exception was last seen in use, from the usage evidence.
struct LastUse {
    Instant at{};
    UsageSource source = UsageSource::signin_logs;
};

// What a run knows besides the desired state.
struct NoticeFacts {
    // Mailboxes whose expired exception the tenant no longer grants: reverted by authgate (this run
    // or an earlier one, verified).
    std::set<Name> reverted;
    // The last use of each mailbox that the evidence has seen, at any time.
    std::map<Name, LastUse> last_use;
    // Exceptions unused for [exceptions] unused_days; nullopt when that could not be judged (no
    // setting, or evidence that could not be read in full: unknown is not unused).
    std::optional<std::set<Name>> unused;
};

// One thing one exception's owner should hear. `kind` and `milestone` make it once: a renewed
// exception (another expiry) or a new last use is a new milestone.
struct Notice {
    NoticeKind kind = NoticeKind::warning;
    std::string milestone;
    const Exception* exception = nullptr;  // into the desired state the notices were made from
    long days_left = 0;                    // whole days until expiry; negative once expired
    int threshold = 0;                     // the warn_days threshold crossed (warning)
    std::optional<LastUse> last_use;
};

// Every notice due at `now`, in the desired state's order: for each exception the most urgent of
// reverted (its expiry undone in the tenant), expired, the warn_days threshold crossed, and, for
// an active exception, unused. Nothing when [notifications.email] is not set.
std::vector<Notice> due_notices(const DesiredState& desired, const NoticeFacts& facts, Instant now);

// The journal's key of a notice: "warning 14 days 2027-03-31", "expired 2027-03-31", ...
std::string notice_key(const Notice& notice);

// One owner's message: all of that owner's notices of this run.
struct OwnerMessage {
    std::string to;               // the owner
    std::vector<std::string> cc;  // [notifications.email] cc and each exception's notify, once each
    std::vector<Notice> notices;
    std::string subject;
    std::string text;  // plain text; tenant and desired-state text shown inert
};

// Groups `notices` by owner (addresses compared without regard to case), in the order owners first
// appear, and writes each message. `tenant` names the tenant for people; `max_days` bounds a renewal.
std::vector<OwnerMessage> owner_messages(const std::vector<Notice>& notices, const DesiredState& desired,
                                         const std::string& tenant, Instant now);

// The subject line of one notice: "SMTP AUTH exception for printer@contoso.com expires in 14 days".
std::string notice_headline(const Notice& notice);

}  // namespace authgate
