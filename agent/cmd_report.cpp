// report: the migration as one self-contained HTML page, for the people who will not read TOML, a
// plan or the history: the org switch and default policy, the exceptions on a timeline, the Basic
// SMTP senders over time and whom the plan cuts off, drift, and the last runs.
#include <filesystem>
#include <ostream>
#include <unordered_map>

#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/files.h"
#include "agent/log.h"
#include "agent/options.h"
#include "agent/render_html.h"
#include "agent/state_options.h"
#include "agent/usage_evidence.h"
#include "connectors/snapshot.h"
#include "policies/files.h"
#include "policies/impact.h"
#include "policies/lifecycle.h"
#include "policies/planner.h"
#include "policies/printable.h"
#include "state/journal.h"

namespace authgate {
namespace {

constexpr int report_runs = 10;
constexpr std::size_t changes_per_run = 50;

std::vector<ReportException> exceptions_of(const DesiredState& desired, const Plan& plan, const LiveState& live,
                                           const std::optional<UsageEvidence>& evidence, const Journal* journal,
                                           const std::string& key, Instant now) {
    std::vector<ReportException> result;
    if (!desired.smtp_auth) return result;
    // The latest grant authgate journalled of each mailbox.
    std::unordered_map<Name, Instant> granted;
    if (journal)
        for (const ExceptionEventRecord& event : journal->exception_events(key))
            if (event.event == ExceptionEvent::granted) granted[Name(event.mailbox)] = event.at;
    // The last use of each sender, over all the evidence kept.
    std::unordered_map<Name, std::string> last_use;
    if (evidence)
        for (const MailboxUsage& sender : usage_by_sender(*evidence, live, Instant{}))
            last_use.emplace(sender.mailbox, describe(sender, now));
    for (const Exception& exception : desired.smtp_auth->exceptions) {
        ReportException shown;
        shown.mailbox = exception.mailbox.text();
        shown.owner = exception.owner;
        shown.reason = exception.reason;
        shown.ticket = exception.ticket.value_or("");
        shown.replacement = exception.replacement ? std::string(to_string(*exception.replacement)) : "";
        shown.expires = exception.expires_text;
        shown.expires_at = exception.expires;
        shown.state = state_at(exception, desired.exception_settings, now);
        shown.days_left = days_left(exception, now);
        shown.basic_auth = exception.basic_auth;
        if (const auto found = granted.find(exception.mailbox); found != granted.end())
            shown.granted_at = found->second;
        if (const auto found = last_use.find(exception.mailbox); found != last_use.end())
            shown.last_use = found->second;
        // Unused as the plan judged it ([exceptions] unused_days, on complete evidence only).
        for (const Diagnostic& warning : plan.warnings)
            if (warning.code == "exception_unused" && warning.source.file == exception.source.file &&
                warning.source.line == exception.source.line && warning.source.column == exception.source.column)
                shown.unused = true;
        result.push_back(std::move(shown));
    }
    return result;
}

}  // namespace

int run_report(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("out", po::value<std::string>(), "the HTML file to write (required)")(
        "snapshot", po::value<std::string>(), "read the live state from this snapshot file instead of the tenant")(
        "at", po::value<std::string>(), "report as at this time (RFC 3339), not now");
    add_usage_options(options, false);
    add_connection_options(options);
    add_state_option(options);
    const auto values =
        parse_options(context, options,
                      "authgate report -c PATH... --out FILE.html [--snapshot FILE] [--state PATH|URI] [--at TIME]");
    if (!values) return exit_ok;
    if (!values->count("out")) throw UsageError("--out FILE.html is required: the report is a file");
    const std::string out_path = (*values)["out"].as<std::string>();
    // Said before the tenant is read, which can take minutes: the page would have nowhere to go.
    if (const auto folder = std::filesystem::path(out_path).parent_path();
        !folder.empty() && !std::filesystem::is_directory(folder))
        throw FileError("cannot write", out_path, "No such file or directory");
    const CommandClock clock(*values, context.clock);
    const Instant now = clock.now();
    Logger logger = make_logger(*values, context, clock);

    // 1. The desired state, checked before anything is read.
    CheckedDesiredState checked = load_and_validate(desired_state_paths(*values), now);
    if (checked.diagnostics.has_errors()) {
        print_diagnostics(context.err, checked.diagnostics);
        return exit_error;
    }

    // 2. The live state, from a snapshot or the tenant; a part that cannot be read fails the report.
    const Environment environment = process_environment();
    ConnectionSettings settings = gather_connection(*values, checked.state, environment);
    LiveState live;
    std::optional<std::string> tenant_id;
    std::unique_ptr<TenantSession> session;
    std::string live_source = "the tenant";
    try {
        if (values->count("snapshot")) {
            const std::string snapshot = (*values)["snapshot"].as<std::string>();
            live = SnapshotConnector(snapshot).read_live_state();
            live_source = "snapshot " + std::filesystem::path(snapshot).filename().string();
        } else {
            settings = resolve_connection(*values, checked.state, environment);
            session = open_tenant(settings, environment, context.clock);
            live = read_tenant(*session, logger);
            tenant_id = fold_case(session->tenant_id());
        }
    } catch (const ConnectorError& error) {
        report_unreadable(context.err, error, "no report is written");
        return exit_error;
    }

    // 3. The plan and its impact on the senders, as plan judges them, from what the journal holds.
    auto journal = Journal::open_existing(state_path(*values));
    const std::string name = checked.state.tenant ? checked.state.tenant->id : settings.tenant;
    // The journal's key of the tenant, as plan finds it: the GUID the sign-in names (records made
    // under the name move to it), else the key a run learnt for the name.
    std::string key = name;
    if (journal && tenant_id) {
        journal->adopt_tenant(name, *tenant_id);
        key = *tenant_id;
    } else if (journal) {
        key = journal->key_of(name);
    }
    PlanResult result = make_plan(checked.state, live, now, journal ? journal->plan_history(key) : PlanHistory{});
    if (result.diagnostics.has_errors()) {
        print_diagnostics(context.err, result.diagnostics);
        return exit_error;
    }
    Plan& plan = result.plan;
    const UsageOptions usage = usage_options(*values);
    const auto evidence = plan_evidence(checked.state, usage, session.get(), now, journal ? &*journal : nullptr, key,
                                        &logger);
    if (evidence) judge_usage(plan, checked.state, live, *evidence, now, usage);
    else  // who inherits the org switch is known without evidence; who of them sends is not
        plan.usage = assess_impact(plan, checked.state, live, UsageEvidence{}, now, {usage.days, false});

    // 4. The page's model.
    MigrationReport report;
    report.tenant = name;
    report.generated_at = now;
    report.live_source = live_source;
    report.desired_digest = checked.state.digest;
    if (checked.state.smtp_auth && checked.state.smtp_auth->org_disabled)
        report.org_disabled_desired = checked.state.smtp_auth->org_disabled->value;
    report.org_disabled_live = live.org_smtp_auth_disabled;
    if (checked.state.organization && checked.state.organization->default_authentication_policy)
        report.default_policy_desired = checked.state.organization->default_authentication_policy->value;
    if (live.organization)
        report.default_policy_live = live.organization->default_authentication_policy
                                         ? live.organization->default_authentication_policy->text()
                                         : "";
    report.plan_changes = plan.change_count();
    report.plan_reports = plan.report_count();
    report.exceptions = exceptions_of(checked.state, plan, live, evidence, journal ? &*journal : nullptr, key, now);
    report.warn_days = checked.state.exception_settings.max_warn_days();
    if (checked.state.exception_settings.unused_days) {
        report.unused_days = checked.state.exception_settings.unused_days->value;
        report.unused_judged = evidence &&
                               std::none_of(plan.warnings.begin(), plan.warnings.end(),
                                            [](const Diagnostic& warning) { return warning.code == "unused_unknown"; });
    }
    report.usage_recorded = evidence.has_value();
    if (plan.usage) {
        report.sources = plan.usage->sources;
        std::unordered_map<Name, bool> listed;
        for (const ChangeImpact& impact : plan.usage->impacts) {
            if (impact.inheriting >= 0) report.inheriting = impact.inheriting;
            for (const Cutoff& cutoff : impact.cutoffs)
                if (listed.emplace(cutoff.mailbox, true).second) report.cutoffs.push_back(cutoff);
        }
    }
    if (journal) {
        report.journal = true;
        // The burn-down: from the first Basic sighting kept (at most a year back) to now.
        const auto kept = journal->usage(key);
        Instant first = now;
        std::unordered_map<Name, bool> recent;
        for (const UsageObservation& seen : kept) {
            if (seen.protocol != SmtpProtocol::basic) continue;
            first = std::min(first, seen.first_seen);
            if (seen.last_seen >= now - std::chrono::hours(24) * usage.days) recent.emplace(Name(seen.address), true);
        }
        report.usage_days = usage.days;
        report.recent_senders = static_cast<long>(recent.size());
        if (first < now)
            report.basic_senders = basic_senders_by_day(kept, std::max(first, now - std::chrono::hours(24 * 365)), now);
        for (ExceptionEventRecord& grant : journal->granted_exceptions(key))
            if (!checked.state.find_exception(grant.mailbox)) report.undeclared_grants.push_back(std::move(grant));
        report.drift = journal->drift_history(key, static_cast<int>(report_list_limit));
        for (RunRecord& run : journal->runs(report_runs, key)) {
            auto changes = journal->changes_of(run.id);
            ReportRun entry{std::move(run), std::move(changes), 0};
            entry.change_count = entry.changes.size();
            if (entry.changes.size() > changes_per_run) entry.changes.resize(changes_per_run);
            report.runs.push_back(std::move(entry));
        }
    }

    // 5. The page, written aside and renamed into place.
    write_file_atomically(out_path, [&](std::ostream& out) { render_html(out, report); });
    context.out << "Wrote the report of " << report.exceptions.size() << " exceptions to " << printable(out_path)
                << ".\n";
    return exit_ok;
}

}  // namespace authgate
