#pragma once
// Owner notices by e-mail ([notifications.email]): what is due (policies/notices), less what the
// journal says was sent, checked against the tenant's recipients, sent through the session's mail
// transport and recorded, each notice once. A failed send is recorded, warned about and tried
// again by the next run; it never fails the run.
#include <iosfwd>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/connection.h"
#include "agent/log.h"
#include "policies/desired_state.h"
#include "policies/notices.h"
#include "policies/usage.h"
#include "state/journal.h"

namespace authgate {

struct NoticeRun {
    const DesiredState& desired;
    Journal& journal;
    std::string tenant;       // the journal's key of the tenant
    std::string tenant_name;  // as people call it
    long long run_id = 0;     // the run that sends; 0 when none (authgate notify)
    Instant now{};
};

// The facts the notices are judged by: the reverts the journal holds (and `reverted_now`, this
// run's), the last use and the unused exceptions from `evidence` (nullopt: unknown) against `live`.
NoticeFacts notice_facts(const NoticeRun& run, const LiveState* live, const std::optional<UsageEvidence>& evidence,
                         const std::set<Name>& reverted_now = {});

// The messages due now: the notices not sent yet, grouped by owner.
std::vector<OwnerMessage> due_messages(const NoticeRun& run, const NoticeFacts& facts);

// What Exchange knows of each address of `messages`: found (with its type), not found (the notice
// would bounce), or unknown (the lookup failed: then every address is kept).
struct RecipientCheck {
    std::map<std::string, Recipient> found;  // by the address as written, lower case
    std::set<std::string> missing;
    std::optional<std::string> failed;  // why the lookup could not be made
    bool known(const std::string& address) const;
};
RecipientCheck check_recipients(const std::vector<OwnerMessage>& messages, TenantConnector& connector);

struct NoticeOutcome {
    int messages = 0;  // sent
    int notices = 0;   // in the messages sent
    int failed = 0;    // messages not sent (tried again next run)
};

// Sends each message through `transport` as [notifications.email] sender, records every notice
// (sent or failed) in the journal, and logs each failure with what to do. Recipients Exchange
// does not know are left out and reported; a message with no recipient left is not sent.
NoticeOutcome send_messages(const NoticeRun& run, const std::vector<OwnerMessage>& messages,
                            const RecipientCheck& recipients, MailTransport& transport, Logger& logger);

// The whole of it for a run that has read the tenant: facts, due messages, recipients, send.
// Never throws for a failure to notify (it is logged).
NoticeOutcome notify_owners(const NoticeRun& run, TenantSession& session, const LiveState* live,
                            const std::optional<UsageEvidence>& evidence, const std::set<Name>& reverted_now,
                            Logger& logger);

// authgate notify --dry-run: who would get what, and which addresses would bounce.
void render_due_messages(std::ostream& out, const std::vector<OwnerMessage>& messages, const RecipientCheck& recipients,
                         const EmailNotifications& email, std::size_t already_sent);

}  // namespace authgate
