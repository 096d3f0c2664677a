// usage: who really sends with SMTP AUTH (Basic or OAuth), from which source, joined to the
// mailbox, its exception or deny entry, and what the desired state's plan does to it.
#include <ostream>
#include <unordered_map>

#include "agent/apply_run.h"
#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/entra_evidence.h"
#include "agent/json_output.h"
#include "agent/options.h"
#include "agent/render.h"
#include "agent/state_options.h"
#include "agent/usage_evidence.h"
#include "policies/lifecycle.h"
#include "policies/planner.h"
#include "policies/printable.h"

namespace authgate {
namespace {

// One sender as the report shows it.
struct SenderRow {
    MailboxUsage usage;
    std::string standing;  // its exception, deny entry, or none
    std::string plan;      // what the plan does to it
    bool cut_off = false;
};

std::string standing_of(const DesiredState& desired, const MailboxUsage& usage, Instant now) {
    if (!usage.matched) return "no mailbox has this address";
    if (desired.smtp_auth) {
        for (const Exception& exception : desired.smtp_auth->exceptions) {
            if (!(exception.mailbox == usage.mailbox)) continue;
            const ExceptionState state = state_at(exception, desired.exception_settings, now);
            std::string text = "exception " + std::string(to_string(state)) + " (owner " + exception.owner + ", ";
            text += state == ExceptionState::expired
                        ? "expired " + exception.expires_text
                        : std::to_string(days_left(exception, now)) +
                              (days_left(exception, now) == 1 ? " day left" : " days left");
            return text + (exception.basic_auth ? ", basic_auth" : "") + ")";
        }
        for (const auto& denied : desired.smtp_auth->deny)
            if (Name(denied.value) == usage.mailbox) return "denied";
    }
    return "no exception";
}

std::vector<SenderRow> rows_of(const std::vector<MailboxUsage>& senders, const DesiredState& desired, const Plan& plan,
                               Instant now) {
    std::unordered_map<Name, std::string> cut;
    if (plan.usage)
        for (const ChangeImpact& impact : plan.usage->impacts)
            for (const Cutoff& cutoff : impact.cutoffs)
                cut[cutoff.mailbox] = std::string(cutoff.basic_only ? "loses Basic SMTP: " : "cut off: ") +
                                      describe(plan.changes.at(impact.change)) +
                                      (cutoff.accepted ? " (accepted: " + *cutoff.accepted + ")" : "");
    const bool org_off = desired.smtp_auth && desired.smtp_auth->org_disabled && desired.smtp_auth->org_disabled->value;
    std::vector<SenderRow> rows;
    for (const MailboxUsage& usage : senders) {
        SenderRow row{usage, standing_of(desired, usage, now), "", false};
        if (const auto found = cut.find(usage.mailbox); found != cut.end()) {
            row.plan = found->second;
            row.cut_off = true;
        } else if (!usage.matched) {
            row.plan = "-";
        } else if (row.standing == "no exception" && org_off) {
            row.plan = "keeps SMTP AUTH only while its own override lasts";
        } else {
            row.plan = "no change";
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

// The basic_auth exceptions Entra refuses, a line each (in Markdown, an inert code span).
void render_entra(std::ostream& out, const Diagnostics& entra, bool markdown) {
    if (entra.empty()) return;
    out << (markdown ? "\n### basic_auth exceptions Entra refuses\n\n" : "\nbasic_auth exceptions Entra refuses:\n");
    for (const Diagnostic& warning : entra.all()) {
        std::string text = printable(format(warning));
        if (!markdown) {
            out << "  - " << text << "\n";
            continue;
        }
        std::replace(text.begin(), text.end(), '`', '\'');
        out << "- `" << text << "`\n";
    }
}

void render_text(std::ostream& out, const std::vector<SenderRow>& rows, const PlanUsage& usage, Instant now) {
    out << "Senders seen using SMTP AUTH in the last " << usage.days << " days: " << rows.size() << "\n";
    for (const SenderRow& row : rows) {
        out << "\n  " << printable(row.usage.mailbox.text()) << "\n"
            << "      " << printable(describe(row.usage, now)) << "\n"
            << "      " << printable(row.standing) << "; plan: " << printable(row.plan) << "\n";
        if (!row.usage.last_error.empty()) out << "      last failure: " << printable(row.usage.last_error) << "\n";
    }
    out << "\nSources:\n";
    for (const SourceReport& source : usage.sources) out << "  - " << describe(source) << "\n";
    if (usage.sources.empty()) out << "  - none was read\n";
}

void render_markdown(std::ostream& out, const std::vector<SenderRow>& rows, const PlanUsage& usage, Instant now) {
    const auto cell = [](const std::string& text) {
        std::string shown;
        for (const char c : printable(text))
            shown += c == '|' ? std::string("\\|") : c == '`' ? std::string("'") : std::string(1, c);
        return "`" + shown + "`";
    };
    out << "### SMTP AUTH senders, last " << usage.days << " days\n\n"
        << "| sender | use | standing | plan |\n|---|---|---|---|\n";
    for (const SenderRow& row : rows)
        out << "| " << cell(row.usage.mailbox.text()) << " | " << cell(describe(row.usage, now)) << " | "
            << cell(row.standing) << " | " << (row.cut_off ? "**" : "") << cell(row.plan) << (row.cut_off ? "**" : "")
            << " |\n";
    out << "\n";
    for (const SourceReport& source : usage.sources) out << "- " << cell(describe(source)) << "\n";
}

void render_json(std::ostream& out, const std::vector<SenderRow>& rows, const PlanUsage& usage,
                 const Diagnostics& entra) {
    using web::json::value;
    value report = value::object(true);
    report["days"] = value::number(usage.days);
    value senders = value::array();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const SenderRow& row = rows[i];
        value entry = value::object(true);
        entry["sender"] = value::string(row.usage.mailbox);
        entry["mailbox"] = value::boolean(row.usage.matched);
        entry["basic"] = value::boolean(row.usage.basic);
        entry["oauth"] = value::boolean(row.usage.oauth);
        entry["messages"] = value::number(static_cast<int64_t>(row.usage.messages));
        entry["failures"] = value::number(static_cast<int64_t>(row.usage.failures));
        entry["last_error"] = value::string(row.usage.last_error);
        entry["last_seen"] = row.usage.last_seen ? value::string(format_instant(*row.usage.last_seen)) : value::null();
        value sources = value::array();
        for (std::size_t s = 0; s < row.usage.sources.size(); ++s)
            sources[s] = value::string(std::string(to_string(row.usage.sources[s])));
        entry["sources"] = sources;
        entry["standing"] = value::string(row.standing);
        entry["plan"] = value::string(row.plan);
        entry["cut_off"] = value::boolean(row.cut_off);
        senders[i] = entry;
    }
    report["senders"] = senders;
    value sources = value::array();
    for (std::size_t i = 0; i < usage.sources.size(); ++i) sources[i] = source_to_json(usage.sources[i]);
    report["sources"] = sources;
    value warnings = value::array();
    for (std::size_t i = 0; i < entra.all().size(); ++i) {
        const Diagnostic& warning = entra.all()[i];
        value entry = value::object(true);
        entry["code"] = value::string(warning.code);
        entry["message"] = value::string(warning.message);
        entry["file"] = value::string(warning.source.file);
        entry["line"] = value::number(warning.source.line);
        warnings[i] = entry;
    }
    report["entra_warnings"] = warnings;
    write_json(out, report);
}

}  // namespace

int run_usage(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("format", po::value<std::string>(), "text (default), markdown or json")(
        "no-graph", "read no Graph source (only --smtp-auth-report and the journal)");
    add_usage_options(options, false);
    add_connection_options(options);
    add_state_option(options);
    const auto values = parse_options(context, options,
                                      "authgate usage -c PATH... [--days N] [--smtp-auth-report FILE.csv] "
                                      "[--format text|json|markdown]");
    if (!values) return exit_ok;
    const Instant now = context.clock.now();
    Logger logger = make_logger(*values, context, context.clock);
    const ReportFormat format = report_format(*values);
    UsageOptions usage_settings = usage_options(*values);
    usage_settings.graph = values->count("no-graph") == 0;

    CheckedDesiredState checked = load_and_validate(desired_state_paths(*values), now);
    if (checked.diagnostics.has_errors()) {
        print_diagnostics(context.err, checked.diagnostics);
        return exit_error;
    }
    const Environment environment = process_environment();
    const ConnectionSettings settings = resolve_connection(*values, checked.state, environment);
    Journal journal = Journal::open(state_path(*values));
    std::unique_ptr<TenantSession> session;
    LiveState live;
    std::string key;
    try {
        session = open_tenant(settings, environment, context.clock);
        key = tenant_key(*session, checked.state.tenant ? checked.state.tenant->id : settings.tenant, journal);
        live = read_tenant(*session, logger);
    } catch (const ConnectorError& error) {
        report_unreadable(context.err, error, "no usage was read");
        return exit_error;
    }
    const UsageEvidence evidence = gather_usage(session.get(), usage_settings, now, &journal, key, &logger);

    // What the desired state does to each sender: the plan, joined to the evidence.
    PlanResult planned = make_plan(checked.state, live, now, journal.plan_history(key));
    Plan& plan = planned.plan;
    plan.usage = assess_impact(plan, checked.state, live, evidence, now, {usage_settings.days, false});
    const auto senders = usage_by_sender(evidence, live, now - std::chrono::hours(24) * usage_settings.days);
    const std::vector<SenderRow> rows = rows_of(senders, checked.state, plan, now);
    // The basic_auth exceptions Entra refuses (security defaults, Conditional Access), read with Graph.
    const Diagnostics entra = plan_wants_entra(checked.state, now, session.get(), usage_settings.graph)
                                  ? entra_warnings(checked.state, live, *session, now, &logger)
                                  : Diagnostics{};
    switch (format) {
        case ReportFormat::json: render_json(context.out, rows, *plan.usage, entra); break;
        case ReportFormat::markdown:
            render_markdown(context.out, rows, *plan.usage, now);
            render_entra(context.out, entra, true);
            break;
        case ReportFormat::text:
            render_text(context.out, rows, *plan.usage, now);
            render_entra(context.out, entra, false);
            break;
    }
    // Every source asked for failed: nothing could be seen, which is not "nobody sends".
    const bool none_read = !evidence.sources.empty() && evidence.incomplete() &&
                           std::none_of(evidence.sources.begin(), evidence.sources.end(),
                                        [](const SourceReport& source) { return source.read; });
    if (none_read) {
        context.err << "error: no usage source could be read; who sends with SMTP AUTH is not known\n";
        return exit_error;
    }
    return exit_ok;
}

}  // namespace authgate
