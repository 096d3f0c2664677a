#include "agent/owner_notices.h"

#include <algorithm>
#include <ostream>

#include "policies/impact.h"
#include "policies/name.h"
#include "policies/printable.h"

namespace authgate {
namespace {

std::string joined(const std::vector<std::string>& addresses) {
    std::string text;
    for (const std::string& address : addresses) text += (text.empty() ? "" : ", ") + address;
    return text;
}

}  // namespace

bool RecipientCheck::known(const std::string& address) const { return !missing.count(fold_case(address)); }

NoticeFacts notice_facts(const NoticeRun& run, const LiveState* live, const std::optional<UsageEvidence>& evidence,
                         const std::set<Name>& reverted_now) {
    NoticeFacts facts;
    facts.reverted = reverted_now;
    if (run.desired.smtp_auth) {
        const std::map<std::string, Instant> reverted = run.journal.reverted_mailboxes(run.tenant);
        // A revert counts for the exception's current expiry only: one renewed since is not reverted.
        for (const Exception& exception : run.desired.smtp_auth->exceptions)
            if (const auto found = reverted.find(fold_case(exception.mailbox.text()));
                found != reverted.end() && found->second >= exception.expires)
                facts.reverted.insert(exception.mailbox);
    }
    if (evidence) {
        const LiveState none;
        const LiveState& joined_to = live ? *live : none;
        for (const MailboxUsage& sender : usage_by_sender(*evidence, joined_to, Instant{}))
            if (sender.last_seen && sender.last_source)
                facts.last_use.emplace(sender.mailbox, LastUse{*sender.last_seen, *sender.last_source});
        facts.unused = unused_exceptions(run.desired, joined_to, *evidence, run.now);
    }
    return facts;
}

std::vector<OwnerMessage> due_messages(const NoticeRun& run, const NoticeFacts& facts) {
    std::vector<Notice> due = due_notices(run.desired, facts, run.now);
    const std::set<std::string> sent = run.journal.sent_notices(run.tenant);
    std::erase_if(due, [&](const Notice& notice) {
        return sent.count(Journal::notice_id(notice.exception->mailbox, notice_key(notice))) > 0;
    });
    return owner_messages(due, run.desired, run.tenant_name, run.now);
}

RecipientCheck check_recipients(const std::vector<OwnerMessage>& messages, TenantConnector& connector) {
    RecipientCheck check;
    std::set<std::string> addresses;
    for (const OwnerMessage& message : messages) {
        addresses.insert(fold_case(message.to));
        for (const std::string& cc : message.cc) addresses.insert(fold_case(cc));
    }
    try {
        for (const std::string& address : addresses) {
            if (auto recipient = connector.find_recipient(address)) check.found.emplace(address, std::move(*recipient));
            else check.missing.insert(address);
        }
    } catch (const ConnectorError& error) {
        // Unknown is not absent: every address is kept.
        check.found.clear();
        check.missing.clear();
        check.failed = error.what();
    }
    return check;
}

NoticeOutcome send_messages(const NoticeRun& run, const std::vector<OwnerMessage>& messages,
                            const RecipientCheck& recipients, MailTransport& transport, Logger& logger) {
    NoticeOutcome outcome;
    const EmailNotifications& email = *run.desired.notifications.email;
    if (recipients.failed)
        logger.warn("notice", "the owners' addresses could not be checked; the notices are sent as written",
                    {{"error", *recipients.failed}});
    for (const OwnerMessage& owner : messages) {
        MailMessage message;
        message.from = email.sender;
        message.subject = owner.subject;
        message.text = owner.text;
        for (const std::string& address : owner.cc)
            if (recipients.known(address)) message.cc.push_back(address);
        std::string error;
        if (recipients.known(owner.to)) {
            message.to.push_back(owner.to);
        } else if (!message.cc.empty()) {
            // The owner's address bounces: the others on the message still hear of it.
            message.to.push_back(message.cc.front());
            message.cc.erase(message.cc.begin());
        }
        for (const std::string& address : owner.cc)
            if (!recipients.known(address))
                logger.warn("notice",
                            "no recipient in the tenant has this address: a notice to it would bounce; fix the "
                            "address in the desired state",
                            {{"address", printable(address)}, {"owner", printable(owner.to)}});
        if (!recipients.known(owner.to))
            logger.warn("notice",
                        "the owner's address is no mailbox or group of the tenant: a notice to it would bounce; "
                        "name an owner who can be reached",
                        {{"owner", printable(owner.to)}, {"exceptions", std::to_string(owner.notices.size())}});
        std::vector<std::string> all = message.to;
        all.insert(all.end(), message.cc.begin(), message.cc.end());
        bool sent = false;
        if (message.to.empty()) {
            error = "no recipient of the tenant has the owner's address " + printable(owner.to);
        } else {
            message.message_id = make_message_id(email.sender);
            message.headers.emplace_back("X-Authgate-Tenant", run.tenant_name);
            try {
                transport.send(message);
                sent = true;
            } catch (const MailError& failure) {
                error = failure.what();
            } catch (const ConnectorError& failure) {
                error = failure.what();
            }
        }
        for (const Notice& notice : owner.notices)
            run.journal.record_notice({run.run_id, run.tenant, notice.exception->mailbox, notice_key(notice), owner.to,
                                       joined(all), transport.name(), sent, sent ? message.message_id : "", 1, error,
                                       run.now});
        if (sent) {
            ++outcome.messages;
            outcome.notices += static_cast<int>(owner.notices.size());
            logger.info("notice", "owner notified",
                        {{"owner", printable(owner.to)},
                         {"notices", std::to_string(owner.notices.size())},
                         {"transport", transport.name()},
                         {"message_id", message.message_id}});
        } else {
            ++outcome.failed;
            logger.warn("notice", "an owner notice was not sent; the next run tries again",
                        {{"owner", printable(owner.to)}, {"transport", transport.name()}, {"error", error}});
        }
    }
    return outcome;
}

NoticeOutcome notify_owners(const NoticeRun& run, TenantSession& session, const LiveState* live,
                            const std::optional<UsageEvidence>& evidence, const std::set<Name>& reverted_now,
                            Logger& logger) {
    if (!run.desired.notifications.email) return {};
    try {
        const std::vector<OwnerMessage> messages = due_messages(run, notice_facts(run, live, evidence, reverted_now));
        if (messages.empty()) return {};
        const RecipientCheck recipients = check_recipients(messages, session.connector());
        return send_messages(run, messages, recipients, session.mail(*run.desired.notifications.email), logger);
    } catch (const std::exception& error) {
        // A courtesy, never the run's failure: the journal has the facts, and the next run tries again.
        logger.warn("notice", "owner notices could not be sent; the next run tries again", {{"error", error.what()}});
        return {};
    }
}

void render_due_messages(std::ostream& out, const std::vector<OwnerMessage>& messages, const RecipientCheck& recipients,
                         const EmailNotifications& email, std::size_t already_sent) {
    out << "Owner notices due now, by " << to_string(email.transport) << " as " << printable(email.sender) << ": "
        << counted(messages.size(), "message") << "\n";
    if (recipients.failed) out << "  (the addresses could not be checked: " << *recipients.failed << ")\n";
    const auto shown = [&](const std::string& address) {
        std::string text = printable(address);
        if (const auto found = recipients.found.find(fold_case(address)); found != recipients.found.end())
            text += " (" + printable(found->second.type) + ")";
        else if (!recipients.known(address)) text += " (no such recipient in the tenant: would bounce)";
        return text;
    };
    for (const OwnerMessage& message : messages) {
        out << "\n  To " << shown(message.to) << "\n";
        for (const std::string& cc : message.cc) out << "  Cc " << shown(cc) << "\n";
        out << "  Subject: " << message.subject << "\n";
        for (const Notice& notice : message.notices)
            out << "    - " << notice_headline(notice) << " [" << printable(notice_key(notice)) << "]\n";
    }
    if (already_sent > 0)
        out << "\n"
            << counted(already_sent, "notice") << (already_sent == 1 ? " was" : " were")
            << " sent before and will not be sent again.\n";
}

}  // namespace authgate
