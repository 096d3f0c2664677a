#include "agent/usage_evidence.h"

#include <set>
#include <tuple>

#include "agent/usage_error.h"
#include "policies/files.h"

namespace authgate {

void add_usage_options(po::options_description& options, bool with_accept_impact) {
    options.add_options()("days", po::value<int>(), "the window of usage evidence, in days (default 7)")(
        "smtp-auth-report", po::value<std::string>(),
        "the SMTP AUTH clients report exported from the Exchange admin center (CSV), covering --days");
    if (with_accept_impact)
        options.add_options()("accept-impact",
                              "accept cutting off mailboxes seen sending recently ([guardrails] recent_use_days)");
}

UsageOptions usage_options(const po::variables_map& values) {
    UsageOptions options;
    if (values.count("days")) {
        options.days = values["days"].as<int>();
        if (options.days < 1 || options.days > 180) throw UsageError("--days must be from 1 to 180");
    }
    if (values.count("smtp-auth-report")) options.smtp_auth_report = values["smtp-auth-report"].as<std::string>();
    options.accept_impact = values.count("accept-impact") > 0;
    return options;
}

UsageEvidence gather_usage(TenantSession* session, const UsageOptions& options, Instant now, Journal* journal,
                           const std::string& tenant, Logger* logger) {
    UsageEvidence evidence;
    const Instant from = now - std::chrono::hours(24) * options.days;
    const auto take = [&](std::vector<UsageObservation> observations, SourceReport report) {
        if (logger)
            logger->log(report.read ? LogLevel::info : LogLevel::warning, "usage",
                        std::string(to_string(report.source)) + (report.read ? " read" : " not read"),
                        {{"rows", std::to_string(report.rows)}, {"why_not", report.why_not}});
        for (UsageObservation& seen : observations) evidence.observations.push_back(std::move(seen));
        evidence.sources.push_back(std::move(report));
    };
    if (session && options.graph) {
        GraphUsageReader& graph = session->graph_usage();
        UsageRead sign_ins = graph.sign_ins(from, now);
        take(std::move(sign_ins.observations), std::move(sign_ins.report));
        UsageRead apps = graph.email_app_usage(options.days);
        take(std::move(apps.observations), std::move(apps.report));
    }
    if (options.smtp_auth_report) {
        const std::string text = read_file(*options.smtp_auth_report);
        if (const auto problem = utf16_problem(text)) {
            SourceReport report;
            report.source = UsageSource::smtp_auth_report;
            report.why_not = *options.smtp_auth_report + ": " + *problem;
            take({}, std::move(report));
        } else {
            ReportRead report = read_smtp_auth_report(text, *options.smtp_auth_report, from, now);
            take(std::move(report.observations), std::move(report.report));
        }
    }
    if (!journal) return evidence;
    if (!evidence.observations.empty()) journal->record_usage(tenant, evidence.observations, now);
    // What earlier reads saw and this one did not (older than the sources keep, or a source not
    // read now): one row per sender, source and protocol, the fresh one where both have it.
    std::set<std::tuple<std::string, UsageSource, SmtpProtocol>> fresh;
    for (const UsageObservation& seen : evidence.observations)
        fresh.emplace(fold_case(seen.address), seen.source, seen.protocol);
    for (UsageObservation& kept : journal->usage(tenant))
        if (!fresh.count({fold_case(kept.address), kept.source, kept.protocol}))
            evidence.observations.push_back(std::move(kept));
    return evidence;
}

bool plan_wants_usage(const DesiredState& desired, const UsageOptions& options) {
    return desired.guardrails.recent_use_days || desired.exception_settings.unused_days || options.smtp_auth_report;
}

std::optional<UsageEvidence> plan_evidence(const DesiredState& desired, UsageOptions options, TenantSession* session,
                                           Instant now, Journal* journal, const std::string& tenant, Logger* logger) {
    if (plan_wants_usage(desired, options)) return gather_usage(session, options, now, journal, tenant, logger);
    if (!journal || journal->usage(tenant).empty()) return std::nullopt;
    options.graph = false;
    return gather_usage(nullptr, options, now, journal, tenant, logger);
}

Diagnostics judge_usage(Plan& plan, const DesiredState& desired, const LiveState& live, const UsageEvidence& evidence,
                        Instant now, const UsageOptions& options) {
    int days = options.days;
    if (desired.guardrails.recent_use_days) days = std::max(days, desired.guardrails.recent_use_days->value);
    plan.usage = assess_impact(plan, desired, live, evidence, now, {days, options.accept_impact});
    Diagnostics warnings;
    warn_unused_exceptions(desired, live, evidence, now, warnings);
    for (const Diagnostic& warning : warnings.all()) plan.warnings.push_back(warning);
    Diagnostics errors;
    check_recent_use(*plan.usage, desired, options.accept_impact, errors);
    return errors;
}

}  // namespace authgate
