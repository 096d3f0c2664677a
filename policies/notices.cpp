#include "policies/notices.h"

#include <algorithm>
#include <chrono>

#include "policies/lifecycle.h"
#include "policies/printable.h"

namespace authgate {
namespace {

// Whole days, never negative where they are shown: "1 day", "14 days".
std::string days_text(long days) { return counted(static_cast<std::size_t>(days), "day"); }

// What moving off SMTP AUTH means for each replacement path.
std::string migration_text(const Exception& exception) {
    if (!exception.replacement)
        return "choose its replacement (oauth, hve, acs, relay, direct-send or retire), write it in the entry as "
               "replacement = \"...\", and move the sender there";
    switch (*exception.replacement) {
        case Replacement::oauth: return "move the sender to OAuth for SMTP (SASL XOAUTH2) or to Microsoft Graph";
        case Replacement::hve: return "move the sender to High Volume Email (smtp.hve.mx.microsoft, port 587)";
        case Replacement::acs: return "move the sender to Azure Communication Services Email";
        case Replacement::relay: return "send through an SMTP relay (an inbound connector) instead of SMTP AUTH";
        case Replacement::direct_send:
            return "send with Direct Send to the domain's MX endpoint (internal recipients only)";
        case Replacement::retire: return "retire the sender";
    }
    return "move the sender off SMTP AUTH";
}

std::string where(const SourceLocation& source) {
    return source.known() ? printable(source.file) + ", line " + std::to_string(source.line) : "the desired state";
}

// The message lines about one notice.
std::string section(const Notice& notice, const DesiredState& desired, Instant now) {
    const Exception& exception = *notice.exception;
    std::string text = notice_headline(notice) + "\n\n";
    const auto line = [&](std::string_view label, const std::string& value) {
        text += "  " + std::string(label) + std::string(13 - label.size(), ' ') + value + "\n";
    };
    line("Mailbox:", printable(exception.mailbox.text()));
    line("Owner:", printable(exception.owner));
    line("Reason:", printable(exception.reason));
    line("Ticket:", exception.ticket ? printable(*exception.ticket) : "none");
    const std::string expires = printable(exception.expires_text);
    if (notice.days_left >= 0) line("Expires:", expires + " (" + days_text(notice.days_left) + " left)");
    else line("Expired:", expires + " (" + days_text((now - exception.expires) / std::chrono::hours(24)) + " ago)");
    if (notice.last_use)
        line("Last use:",
             format_date(notice.last_use->at) + " (" + std::string(source_words(notice.last_use->source)) + ")");
    else if (notice.kind == NoticeKind::unused)
        line("Last use:", "none seen in " + days_text(desired.exception_settings.unused_days->value));
    else line("Last use:", "not known");
    line("Replacement:", exception.replacement ? std::string(to_string(*exception.replacement)) : "not chosen");
    text += "\nWhat to do:\n";
    const std::string file = where(exception.expires_source.known() ? exception.expires_source : exception.source);
    const std::string latest = format_date(now + std::chrono::hours(24) * desired.exception_settings.max_days);
    switch (notice.kind) {
        case NoticeKind::warning:
        case NoticeKind::expired:
            text += "  - To migrate: " + migration_text(exception) + "; then remove the entry at " +
                    where(exception.source) + ".\n";
            text += "  - To renew: change 'expires' in " + file + " (at the latest " + latest +
                    ") in a reviewed change.\n";
            if (notice.kind == NoticeKind::expired)
                text += "  Until then authgate reverts the mailbox to the organisation's setting, which turns SMTP "
                        "AUTH off for it.\n";
            break;
        case NoticeKind::reverted:
            text += "  - The mailbox now inherits the organisation's setting: SMTP AUTH is off for it.\n";
            text += "  - If it still has to send: " + migration_text(exception) + ".\n";
            text += "  - Or, only if it cannot move yet, renew the exception in " + file + " (at the latest " + latest +
                    ") in a reviewed change.\n";
            text += "  - Once nothing needs it, remove the entry at " + where(exception.source) + ".\n";
            break;
        case NoticeKind::unused:
            text += "  - If the sender has moved on, remove the entry at " + where(exception.source) +
                    ": an unused exception is an open door.\n";
            text += "  - If it is still needed, check that it really sends through this mailbox.\n";
            break;
    }
    return text;
}

void add_unique(std::vector<std::string>& list, const std::string& address, const std::string& except) {
    if (equals_ignoring_case(address, except)) return;
    if (std::none_of(list.begin(), list.end(),
                     [&](const std::string& known) { return equals_ignoring_case(known, address); }))
        list.push_back(address);
}

}  // namespace

std::vector<Notice> due_notices(const DesiredState& desired, const NoticeFacts& facts, Instant now) {
    std::vector<Notice> notices;
    if (!desired.notifications.email || !desired.smtp_auth) return notices;
    for (const Exception& exception : desired.smtp_auth->exceptions) {
        if (exception.owner == unknown_owner) continue;  // no one to tell yet; validation warns
        Notice notice;
        notice.exception = &exception;
        notice.days_left = days_left(exception, now);
        if (const auto use = facts.last_use.find(exception.mailbox); use != facts.last_use.end())
            notice.last_use = use->second;
        const std::string expires = exception.expires_text;
        if (exception.expires <= now) {
            const bool reverted = facts.reverted.count(exception.mailbox) > 0;
            notice.kind = reverted ? NoticeKind::reverted : NoticeKind::expired;
            notice.milestone = expires;
        } else if (const auto threshold = crossed_threshold(exception, desired.exception_settings, now)) {
            notice.kind = NoticeKind::warning;
            notice.threshold = *threshold;
            notice.milestone = std::to_string(*threshold) + " days " + expires;
        } else if (facts.unused && facts.unused->count(exception.mailbox)) {
            notice.kind = NoticeKind::unused;
            // Once per expiry and last use: used again, then unused again, is news.
            notice.milestone = expires + " last used " +
                               (notice.last_use ? format_instant(notice.last_use->at) : std::string("never"));
        } else {
            continue;
        }
        notices.push_back(std::move(notice));
    }
    return notices;
}

std::string notice_key(const Notice& notice) { return std::string(to_string(notice.kind)) + " " + notice.milestone; }

std::string notice_headline(const Notice& notice) {
    const std::string mailbox = printable(notice.exception->mailbox.text());
    switch (notice.kind) {
        case NoticeKind::warning:
            return "SMTP AUTH exception for " + mailbox + " expires in " + days_text(notice.days_left);
        case NoticeKind::expired: return "SMTP AUTH exception for " + mailbox + " has expired";
        case NoticeKind::reverted:
            return "SMTP AUTH exception for " + mailbox +
                   " expired and was removed: the mailbox can no longer use "
                   "SMTP AUTH";
        case NoticeKind::unused: return "SMTP AUTH exception for " + mailbox + " is not being used";
    }
    return "SMTP AUTH exception for " + mailbox;
}

std::vector<OwnerMessage> owner_messages(const std::vector<Notice>& notices, const DesiredState& desired,
                                         const std::string& tenant, Instant now) {
    std::vector<OwnerMessage> messages;
    if (!desired.notifications.email) return messages;
    for (const Notice& notice : notices) {
        const std::string& owner = notice.exception->owner;
        auto message = std::find_if(messages.begin(), messages.end(),
                                    [&](const OwnerMessage& known) { return equals_ignoring_case(known.to, owner); });
        if (message == messages.end()) {
            messages.push_back({owner, {}, {}, {}, {}});
            message = std::prev(messages.end());
        }
        message->notices.push_back(notice);
    }
    for (OwnerMessage& message : messages) {
        for (const std::string& cc : desired.notifications.email->cc) add_unique(message.cc, cc, message.to);
        for (const Notice& notice : message.notices)
            for (const std::string& extra : notice.exception->notify) add_unique(message.cc, extra, message.to);
        const std::size_t count = message.notices.size();
        message.subject = count == 1 ? notice_headline(message.notices.front())
                                     : std::to_string(count) + " SMTP AUTH exceptions you own need attention";
        std::string& text = message.text;
        text = "You are named as the owner of " +
               std::string(count == 1 ? "an SMTP AUTH exception" : std::to_string(count) + " SMTP AUTH exceptions") +
               " in the Exchange Online tenant " + printable(tenant) +
               ". Microsoft turns SMTP AUTH with Basic authentication off by default; each exception is a "
               "named, expiring permission for one mailbox to keep using it.\n";
        for (const Notice& notice : message.notices)
            text += "\n" + std::string(70, '-') + "\n" + section(notice, desired, now);
        text += "\n" + std::string(70, '-') +
                "\nThis notice is sent once; the desired state in the repository is the record. Changes to it are "
                "reviewed before they reach the tenant.\n";
    }
    return messages;
}

}  // namespace authgate
