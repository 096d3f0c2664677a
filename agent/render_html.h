#pragma once
// The migration report: one self-contained HTML page for the people who follow the move off Basic
// SMTP (the messaging lead, their manager, the auditor). It fetches nothing (no script, font,
// style or image from elsewhere), needs no JavaScript, prints to PDF, and draws its charts as
// inline SVG. Every piece of tenant and desired-state text goes through html_escape.
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/plan.h"
#include "policies/usage.h"
#include "state/journal.h"

namespace authgate {

// Text as inert HTML, for a text node or a quoted attribute value alike: & < > " ' become
// character references, and control and reordering characters are shown as escapes (printable).
std::string html_escape(std::string_view text);

// One exception of the desired state, as the report shows it.
struct ReportException {
    std::string mailbox;
    std::string owner;
    std::string reason;
    std::string ticket;       // "" when none
    std::string replacement;  // "" when none
    std::string expires;      // as written
    Instant expires_at{};
    std::optional<Instant> granted_at;  // the grant authgate journalled; nullopt when none is
    ExceptionState state = ExceptionState::active;
    bool unused = false;  // no use seen in [exceptions] unused_days (judged only on complete evidence)
    bool basic_auth = false;
    long days_left = 0;
    std::string last_use;  // what the evidence saw last; "" when nothing
};

// A run of the journal and the changes it made.
struct ReportRun {
    RunRecord run;
    std::vector<JournalChange> changes;  // at most the report's limit
    std::size_t change_count = 0;        // all of them
};

struct MigrationReport {
    std::string tenant;
    Instant generated_at{};   // the command's clock (--at)
    std::string live_source;  // "the tenant" or "snapshot FILE-NAME"
    std::string desired_digest;

    // The org switch (SmtpClientAuthenticationDisabled) and the default authentication policy, as
    // desired (nullopt: not managed) and as live (nullopt: not read); a policy "" is none.
    std::optional<bool> org_disabled_desired;
    std::optional<bool> org_disabled_live;
    std::optional<std::string> default_policy_desired;
    std::optional<std::string> default_policy_live;
    std::size_t plan_changes = 0;
    std::size_t plan_reports = 0;

    std::vector<ReportException> exceptions;
    // Granted by authgate and not reverted, but no longer declared: the plan reverts them.
    std::vector<ExceptionEventRecord> undeclared_grants;
    int warn_days = 0;               // the widest warning window
    std::optional<int> unused_days;  // [exceptions] unused_days
    bool unused_judged = false;      // ... and the evidence was complete enough to judge it

    // Usage, from what the journal kept of every read.
    bool usage_recorded = false;  // the journal holds any usage of the tenant
    std::vector<DailySenders> basic_senders;
    int usage_days = 7;           // the window of evidence (--days)
    long recent_senders = 0;      // Basic SMTP senders seen within it
    long inheriting = -1;         // mailboxes inheriting the org switch once the plan turns it off; -1: not turned off
    std::vector<Cutoff> cutoffs;  // senders without an exception in force whom the plan cuts off
    std::vector<SourceReport> sources;

    bool journal = false;            // a journal was found
    std::vector<DriftRecord> drift;  // open and resolved, at most the report's limit
    std::vector<ReportRun> runs;
};

// How many rows of the long lists the page shows; the rest are counted, and named elsewhere
// (usage, history).
inline constexpr std::size_t report_list_limit = 500;

void render_html(std::ostream& out, const MigrationReport& report);

}  // namespace authgate
