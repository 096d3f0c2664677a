#pragma once
// Usage evidence: who was seen sending with SMTP AUTH, from which source, and what each source
// could and could not see. Unknown is not absent: a source that could not be read is said so,
// and never taken as "no use".
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policies/name.h"
#include "policies/names.h"
#include "policies/time.h"

namespace authgate {

// Where an observation came from.
//   signin_logs       Entra sign-in logs through Graph (clientAppUsed 'Authenticated SMTP'):
//                     proves Basic SMTP, successes and failures; cannot see OAuth
//   smtp_auth_report  the Exchange admin center's SMTP AUTH clients report, a CSV an admin
//                     exported: messages per sender, Basic or OAuth
//   email_app_report  Graph's email apps usage report: SMTP submission in a period, no protocol
enum class UsageSource { signin_logs, smtp_auth_report, email_app_report };
template <>
struct EnumNames<UsageSource> {
    static constexpr std::array<std::pair<UsageSource, std::string_view>, 3> table{{
        {UsageSource::signin_logs, "signin_logs"},
        {UsageSource::smtp_auth_report, "smtp_auth_report"},
        {UsageSource::email_app_report, "email_app_report"},
    }};
};

// A source as people read it: "sign-in logs", "SMTP AUTH clients report", "email apps report".
std::string_view source_words(UsageSource source);

enum class SmtpProtocol { basic, oauth, unknown };
template <>
struct EnumNames<SmtpProtocol> {
    static constexpr std::array<std::pair<SmtpProtocol, std::string_view>, 3> table{{
        {SmtpProtocol::basic, "basic"},
        {SmtpProtocol::oauth, "oauth"},
        {SmtpProtocol::unknown, "unknown"},
    }};
};

// One sender, from one source, with one protocol, over the source's window.
struct UsageObservation {
    std::string address;  // as the source names it: a UPN or a sender address (lower case)
    std::string user_id;  // the Entra object id, when the source gives it (sign-in logs)
    UsageSource source = UsageSource::signin_logs;
    SmtpProtocol protocol = SmtpProtocol::unknown;
    Instant first_seen{};
    Instant last_seen{};
    long long messages = 0;  // messages sent (the report), or successful sign-ins (the logs)
    long long failures = 0;  // failed sign-ins (the logs)
    std::string last_error;  // the last failure's code and reason, e.g. "50126 invalid credentials"
};

// What one source could see: read or not (and why not, with the fix), over which window.
struct SourceReport {
    UsageSource source = UsageSource::signin_logs;
    bool read = false;
    std::string why_not;  // when not read: what failed and what fixes it
    Instant from{};       // the window the source covers
    Instant to{};
    long long rows = 0;
    std::vector<std::string> notes;  // unrecognised columns, concealed names, a window cut short
};

struct UsageEvidence {
    std::vector<UsageObservation> observations;
    std::vector<SourceReport> sources;

    // Whether any source asked for could not be read: then absence of use proves nothing.
    bool incomplete() const;
    bool empty() const { return sources.empty() && observations.empty(); }
};

// The evidence about one sender, joined from every source: matched to a mailbox on the Entra
// object id (the mailbox's ExternalDirectoryObjectId) first, else on its primary address.
struct MailboxUsage {
    Name mailbox;          // the mailbox's primary address, or the sender's address when no mailbox has it
    bool matched = false;  // a live mailbox is this sender
    std::optional<Instant> last_seen;
    std::optional<UsageSource> last_source;
    long long messages = 0;  // messages sent (the report) and successful Basic sign-ins (the logs)
    long long failures = 0;
    std::string last_error;
    bool basic = false;  // seen using Basic SMTP
    bool oauth = false;  // seen using OAuth SMTP
    std::vector<UsageSource> sources;
};

struct LiveState;

// Every sender seen since `since` (observations whose last sighting is earlier are left out),
// joined to the live mailboxes, by address (case-insensitive), newest first.
std::vector<MailboxUsage> usage_by_sender(const UsageEvidence& evidence, const LiveState& live, Instant since);

// "312 messages with Basic SMTP, last 2026-11-29 (sign-in logs)": one sender's use, for people.
std::string describe(const MailboxUsage& usage, Instant now);

// How many senders were using Basic SMTP on each UTC day from `from`'s day to `to`'s: a sender
// counts on every day from its first sighting to its last (what the journal keeps of it), by
// address, whichever source saw it.
struct DailySenders {
    Instant day{};  // the day's first instant
    long senders = 0;
};
std::vector<DailySenders> basic_senders_by_day(const std::vector<UsageObservation>& observations, Instant from,
                                               Instant to);

// The Exchange admin center's SMTP AUTH clients report, exported as CSV: one observation per
// sender, dated as seen within [from, to] (the file does not state its range). Headers are
// matched without regard to case, spaces or punctuation, with aliases; columns it does not
// know are named in the report's notes. A file that is not the report (no sender or no
// message column) gives read = false, saying why.
struct ReportRead {
    std::vector<UsageObservation> observations;
    SourceReport report;
};
ReportRead read_smtp_auth_report(std::string_view text, const std::string& path, Instant from, Instant to);

}  // namespace authgate
